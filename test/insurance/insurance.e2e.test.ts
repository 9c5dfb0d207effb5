import { GraphQLClient } from 'graphql-request';
import { PATIENTS } from '../../prisma/seed-data.js';
import type { InsuranceSettings } from '../../subgraphs/kit/config.js';
import { COVERAGES, PAYERS } from '../../subgraphs/insurance/seed.js';
import { FAKE_HMO_MAPPING, FakePayer } from '../support/fake-payers.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Insurance through the gateway, as billing staff and patients use it: eligibility asked of
 * an HMO's JSON API, an X12 payer and a FHIR payer (local fakes over HTTP), answered with
 * exact amounts; a second ask within the cache window served without asking the payer, one
 * after it asking again; a payer that is down answered by its last answer marked stale, or
 * by PAYER_UNAVAILABLE when there is none; coverages read by their patient and recorded by
 * staff; every read of a coverage or an answer audited.
 */
const hmo = new FakePayer('REST', [
  { memberId: 'HYG-SYN-1001', plan: 'Hygeia Gold Family', active: true, copay: '1500.50', coinsurancePercent: '10', deductibleRemaining: '25000' },
  { memberId: 'NHIS-SYN-2002', plan: 'NHIS Formal Sector', active: true, copay: '500' },
]);
const nhis = new FakePayer('REST', [{ memberId: 'NHIS-SYN-2002', plan: 'NHIS Formal Sector', active: true, copay: '500' }]);
const x12 = new FakePayer('X12', [{ memberId: 'SYNX-3001', plan: 'Synthetic PPO', active: true, copay: '25', coinsurancePercent: '20', deductibleRemaining: '1250.75' }]);
const fhir = new FakePayer('FHIR', [{ memberId: 'SYNF-4001', plan: 'Synthetic HMO Silver', active: true, copay: '15.50', deductibleRemaining: '500.00' }]);
const CACHE_SECONDS = 2;

let t: TestPlatform;
let billing: GraphQLClient;
let hospital: GraphQLClient;

const ELIGIBILITY = `query($patientId: ID!, $payerId: ID!, $serviceType: String!) {
  checkEligibility(patientId: $patientId, payerId: $payerId, serviceType: $serviceType) {
    inForce planName currency copay coinsurancePercent deductibleRemaining rejection protocol cached stale error checkedAt
    benefits { code amount percent }
  }
}`;
interface Eligibility { inForce: boolean; planName: string | null; currency: string; copay: number | null; coinsurancePercent: string | null; deductibleRemaining: number | null; protocol: string; cached: boolean; stale: boolean; error: string | null; checkedAt: string; benefits: Array<{ code: string }> }
const check = async (client: GraphQLClient, patientId: string, payerId: string, serviceType = '30'): Promise<Eligibility> =>
  (await client.request<{ checkEligibility: Eligibility }>(ELIGIBILITY, { patientId, payerId, serviceType })).checkEligibility;

beforeAll(async () => {
  await Promise.all([hmo.start(), nhis.start(), x12.start(), fhir.start()]);
  const insurance: InsuranceSettings = {
    payers: {
      HYGEIA: { protocol: 'REST', baseUrl: hmo.baseUrl, apiKey: 'fake-key', currency: 'NGN', mapping: FAKE_HMO_MAPPING },
      NHIS: { protocol: 'REST', baseUrl: nhis.baseUrl, apiKey: 'fake-key', currency: 'NGN', mapping: FAKE_HMO_MAPPING },
      SYNTH_X12: { protocol: 'X12', baseUrl: x12.baseUrl, apiKey: 'fake-key', currency: 'USD', payerId: 'FAKEPAYER' },
      SYNTH_FHIR: { protocol: 'FHIR', baseUrl: fhir.baseUrl, apiKey: 'fake-key' },
    },
    eligibilityCacheSeconds: CACHE_SECONDS,
    resilience: { attempts: 2, initialBackoffMs: 5, breakerThreshold: 50, defaultTimeoutMs: 2_000 },
  };
  t = await startTestPlatform({ insurance });
  billing = await t.client('billing');
  hospital = await t.client('hospitalAdmin');
});
afterAll(async () => {
  await t?.close();
  await Promise.all([hmo.stop(), nhis.stop(), x12.stop(), fhir.stop()]);
});

