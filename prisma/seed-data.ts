import { createHash } from 'node:crypto';
import type { RoleName } from '../subgraphs/kit/identity.js';

/**
 * Synthetic demo data: invented organizations, people and record numbers. Nothing here is,
 * or is derived from, a real person. Ids are derived from stable names so seeding is
 * idempotent and tests and `npm run token` can refer to them.
 */
export function seedId(name: string): string {
  const hex = createHash('sha256').update(`caregraph-seed:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export const ORGS = {
  chain: { id: seedId('org:chain'), name: 'Meridian Care Network', kind: 'CHAIN', parentId: null },
  clinicNorth: { id: seedId('org:clinic-north'), name: 'Meridian Clinic North', kind: 'CLINIC', parentId: seedId('org:chain') },
  clinicSouth: { id: seedId('org:clinic-south'), name: 'Meridian Clinic South', kind: 'CLINIC', parentId: seedId('org:chain') },
  hospital: { id: seedId('org:hospital'), name: 'Riverside Teaching Hospital', kind: 'HOSPITAL', parentId: null },
} as const;

export interface SeedPatient {
  id: string;
  organizationId: string;
  mrn: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: 'FEMALE' | 'MALE' | 'OTHER' | 'UNKNOWN';
  phone: string;
  email: string;
  city: string;
  country: string;
}

const patient = (key: string, organizationId: string, mrn: string, givenName: string, familyName: string, birthDate: string, sex: SeedPatient['sex'], city: string, country: string): SeedPatient => ({
  id: seedId(`patient:${key}`),
  organizationId,
  mrn,
  givenName,
  familyName,
  birthDate,
  sex,
  // Reserved, non-routable contact values: 555-01xx numbers and the .invalid TLD.
  phone: `+1 555 01${String(mrn.length + key.length).padStart(2, '0')}`,
  email: `${key}@patients.example.invalid`,
  city,
  country,
});

export const PATIENTS = {
  amaraNorth: patient('amara', ORGS.clinicNorth.id, 'MCN-10001', 'Amara', 'Testwell', '1986-04-12', 'FEMALE', 'Lagos', 'NG'),
  bayoNorth: patient('bayo', ORGS.clinicNorth.id, 'MCN-10002', 'Bayo', 'Samplesson', '1972-11-30', 'MALE', 'Lagos', 'NG'),
  chidiNorth: patient('chidi', ORGS.clinicNorth.id, 'MCN-10003', 'Chidi', 'Placeholder', '2019-02-03', 'MALE', 'Lagos', 'NG'),
  devikaSouth: patient('devika', ORGS.clinicSouth.id, 'MCS-20001', 'Devika', 'Fictiva', '1990-07-21', 'FEMALE', 'Pune', 'IN'),
  eshanSouth: patient('eshan', ORGS.clinicSouth.id, 'MCS-20002', 'Eshan', 'Mockford', '1958-01-09', 'MALE', 'Pune', 'IN'),
  fayeHospital: patient('faye', ORGS.hospital.id, 'RTH-30001', 'Faye', 'Synthetica', '1979-09-15', 'FEMALE', 'Springfield', 'US'),
  gusHospital: patient('gus', ORGS.hospital.id, 'RTH-30002', 'Gus', 'Democase', '1966-05-27', 'MALE', 'Springfield', 'US'),
} as const;

export interface SeedUser {
  id: string;
  email: string;
  displayName: string;
  role: RoleName;
  organizationId: string;
  patientId?: string;
  practitioner?: { qualification: string; specialty?: string };
}

const user = (key: string, displayName: string, role: RoleName, organizationId: string, extra: Partial<SeedUser> = {}): SeedUser => ({
  id: seedId(`user:${key}`),
  email: `${key}@caregraph.example.invalid`,
  displayName,
  role,
  organizationId,
  ...extra,
});

/** One user for every role at Clinic North, and a few elsewhere for cross-organization checks. */
export const USERS = {
  patient: user('north-patient', 'Amara Testwell', 'PATIENT', ORGS.clinicNorth.id, { patientId: PATIENTS.amaraNorth.id }),
  learner: user('north-learner', 'Lee Learner', 'LEARNER', ORGS.clinicNorth.id),
  nurse: user('north-nurse', 'Nia Nurse', 'NURSE', ORGS.clinicNorth.id, { practitioner: { qualification: 'RN' } }),
  clinician: user('north-clinician', 'Dr Cal Clinician', 'CLINICIAN', ORGS.clinicNorth.id, { practitioner: { qualification: 'MD', specialty: 'Family medicine' } }),
  pharmacist: user('north-pharmacist', 'Phil Pharmacist', 'PHARMACIST', ORGS.clinicNorth.id, { practitioner: { qualification: 'PharmD' } }),
  billing: user('north-billing', 'Bea Billing', 'BILLING', ORGS.clinicNorth.id),
  partner: user('north-partner', 'Pat Partner', 'PARTNER', ORGS.clinicNorth.id),
  bi: user('north-bi', 'Bo Analyst', 'BI', ORGS.clinicNorth.id),
  admin: user('north-admin', 'Ada Admin', 'ADMIN', ORGS.clinicNorth.id),
  service: user('north-service', 'Reorder Job', 'SERVICE', ORGS.clinicNorth.id),
  device: user('north-lab', 'North Lab Interface', 'DEVICE', ORGS.clinicNorth.id),
  chainAdmin: user('chain-admin', 'Cy Chainadmin', 'ADMIN', ORGS.chain.id),
  hospitalAdmin: user('hospital-admin', 'Hal Hospitaladmin', 'ADMIN', ORGS.hospital.id),
  hospitalNurse: user('hospital-nurse', 'Hana Hospitalnurse', 'NURSE', ORGS.hospital.id, { practitioner: { qualification: 'RN' } }),
  hospitalPatient: user('hospital-patient', 'Faye Synthetica', 'PATIENT', ORGS.hospital.id, { patientId: PATIENTS.fayeHospital.id }),
  /** Acts for the second training partner, to check partners cannot see each other's cohorts. */
  otherPartner: user('southbank-partner', 'Sol Southbank', 'PARTNER', ORGS.clinicNorth.id),
} as const;

/**
 * Training partners. The launch secrets are local development values for the demo and the
 * tests, not credentials of any real system.
 */
export const PARTNERS = {
  northwind: {
    id: seedId('partner:northwind'),
    organizationId: ORGS.clinicNorth.id,
    name: 'Northwind Medical Education',
    launchIssuer: 'https://lms.northwind.example',
    launchSecret: 'dev-only-northwind-launch-secret-0001',
    principalId: seedId('user:north-partner'),
    learnerAppUrl: 'https://learn.northwind.example/caregraph',
  },
  southbank: {
    id: seedId('partner:southbank'),
    organizationId: ORGS.clinicNorth.id,
    name: 'Southbank Clinical Academy',
    launchIssuer: 'https://academy.southbank.example',
    launchSecret: 'dev-only-southbank-launch-secret-0002',
    principalId: seedId('user:southbank-partner'),
  },
} as const;

export const COHORTS = {
  northwindA: { id: seedId('cohort:northwind-a'), name: 'Northwind Emergency Medicine 2026', partnerId: PARTNERS.northwind.id, organizationId: ORGS.clinicNorth.id },
  southbank: { id: seedId('cohort:southbank'), name: 'Southbank Foundation Year', partnerId: PARTNERS.southbank.id, organizationId: ORGS.clinicNorth.id },
} as const;

export const CASE_SET_ID = seedId('caseset:emergency');
export const caseIdFor = (slug: string): string => seedId(`case:${slug}`);

/** The seeded user `npm run token -- --role R` picks: Clinic North's, or the first with that role. */
export function defaultUserForRole(role: RoleName, organizationId?: string): SeedUser | undefined {
  const all = Object.values(USERS) as SeedUser[];
  return all.find((u) => u.role === role && (!organizationId || u.organizationId === organizationId));
}
