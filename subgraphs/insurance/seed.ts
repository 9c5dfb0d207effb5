import { ORGS, PATIENTS, seedId } from '../../prisma/seed-data.js';
import type { SubgraphDeps } from '../kit/context.js';

/**
 * Insurance's synthetic demo data: the five Nigerian HMOs and schemes of the seed (reached
 * through their JSON APIs), one X12 and one FHIR payer (synthetic), which of them each clinic
 * is enrolled with, and coverages for seeded patients. Member ids are invented. Idempotent.
 */
export const PAYERS = {
  nhis: { id: seedId('payer:nhis'), code: 'NHIS', name: 'National Health Insurance Scheme', country: 'NG', protocol: 'REST', currency: 'NGN' },
  hygeia: { id: seedId('payer:hygeia'), code: 'HYGEIA', name: 'Hygeia HMO', country: 'NG', protocol: 'REST', currency: 'NGN' },
  reliance: { id: seedId('payer:reliance'), code: 'RELIANCE', name: 'Reliance HMO', country: 'NG', protocol: 'REST', currency: 'NGN' },
  axaMansard: { id: seedId('payer:axa-mansard'), code: 'AXA_MANSARD', name: 'AXA Mansard Health', country: 'NG', protocol: 'REST', currency: 'NGN' },
  leadway: { id: seedId('payer:leadway'), code: 'LEADWAY', name: 'Leadway Health', country: 'NG', protocol: 'REST', currency: 'NGN' },
  x12: { id: seedId('payer:synthetic-x12'), code: 'SYNTH_X12', name: 'Synthetic Mutual (X12)', country: 'US', protocol: 'X12', currency: 'USD' },
  fhir: { id: seedId('payer:synthetic-fhir'), code: 'SYNTH_FHIR', name: 'Synthetic Health Plan (FHIR)', country: 'US', protocol: 'FHIR', currency: 'USD' },
} as const;

export const COVERAGES = {
  amaraHygeia: { id: seedId('coverage:amara:hygeia'), organizationId: ORGS.clinicNorth.id, patientId: PATIENTS.amaraNorth.id, payerId: PAYERS.hygeia.id, memberId: 'HYG-SYN-1001', plan: 'Hygeia Gold Family', subscriberFirstName: 'Amara', subscriberLastName: 'Testwell', subscriberBirthDate: '1986-04-12', relationship: 'SELF' },
  bayoNhis: { id: seedId('coverage:bayo:nhis'), organizationId: ORGS.clinicNorth.id, patientId: PATIENTS.bayoNorth.id, payerId: PAYERS.nhis.id, memberId: 'NHIS-SYN-2002', plan: 'NHIS Formal Sector', subscriberFirstName: 'Bayo', subscriberLastName: 'Samplesson', subscriberBirthDate: '1972-11-30', relationship: 'SELF' },
  chidiNhis: { id: seedId('coverage:chidi:nhis'), organizationId: ORGS.clinicNorth.id, patientId: PATIENTS.chidiNorth.id, payerId: PAYERS.nhis.id, memberId: 'NHIS-SYN-2002', plan: 'NHIS Formal Sector', subscriberFirstName: 'Bayo', subscriberLastName: 'Samplesson', subscriberBirthDate: '1972-11-30', relationship: 'CHILD' },
  fayeX12: { id: seedId('coverage:faye:x12'), organizationId: ORGS.hospital.id, patientId: PATIENTS.fayeHospital.id, payerId: PAYERS.x12.id, memberId: 'SYNX-3001', plan: 'Synthetic PPO', subscriberFirstName: 'Faye', subscriberLastName: 'Synthetica', subscriberBirthDate: '1979-09-15', relationship: 'SELF' },
  gusFhir: { id: seedId('coverage:gus:fhir'), organizationId: ORGS.hospital.id, patientId: PATIENTS.gusHospital.id, payerId: PAYERS.fhir.id, memberId: 'SYNF-4001', plan: 'Synthetic HMO Silver', subscriberFirstName: 'Gus', subscriberLastName: 'Democase', subscriberBirthDate: '1966-05-27', relationship: 'SELF' },
} as const;

const ENROLLMENTS = [
  ...[PAYERS.nhis, PAYERS.hygeia, PAYERS.reliance, PAYERS.axaMansard, PAYERS.leadway].map((payer) => ({ organizationId: ORGS.clinicNorth.id, payerId: payer.id, providerNumber: `MCN-${payer.code}`, providerName: ORGS.clinicNorth.name, location: 'Lagos' })),
  ...[PAYERS.x12, PAYERS.fhir].map((payer) => ({ organizationId: ORGS.hospital.id, payerId: payer.id, providerNumber: '1234567893', providerName: ORGS.hospital.name, location: 'Springfield' })),
];

/**
 * Synthetic tariffs: what each plan pays at most per unit (minor units of its currency) and
 * which procedures need authorization first (imaging, surgery).
 */
const NAIRA_TARIFF = [
  { procedureCode: '99213', maxAmount: 1_500_000, requiresAuthorization: false },
  { procedureCode: '85025', maxAmount: 500_000, requiresAuthorization: false },
  { procedureCode: '70553', maxAmount: 18_000_000, requiresAuthorization: true },
  { procedureCode: '27447', maxAmount: 250_000_000, requiresAuthorization: true },
];
const DOLLAR_TARIFF = [
  { procedureCode: '99213', maxAmount: 15_000, requiresAuthorization: false },
  { procedureCode: '85025', maxAmount: 5_000, requiresAuthorization: false },
  { procedureCode: '70553', maxAmount: 200_000, requiresAuthorization: true },
  { procedureCode: '27447', maxAmount: 3_000_000, requiresAuthorization: true },
];

export async function seedInsurance({ prisma }: SubgraphDeps): Promise<void> {
  for (const payer of Object.values(PAYERS)) {
    await prisma.payer.upsert({ where: { id: payer.id }, create: payer, update: { name: payer.name, protocol: payer.protocol, currency: payer.currency } });
  }
  for (const payer of Object.values(PAYERS)) {
    for (const tariff of payer.currency === 'NGN' ? NAIRA_TARIFF : DOLLAR_TARIFF) {
      await prisma.payerTariff.upsert({
        where: { payerId_procedureCode: { payerId: payer.id, procedureCode: tariff.procedureCode } },
        create: { id: seedId(`tariff:${payer.code}:${tariff.procedureCode}`), payerId: payer.id, ...tariff },
        update: {},
      });
    }
  }
  for (const enrollment of ENROLLMENTS) {
    await prisma.payerEnrollment.upsert({
      where: { organizationId_payerId: { organizationId: enrollment.organizationId, payerId: enrollment.payerId } },
      create: { id: seedId(`enrollment:${enrollment.organizationId}:${enrollment.payerId}`), ...enrollment },
      update: {},
    });
  }
  for (const coverage of Object.values(COVERAGES)) {
    await prisma.coverage.upsert({
      where: { id: coverage.id },
      create: { ...coverage, subscriberBirthDate: new Date(coverage.subscriberBirthDate), periodStart: new Date('2026-01-01'), periodEnd: new Date('2026-12-31') },
      update: {},
    });
  }
}