describe('eligibility against each protocol, through the gateway', () => {
  it('an HMO (JSON API): in force with copay, coinsurance and deductible in kobo; cached within the window, asked again after it', async () => {
    const first = await check(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id);
    expect(first).toMatchObject({ inForce: true, planName: 'Hygeia Gold Family', currency: 'NGN', copay: 150050, coinsurancePercent: '10', deductibleRemaining: 2500000, protocol: 'REST', cached: false, stale: false, error: null });
    expect(hmo.requests).toHaveLength(1);
    expect(hmo.requests[0]?.path).toBe('/api/v1/enrollees/HYG-SYN-1001/eligibility?benefit=30');

    const second = await check(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id);
    expect(second).toMatchObject({ inForce: true, copay: 150050, cached: true, checkedAt: first.checkedAt });
    expect(hmo.requests).toHaveLength(1);

    // Another service type is another question.
    expect((await check(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id, '98')).cached).toBe(false);
    expect(hmo.requests).toHaveLength(2);

    await new Promise((done) => setTimeout(done, CACHE_SECONDS * 1000 + 200));
    const third = await check(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id);
    expect(third.cached).toBe(false);
    expect(Date.parse(third.checkedAt)).toBeGreaterThan(Date.parse(first.checkedAt));
    expect(hmo.requests).toHaveLength(3);
  });

  it('an X12 payer (270 → 271): in force, amounts in cents, coinsurance from the EB08 fraction', async () => {
    const answer = await check(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id);
    expect(answer).toMatchObject({ inForce: true, planName: 'Synthetic PPO', currency: 'USD', copay: 2500, coinsurancePercent: '20', deductibleRemaining: 125075, protocol: 'X12', cached: false });
    expect(x12.requests[0]?.body).toContain('NM1*IL*1*Synthetica*Faye****MI*SYNX-3001~');
  });

  it('a FHIR payer (CoverageEligibilityRequest → Response): in force, money to its written precision', async () => {
    const answer = await check(hospital, PATIENTS.gusHospital.id, PAYERS.fhir.id);
    expect(answer).toMatchObject({ inForce: true, planName: 'Synthetic HMO Silver', currency: 'USD', copay: 1550, deductibleRemaining: 50000, protocol: 'FHIR' });
    expect(JSON.parse(fhir.requests[0]?.body ?? '{}')).toMatchObject({ resourceType: 'CoverageEligibilityRequest', patient: { identifier: { value: 'SYNF-4001' } } });
  });
});

describe('when a payer is down', () => {
  it('the last answer of the day is returned marked stale, with the error', async () => {
    const fresh = await check(billing, PATIENTS.bayoNorth.id, PAYERS.nhis.id);
    expect(fresh).toMatchObject({ inForce: true, copay: 50000, stale: false });
    nhis.mode = 'down';
    try {
      await new Promise((done) => setTimeout(done, CACHE_SECONDS * 1000 + 200));
      const stale = await check(billing, PATIENTS.bayoNorth.id, PAYERS.nhis.id);
      expect(stale).toMatchObject({ inForce: true, copay: 50000, stale: true, cached: false, checkedAt: fresh.checkedAt });
      expect(stale.error).toMatch(/Payer NHIS failed \(HTTP 503\)/);

      // Chidi (Bayo's dependant, same member id) was never asked: nothing to fall back on.
      const { status, json } = await postGraphQL(t.graphqlUrl, { query: ELIGIBILITY, variables: { patientId: PATIENTS.chidiNorth.id, payerId: PAYERS.nhis.id, serviceType: '30' } }, { authorization: `Bearer ${await t.tokenFor('billing')}` });
      expect(status).toBe(200);
      expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'PAYER_UNAVAILABLE', retryable: true });
      expect(json.errors?.[0]?.message).toBe('Payer NHIS failed (HTTP 503)');
    } finally {
      nhis.mode = 'ok';
    }
  });
});

describe('bad questions get precise errors and ask no payer', () => {
  it('no coverage with that payer, an unknown service type code, another organization’s patient', async () => {
    const asked = hmo.requests.length;
    const errorOf = async (variables: Record<string, unknown>, user: 'billing' | 'hospitalAdmin' = 'billing') =>
      (await postGraphQL(t.graphqlUrl, { query: ELIGIBILITY, variables }, { authorization: `Bearer ${await t.tokenFor(user)}` })).json.errors?.[0]?.extensions?.['code'];
    expect(await errorOf({ patientId: PATIENTS.amaraNorth.id, payerId: PAYERS.leadway.id, serviceType: '30' })).toBe('NOT_FOUND');
    expect(await errorOf({ patientId: PATIENTS.amaraNorth.id, payerId: PAYERS.hygeia.id, serviceType: 'health' })).toBe('BAD_USER_INPUT');
    expect(await errorOf({ patientId: PATIENTS.fayeHospital.id, payerId: PAYERS.x12.id, serviceType: '30' })).toBe('FORBIDDEN');
    expect(hmo.requests.length).toBe(asked);
  });
});

describe('coverages', () => {
  it('a patient reads their own coverage with its payer and latest answer; staff record a new one', async () => {
    const { json } = await postGraphQL(t.graphqlUrl, { query: `query($id: ID!) { coverage(id: $id) { memberId plan payer { name protocol } subscriber { relationship } lastEligibility { inForce copay } } }`, variables: { id: COVERAGES.amaraHygeia.id } }, { authorization: `Bearer ${await t.tokenFor('patient')}` });
    expect(json.errors).toBeUndefined();
    expect(json.data?.['coverage']).toEqual({ memberId: 'HYG-SYN-1001', plan: 'Hygeia Gold Family', payer: { name: 'Hygeia HMO', protocol: 'REST' }, subscriber: { relationship: 'SELF' }, lastEligibility: { inForce: true, copay: 150050 } });

    const added = await billing.request<{ addCoverage: { id: string; memberId: string; relationship?: string } }>(
      `mutation($input: AddCoverageInput!) { addCoverage(input: $input) { id memberId } }`,
      { input: { patientId: PATIENTS.bayoNorth.id, payerId: PAYERS.reliance.id, memberId: 'REL-SYN-5005', plan: 'Reliance Red Beryl', subscriberFirstName: 'Bayo', subscriberLastName: 'Samplesson', subscriberBirthDate: '1972-11-30', periodStart: '2026-06-01' } },
    );
    expect(added.addCoverage.memberId).toBe('REL-SYN-5005');
    const duplicate = await postGraphQL(t.graphqlUrl, { query: `mutation { addCoverage(input: {patientId: "${PATIENTS.bayoNorth.id}", payerId: "${PAYERS.reliance.id}", memberId: "REL-SYN-5005", plan: "Again", subscriberFirstName: "Bayo", subscriberLastName: "Samplesson", periodStart: "2026-06-01"}) { id } }` }, { authorization: `Bearer ${await t.tokenFor('billing')}` });
    expect(duplicate.json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.memberId' });
    const badDates = await postGraphQL(t.graphqlUrl, { query: `mutation { addCoverage(input: {patientId: "${PATIENTS.bayoNorth.id}", payerId: "${PAYERS.leadway.id}", memberId: "LW-1", plan: "Plan", subscriberFirstName: "Bayo", subscriberLastName: "Samplesson", periodStart: "2026-06-01", periodEnd: "2026-01-01"}) { id } }` }, { authorization: `Bearer ${await t.tokenFor('billing')}` });
    expect(badDates.json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.periodEnd' });
  });

  it('every read of a coverage and of an eligibility answer leaves an audit entry, never the values', async () => {
    const audits = await t.platform.database.prisma.auditEvent.findMany({ where: { source: 'insurance' } });
    expect(audits.some((entry) => entry.entityType === 'Coverage' && entry.action === 'read')).toBe(true);
    expect(audits.some((entry) => entry.entityType === 'EligibilityCheck')).toBe(true);
    expect(JSON.stringify(audits)).not.toContain('HYG-SYN-1001');
  });
});
