import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { GraphQLClient } from 'graphql-request';
import { PATIENTS } from '../../prisma/seed-data.js';
import { signRemittance, SIGNATURE_HEADER } from '../../subgraphs/insurance/remittance.js';
import { PAYERS } from '../../subgraphs/insurance/seed.js';
import { FAKE_HMO_MAPPING, FakePayer } from '../support/fake-payers.js';
import { an835, postRemittance as postTo } from '../support/remittances.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * Claims through the gateway, from draft to money: a claim drafted for a patient's coverage,
 * sent to an X12 payer as an 837 and acknowledged by its 999 and 277CA, paid by an 835 the
 * payer posts (signed) to the remittance webhook, and the `claim.settled` event delivered to
 * the webhook endpoint a TPA registered. A batch of 200 with 3 that cannot go: 197 sent in one
 * 837, 3 precise failures, nothing lost. FHIR and HMO payers acknowledge their way; a payer
 * that is down leaves the claim a draft; a bad or repeated remittance changes nothing.
 */
const x12 = new FakePayer('X12', [{ memberId: 'SYNX-3001', plan: 'Synthetic PPO', active: true }]);
const fhir = new FakePayer('FHIR', [{ memberId: 'SYNF-4001', plan: 'Synthetic HMO Silver', active: true }]);
const hmo = new FakePayer('REST', [{ memberId: 'HYG-SYN-1001', plan: 'Hygeia Gold Family', active: true }]);
const X12_SECRET = 'whsec-synthetic-x12';
const DROP = mkdtempSync(join(tmpdir(), 'caregraph-remittance-drop-'));
const FHIR_SECRET = 'whsec-synthetic-fhir';

let t: TestPlatform;
let hospital: GraphQLClient;
let billing: GraphQLClient;
let receiver: Server;
const delivered: Array<{ type: string; payload: Record<string, unknown> }> = [];

const CLAIM_FIELDS = 'id status adjudication totalCharge approvedAmount paidAmount patientResponsibility payerClaimNumber reasons currency history { from to }';
interface ClaimView { id: string; status: string; adjudication: string | null; totalCharge: number; approvedAmount: number | null; paidAmount: number | null; patientResponsibility: number | null; payerClaimNumber: string | null; reasons: string[]; currency: string; history: Array<{ from: string | null; to: string }> }

async function draft(client: GraphQLClient, patientId: string, payerId: string, options: { charge?: number; diagnosis?: string; serviceDate?: string } = {}): Promise<ClaimView> {
  const { createClaim } = await client.request<{ createClaim: ClaimView }>(`mutation($input: CreateClaimInput!) { createClaim(input: $input) { ${CLAIM_FIELDS} } }`, {
    input: {
      patientId, payerId, diagnoses: [options.diagnosis ?? 'J06.9', 'R50.9'], placeOfService: '11',
      lines: [
        { procedureCode: '99213', modifiers: ['25'], charge: (options.charge ?? 12_050) - 5_000, units: 1, diagnosisPointers: [1, 2], serviceDate: options.serviceDate ?? '2026-11-02' },
        { procedureCode: '85025', charge: 5_000, units: 1, diagnosisPointers: [1], serviceDate: options.serviceDate ?? '2026-11-02' },
      ],
    },
  });
  return createClaim;
}

const submit = async (client: GraphQLClient, id: string): Promise<ClaimView> =>
  (await client.request<{ submitClaim: ClaimView }>(`mutation($id: ID!) { submitClaim(id: $id) { ${CLAIM_FIELDS} } }`, { id })).submitClaim;
const claimOf = async (client: GraphQLClient, id: string): Promise<ClaimView> =>
  (await client.request<{ claim: ClaimView }>(`query($id: ID!) { claim(id: $id) { ${CLAIM_FIELDS} } }`, { id })).claim;


const postRemittance = (payer: string, body: string, contentType: string, secret: string) => postTo(t.baseUrl, payer, body, contentType, secret);

beforeAll(async () => {
  hmo.network = [
    { providerNumber: 'MCN-HYGEIA', name: 'Meridian Clinic North', tier: 'Standard', location: 'Lagos' },
    { providerNumber: 'LUTH-001', name: 'Synthetic Teaching Hospital', tier: 'Teaching', location: 'Lagos' },
    { providerNumber: 'ABJ-9', name: 'Elsewhere Clinic', tier: 'Premium', location: 'Abuja' },
  ];
  fhir.network = [{ providerNumber: 'OTHER-1', name: 'Another Practice', tier: 'Premium', location: 'Springfield' }];
  await Promise.all([x12.start(), fhir.start(), hmo.start()]);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { event: { type: string; payload: Record<string, unknown> } };
      delivered.push({ type: body.event.type, payload: body.event.payload });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  t = await startTestPlatform({
    insurance: {
      payers: {
        SYNTH_X12: { protocol: 'X12', baseUrl: x12.baseUrl, apiKey: 'fake-key', currency: 'USD', payerId: 'FAKEPAYER', webhookSecret: X12_SECRET },
        SYNTH_FHIR: { protocol: 'FHIR', baseUrl: fhir.baseUrl, apiKey: 'fake-key', currency: 'USD', webhookSecret: FHIR_SECRET },
        HYGEIA: { protocol: 'REST', baseUrl: hmo.baseUrl, apiKey: 'fake-key', currency: 'NGN', mapping: FAKE_HMO_MAPPING },
      },
      resilience: { attempts: 1, initialBackoffMs: 5, breakerThreshold: 50, defaultTimeoutMs: 5_000 },
      remittanceDropDir: DROP,
    },
  });
  hospital = await t.client('hospitalAdmin');
  billing = await t.client('billing');
  // A TPA's endpoint, registered by the hospital's administrator, for settled claims only.
  await hospital.request(`mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`, {
    input: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/tpa`, eventTypes: ['claim.settled'] },
  });
}, 120_000);
afterAll(async () => {
  await t?.close();
  receiver?.close();
  await Promise.all([x12.stop(), fhir.stop(), hmo.stop()]);
});

describe('a claim from draft to payment with an X12 payer', () => {
  it('837 → 999 + 277CA accepted → signed 835 → paid, with its history and the claim.settled event at the TPA', async () => {
    const claim = await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id, { charge: 12_050 });
    expect(claim).toMatchObject({ status: 'DRAFT', totalCharge: 12_050, currency: 'USD', history: [{ from: null, to: 'DRAFT' }] });

    const sent = await submit(hospital, claim.id);
    expect(sent).toMatchObject({ status: 'ACCEPTED', payerClaimNumber: 'X12-PCN-1' });
    const transmitted = x12.requests.at(-1)?.body ?? '';
    // X12 decimals drop trailing zeros (120.5); ICD-10 codes go without their dot.
    expect(transmitted).toContain(`CLM*${claim.id}*120.5***11:B:1*Y*A*Y*Y~HI*ABK:J069*ABF:R509~`);
    expect(transmitted).toContain('SV1*HC:99213:25*70.5*UN*1***1:2~');

    const remittance = an835([{ id: claim.id, charge: '120.50', paid: '100.50', responsibility: '20', payerClaimNumber: 'X12-PCN-1' }], 'EFT-0001');
    const posted = await postRemittance('SYNTH_X12', remittance, 'application/edi-x12', X12_SECRET);
    expect(posted.status).toBe(200);
    expect(posted.json['remittances']).toEqual([expect.objectContaining({ duplicate: false, settled: 1, denied: 0, unmatched: 0 })]);

    const paid = await claimOf(hospital, claim.id);
    expect(paid).toMatchObject({ status: 'PAID', adjudication: 'PARTIALLY_APPROVED', approvedAmount: 10_050, paidAmount: 10_050, patientResponsibility: 2_000, reasons: ['PR-2'] });
    expect(paid.history.map((step) => step.to)).toEqual(['DRAFT', 'SUBMITTED', 'ACCEPTED', 'ADJUDICATED', 'PAID']);

    const settled = await until(async () => delivered.find((event) => event.type === 'claim.settled' && event.payload['claimId'] === claim.id), (found) => found !== undefined, 'claim.settled at the TPA');
    expect(settled?.payload).toMatchObject({ paidAmount: 10_050, patientResponsibility: 2_000, currency: 'USD', status: 'PAID' });
    // Only what it subscribed to reaches it.
    expect(delivered.every((event) => event.type === 'claim.settled')).toBe(true);
    const events = await t.platform.database.prisma.outboxEvent.findMany({ where: { aggregateId: claim.id }, orderBy: { seq: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['claim.created', 'claim.submitted', 'claim.accepted', 'claim.approved', 'claim.settled']);

    // The same 835 again: recognised by its trace, nothing changes, no second event.
    const again = await postRemittance('SYNTH_X12', remittance, 'application/edi-x12', X12_SECRET);
    expect(again.json['remittances']).toEqual([expect.objectContaining({ duplicate: true, settled: 0 })]);
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { aggregateId: claim.id } })).toBe(5);
  });

  it('a remittance that is badly signed, malformed or names claims that are not ours: 400 or kept as unmatched, nothing else changes', async () => {
    const claim = await submit(hospital, (await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id)).id);
    const good = an835([{ id: claim.id, charge: '120.50', paid: '120.50', responsibility: '0', payerClaimNumber: claim.payerClaimNumber ?? '' }], 'EFT-0002');

    const unsigned = await fetch(`${t.baseUrl}/webhooks/insurance/SYNTH_X12/remittance`, { method: 'POST', headers: { 'content-type': 'application/edi-x12', [SIGNATURE_HEADER]: signRemittance('wrong-secret', good) }, body: good });
    expect(unsigned.status).toBe(400);
    const wrongCount = good.replace(/SE\*(\d+)\*/, (_, count: string) => `SE*${Number(count) + 1}*`);
    const malformed = await postRemittance('SYNTH_X12', wrongCount, 'application/edi-x12', X12_SECRET);
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.json)).toMatch(/"code":"COUNT_MISMATCH".*"segmentId":"SE"/);
    expect((await claimOf(hospital, claim.id)).status).toBe('ACCEPTED');
    expect(await t.platform.database.prisma.remittance.count({ where: { traceNumber: 'EFT-0002' } })).toBe(0);

    const withStranger = an835([
      { id: claim.id, charge: '120.50', paid: '120.50', responsibility: '0', payerClaimNumber: claim.payerClaimNumber ?? '' },
      { id: 'NOT-OURS-1', charge: '50', paid: '50', responsibility: '0', payerClaimNumber: 'X' },
    ], 'EFT-0002');
    const applied = await postRemittance('SYNTH_X12', withStranger, 'application/edi-x12', X12_SECRET);
    expect(applied.json['remittances']).toEqual([expect.objectContaining({ settled: 1, unmatched: 1 })]);
    expect((await claimOf(hospital, claim.id))).toMatchObject({ status: 'PAID', adjudication: 'APPROVED' });
    const stored = await t.platform.database.prisma.remittance.findFirstOrThrow({ where: { traceNumber: 'EFT-0002' } });
    expect(stored.unmatched).toEqual([{ claimId: 'NOT-OURS-1', paid: 5000 }]);
  });

  it('a denial: the 835 pays nothing, the claim is adjudicated denied with its reasons', async () => {
    const claim = await submit(hospital, (await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id)).id);
    const posted = await postRemittance('SYNTH_X12', an835([{ id: claim.id, charge: '120.50', paid: '0', responsibility: '120.50', payerClaimNumber: claim.payerClaimNumber ?? '', status: '4' }], 'EFT-0003'), 'application/edi-x12', X12_SECRET);
    expect(posted.json['remittances']).toEqual([expect.objectContaining({ settled: 0, denied: 1 })]);
    expect(await claimOf(hospital, claim.id)).toMatchObject({ status: 'ADJUDICATED', adjudication: 'DENIED', reasons: ['PR-2'] });
  });
});

describe('pre-authorization', () => {
  const REQUEST = `mutation($input: PreAuthorizationInput!) { requestPreAuthorization(input: $input) { id status authCode estimatedTotal currency approvedAt expiresAt services { procedureCode units estimatedCost } } }`;
  interface Authorization { id: string; status: string; authCode: string | null; estimatedTotal: number; currency: string; approvedAt: string | null; expiresAt: string | null }
  const mri = (estimatedCost: number) => ({ patientId: PATIENTS.amaraNorth.id, payerId: PAYERS.hygeia.id, diagnoses: ['G43.909'], services: [{ procedureCode: '70553', units: 1, estimatedCost }] });
  const mriClaim = (priorAuthorization?: string) => `mutation { createClaim(input: {patientId: "${PATIENTS.amaraNorth.id}", payerId: "${PAYERS.hygeia.id}", diagnoses: ["G43.909"], placeOfService: "11"${priorAuthorization ? `, priorAuthorization: "${priorAuthorization}"` : ''}, lines: [{procedureCode: "70553", charge: 15000000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-20"}]}) { id status } }`;
  const errorOf = async (query: string, variables?: Record<string, unknown>) => (await postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${await t.tokenFor('billing')}` })).json.errors?.[0];

  it('an MRI within the plan’s tariff is approved for 30 days, and a claim citing it goes; without it, or with a code of another patient, it is refused before it leaves', async () => {
    const { requestPreAuthorization: approval } = await billing.request<{ requestPreAuthorization: Authorization }>(REQUEST, { input: mri(15_000_000) });
    expect(approval).toMatchObject({ status: 'APPROVED', authCode: 'REST-AUTH-1', estimatedTotal: 15_000_000, currency: 'NGN' });
    expect(Date.parse(approval.expiresAt ?? '') - Date.parse(approval.approvedAt ?? '')).toBe(30 * 86_400_000);
    expect(JSON.parse(hmo.authorizations[0]?.body ?? '{}')).toMatchObject({ requestId: approval.id, services: [{ procedureCode: '70553', units: 1, estimatedCost: '150000' }] });

    const missing = await errorOf(mriClaim());
    expect(missing?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.priorAuthorization' });
    expect(missing?.message).toBe("input.priorAuthorization: 70553 needs the payer's prior authorization; cite its code");
    expect((await errorOf(mriClaim('NO-SUCH-AUTH')))?.message).toMatch(/authorization NO-SUCH-AUTH is not an approval of this patient's payer/);

    const { createClaim } = await billing.request<{ createClaim: { id: string } }>(mriClaim(approval.authCode ?? ''));
    expect((await submit(billing, createClaim.id)).status).toBe('ACCEPTED');
  });

  it('an estimate above the tariff, or a service not on it, is refused before the payer is asked', async () => {
    const asked = hmo.authorizations.length;
    const above = await errorOf(REQUEST, { input: mri(18_000_001) });
    expect(above?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.services[0].estimatedCost' });
    expect(above?.message).toMatch(/180000\.01 NGN is above the tariff of 180000 for 1 × 70553/);
    const offTariff = await errorOf(REQUEST, { input: { ...mri(1000), services: [{ procedureCode: '99999', units: 1, estimatedCost: 1000 }] } });
    expect(offTariff?.message).toMatch(/99999 is not on Hygeia HMO's tariff/);
    expect(hmo.authorizations.length).toBe(asked);
  });

  it('an approval that has expired since the draft stops the claim when it is sent', async () => {
    const { requestPreAuthorization: approval } = await billing.request<{ requestPreAuthorization: Authorization }>(REQUEST, { input: mri(10_000_000) });
    const { createClaim } = await billing.request<{ createClaim: { id: string } }>(mriClaim(approval.authCode ?? ''));
    await t.platform.database.prisma.priorAuthorization.update({ where: { id: approval.id }, data: { expiresAt: new Date(Date.now() - 86_400_000) } });
    const { submitClaimBatch } = await billing.request<{ submitClaimBatch: { failed: Array<{ code: string; message: string }> } }>(`mutation { submitClaimBatch(ids: ["${createClaim.id}"]) { failed { code message } } }`);
    expect(submitClaimBatch.failed).toEqual([{ code: 'CONFLICT', message: expect.stringMatching(new RegExp(`^authorization ${approval.authCode} expired on \\d{4}-\\d{2}-\\d{2}$`)) }]);
  });

  it('a FHIR payer answers a Claim with use preauthorization; an X12 payer takes none here (PAYER_UNAVAILABLE, NOT_SUPPORTED)', async () => {
    const { requestPreAuthorization } = await hospital.request<{ requestPreAuthorization: Authorization }>(REQUEST, { input: { patientId: PATIENTS.gusHospital.id, payerId: PAYERS.fhir.id, diagnoses: ['M17.11'], services: [{ procedureCode: '27447', units: 1, estimatedCost: 2_500_050 }] } });
    expect(requestPreAuthorization).toMatchObject({ status: 'APPROVED', authCode: 'FHIR-AUTH-1', currency: 'USD' });
    // The estimate goes out as the exact decimal: 25000.50, not 25000.5.
    expect(fhir.authorizations[0]?.body).toContain('"net":{"value":25000.50,"currency":"USD"}');
    const { json } = await postGraphQL(t.graphqlUrl, { query: REQUEST, variables: { input: { patientId: PATIENTS.fayeHospital.id, payerId: PAYERS.x12.id, diagnoses: ['M17.11'], services: [{ procedureCode: '27447', units: 1, estimatedCost: 100 }] } } }, { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` });
    expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'PAYER_UNAVAILABLE', reason: 'NOT_SUPPORTED' });
  });
});

describe('provider networks', () => {
  const NETWORK = `query($payerId: ID!, $location: String!) { providerNetwork(payerId: $payerId, location: $location) { location cached providers { providerNumber name tier } } }`;
  it('an HMO’s network in a city with its tiers, kept 24 hours; claims flagged when the provider is out of network', async () => {
    type Network = { providerNetwork: { cached: boolean; providers: Array<{ providerNumber: string; name: string; tier: string }> } };
    const lagos = await billing.request<Network>(NETWORK, { payerId: PAYERS.hygeia.id, location: 'Lagos' });
    expect(lagos.providerNetwork.providers).toEqual([{ providerNumber: 'MCN-HYGEIA', name: 'Meridian Clinic North', tier: 'STANDARD' }, { providerNumber: 'LUTH-001', name: 'Synthetic Teaching Hospital', tier: 'TEACHING' }]);
    // Abuja has not been read before: asked once, then served from the cache (to a patient too).
    const asked = hmo.requests.length;
    const abuja = await billing.request<Network>(NETWORK, { payerId: PAYERS.hygeia.id, location: 'Abuja' });
    expect(abuja.providerNetwork).toEqual({ location: 'Abuja', cached: false, providers: [{ providerNumber: 'ABJ-9', name: 'Elsewhere Clinic', tier: 'PREMIUM' }] });
    const patient = await t.client('patient');
    expect((await patient.request<Network>(NETWORK, { payerId: PAYERS.hygeia.id, location: 'abuja' })).providerNetwork.cached).toBe(true);
    expect(hmo.requests.length).toBe(asked + 1);

    // Clinic North is in Hygeia's Lagos network; the hospital is not in the FHIR payer's Springfield one.
    const inNetwork = await billing.request<{ createClaim: { outOfNetwork: boolean | null } }>(`mutation { createClaim(input: {patientId: "${PATIENTS.amaraNorth.id}", payerId: "${PAYERS.hygeia.id}", diagnoses: ["J06.9"], placeOfService: "11", lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}) { outOfNetwork } }`);
    expect(inNetwork.createClaim.outOfNetwork).toBe(false);
    const outside = await hospital.request<{ createClaim: { outOfNetwork: boolean | null } }>(`mutation { createClaim(input: {patientId: "${PATIENTS.gusHospital.id}", payerId: "${PAYERS.fhir.id}", diagnoses: ["J06.9"], placeOfService: "11", lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}) { outOfNetwork } }`);
    expect(outside.createClaim.outOfNetwork).toBe(true);
    // An X12 payer publishes no directory here: the claim goes, its network status unknown.
    const unknown = await hospital.request<{ createClaim: { outOfNetwork: boolean | null } }>(`mutation { createClaim(input: {patientId: "${PATIENTS.fayeHospital.id}", payerId: "${PAYERS.x12.id}", diagnoses: ["J06.9"], placeOfService: "11", lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}) { outOfNetwork } }`);
    expect(unknown.createClaim.outOfNetwork).toBeNull();
  });
});

describe('claim status', () => {
  const STATUS = `query($id: ID!) { claimStatus(id: $id) { category code message payerClaimNumber claim { status } } }`;
  it('asks each payer where it has got to: X12 276 → 277, a FHIR ClaimResponse search, the HMO’s API; a draft is not asked about', async () => {
    const viaX12 = await submit(hospital, (await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id)).id);
    const asked = x12.requests.length;
    const { claimStatus: x12Status } = await hospital.request<{ claimStatus: Record<string, unknown> }>(STATUS, { id: viaX12.id });
    expect(x12Status).toEqual({ category: 'P1', code: '1', message: 'IN REVIEW', payerClaimNumber: viaX12.payerClaimNumber, claim: { status: 'ACCEPTED' } });
    expect(x12.requests.length).toBe(asked + 1);
    expect(x12.requests.at(-1)?.body).toMatch(new RegExp(`GS\\*HR\\*.*ST\\*276\\*.*TRN\\*1\\*${viaX12.id}~REF\\*1K\\*${viaX12.payerClaimNumber}~AMT\\*T3\\*120\\.5~`));

    const viaFhir = await submit(hospital, (await draft(hospital, PATIENTS.gusHospital.id, PAYERS.fhir.id)).id);
    expect((await hospital.request<{ claimStatus: Record<string, unknown> }>(STATUS, { id: viaFhir.id })).claimStatus).toMatchObject({ category: 'P1', code: '20', payerClaimNumber: viaFhir.payerClaimNumber });

    const viaHmo = await submit(billing, (await draft(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id)).id);
    expect((await billing.request<{ claimStatus: Record<string, unknown> }>(STATUS, { id: viaHmo.id })).claimStatus).toMatchObject({ category: 'P1', code: '1', message: 'Under medical review', payerClaimNumber: viaHmo.payerClaimNumber });

    const unsent = await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id);
    const { json } = await postGraphQL(t.graphqlUrl, { query: STATUS, variables: { id: unsent.id } }, { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` });
    expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('analytics', () => {
  it('organizationMetrics counts the organization’s claims sent, approved, denied and paid, as the claims themselves say', async () => {
    const prisma = t.platform.database.prisma;
    const organizationId = (await prisma.claim.findFirstOrThrow({ where: { patientId: PATIENTS.fayeHospital.id } })).organizationId;
    const claims = await prisma.claim.findMany({ where: { organizationId }, select: { status: true, adjudication: true } });
    const expected = {
      submitted: claims.filter((claim) => claim.status !== 'DRAFT').length,
      denied: claims.filter((claim) => claim.adjudication === 'DENIED').length,
      paid: claims.filter((claim) => claim.status === 'PAID').length,
    };
    expect(expected.paid).toBeGreaterThan(0);
    expect(expected.denied).toBeGreaterThan(0);
    const query = `query($org: ID!, $from: DateTime!, $to: DateTime!) { organizationMetrics(organizationId: $org, from: $from, to: $to) { claims { submitted approved denied denialRate paid meanDaysToPayment } } }`;
    const variables = { org: organizationId, from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() };
    const figures = await until(
      async () => (await hospital.request<{ organizationMetrics: { claims: { submitted: number; approved: number; denied: number; denialRate: number | null; paid: number; meanDaysToPayment: number | null } } }>(query, variables)).organizationMetrics.claims,
      (claimsFigures) => claimsFigures.submitted === expected.submitted && claimsFigures.paid === expected.paid && claimsFigures.denied === expected.denied,
      'analytics caught up with the claim events',
    );
    expect(figures.approved).toBe(expected.paid);
    expect(figures.denialRate).toBeCloseTo(expected.denied / (expected.denied + expected.paid), 5);
    // Paid within the test run: a fraction of a day.
    expect(figures.meanDaysToPayment).toBeGreaterThanOrEqual(0);
    expect(figures.meanDaysToPayment).toBeLessThan(1);
  });
});

describe('the remittance drop folder', () => {
  it('an 835 left in the payer’s folder is applied and moved to processed/; one that does not read goes to failed/ with its errors', async () => {
    const claim = await submit(hospital, (await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id)).id);
    const folder = join(DROP, 'SYNTH_X12');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'era-1.835'), an835([{ id: claim.id, charge: '120.50', paid: '120.50', responsibility: '0', payerClaimNumber: claim.payerClaimNumber ?? '' }], 'EFT-DROP-1'));
    writeFileSync(join(folder, 'era-2.835'), 'ISA*00*nonsense~');
    await until(async () => existsSync(join(folder, 'processed', 'era-1.835')) && existsSync(join(folder, 'failed', 'era-2.835')), Boolean, 'drop files handled', 20_000);
    expect(await claimOf(hospital, claim.id)).toMatchObject({ status: 'PAID', paidAmount: 12_050 });
    const errors = JSON.parse(readFileSync(join(folder, 'failed', 'era-2.835.errors.json'), 'utf8')) as Array<{ code: string }>;
    expect(errors[0]?.code).toBe('ISA_TOO_SHORT');
    expect(existsSync(join(folder, 'era-1.835'))).toBe(false);
  });
});

describe('a batch', () => {
  it('200 claims with 3 that cannot go: 197 sent in one 837, 3 precise failures, nothing lost', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 198; index++) ids.push((await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id, { charge: 10_000 + index })).id);
    const outsideCoverage = await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id, { serviceDate: '2025-06-01' });
    const alreadySent = await submit(hospital, (await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id)).id);
    const unknown = '00000000-0000-4000-8000-00000000c1a1';
    const transmissions = x12.requests.length;

    const { submitClaimBatch } = await hospital.request<{ submitClaimBatch: { submitted: Array<{ id: string; status: string }>; failed: Array<{ claimId: string; code: string; message: string }> } }>(
      `mutation($ids: [ID!]!) { submitClaimBatch(ids: $ids) { submitted { id status } failed { claimId code message } } }`,
      { ids: [...ids.slice(0, 197), outsideCoverage.id, alreadySent.id, unknown] },
    );
    expect(submitClaimBatch.submitted).toHaveLength(197);
    expect(submitClaimBatch.submitted.every((claim) => claim.status === 'ACCEPTED')).toBe(true);
    expect(submitClaimBatch.failed).toEqual([
      { claimId: outsideCoverage.id, code: 'CONFLICT', message: 'line 1 is outside the coverage period' },
      { claimId: alreadySent.id, code: 'CONFLICT', message: 'the claim is accepted; only drafts and rejected claims are sent' },
      { claimId: unknown, code: 'NOT_FOUND', message: 'no such claim of your organization' },
    ]);
    expect(x12.requests.length).toBe(transmissions + 1);
    expect((x12.requests.at(-1)?.body.match(/~CLM\*/g) ?? []).length).toBe(197);
    // Nothing lost: the failed claims are as they were, the 198th draft untouched.
    expect((await claimOf(hospital, outsideCoverage.id)).status).toBe('DRAFT');
    expect((await claimOf(hospital, ids[197] as string)).status).toBe('DRAFT');
  }, 120_000);
});

describe('other payers and failures', () => {
  it('a FHIR payer acknowledges each Claim with a ClaimResponse; a signed ClaimResponse with payment settles it', async () => {
    const claim = await submit(hospital, (await draft(hospital, PATIENTS.gusHospital.id, PAYERS.fhir.id)).id);
    expect(claim).toMatchObject({ status: 'ACCEPTED', payerClaimNumber: expect.stringMatching(/^FHIR-PCN-\d+$/) });
    const response = `{"resourceType":"ClaimResponse","id":"${claim.payerClaimNumber}","identifier":[{"value":"${claim.payerClaimNumber}"}],"status":"active","type":{"coding":[{"code":"professional"}]},"use":"claim",
      "patient":{"identifier":{"value":"SYNF-4001"}},"created":"2026-12-05","insurer":{"identifier":{"value":"FAKEFHIR"}},"request":{"identifier":{"value":"${claim.id}"}},"outcome":"complete",
      "total":[{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":120.50,"currency":"USD"}}],
      "payment":{"type":{"coding":[{"code":"complete"}]},"date":"2026-12-05","amount":{"value":120.50,"currency":"USD"},"identifier":{"value":"FHIR-PAY-1"}}}`;
    const posted = await postRemittance('SYNTH_FHIR', response, 'application/fhir+json', FHIR_SECRET);
    expect(posted.status).toBe(200);
    expect(await claimOf(hospital, claim.id)).toMatchObject({ status: 'PAID', adjudication: 'APPROVED', paidAmount: 12_050 });
  });

  it('a FHIR payer’s ExplanationOfBenefit settles a claim; one missing a required element is refused at its path', async () => {
    const claim = await submit(hospital, (await draft(hospital, PATIENTS.gusHospital.id, PAYERS.fhir.id)).id);
    const eob = (withProvider: boolean) => `{"resourceType":"ExplanationOfBenefit","id":"EOB-1","identifier":[{"value":"${claim.payerClaimNumber}"}],"status":"active","type":{"coding":[{"code":"professional"}]},"use":"claim",
      "patient":{"identifier":{"value":"SYNF-4001"}},"created":"2026-12-05","insurer":{"identifier":{"value":"FAKEFHIR"}},${withProvider ? '"provider":{"identifier":{"value":"1234567893"}},' : ''}
      "claim":{"identifier":{"value":"${claim.id}"}},"outcome":"complete","insurance":[{"focal":true,"coverage":{"identifier":{"value":"SYNF-4001"}}}],
      "total":[{"category":{"coding":[{"code":"submitted"}]},"amount":{"value":120.50,"currency":"USD"}}],
      "payment":{"date":"2026-12-05","amount":{"value":100.00,"currency":"USD"},"identifier":{"value":"FHIR-EOB-PAY-1"}}}`;
    const refused = await postRemittance('SYNTH_FHIR', eob(false), 'application/fhir+json', FHIR_SECRET);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('"path":"ExplanationOfBenefit.provider"');
    expect((await claimOf(hospital, claim.id)).status).toBe('ACCEPTED');
    const posted = await postRemittance('SYNTH_FHIR', eob(true), 'application/fhir+json', FHIR_SECRET);
    expect(posted.status).toBe(200);
    expect(await claimOf(hospital, claim.id)).toMatchObject({ status: 'PAID', adjudication: 'PARTIALLY_APPROVED', paidAmount: 10_000 });
  });

  it('an HMO (JSON API) rejects a claim for a diagnosis it will not pay, with its reason, and accepts another', async () => {
    const rejected = await submit(billing, (await draft(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id, { diagnosis: 'R69' })).id);
    expect(rejected).toMatchObject({ status: 'REJECTED', reasons: ['DIAGNOSIS_NOT_COVERED'], currency: 'NGN' });
    expect(rejected.history.map((step) => step.to)).toEqual(['DRAFT', 'SUBMITTED', 'REJECTED']);
    const accepted = await submit(billing, (await draft(billing, PATIENTS.amaraNorth.id, PAYERS.hygeia.id)).id);
    expect(accepted).toMatchObject({ status: 'ACCEPTED', payerClaimNumber: expect.stringMatching(/^REST-PCN-/) });
  });

  it('a payer that is down: PAYER_UNAVAILABLE, the claim stays a draft and goes once the payer is back', async () => {
    const claim = await draft(hospital, PATIENTS.fayeHospital.id, PAYERS.x12.id);
    x12.mode = 'down';
    try {
      const { json } = await postGraphQL(t.graphqlUrl, { query: `mutation { submitClaim(id: "${claim.id}") { id } }` }, { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` });
      expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'PAYER_UNAVAILABLE', retryable: true });
      expect((await claimOf(hospital, claim.id)).status).toBe('DRAFT');
      const failed = await t.platform.database.prisma.claimSubmission.findFirstOrThrow({ where: { claimIds: { has: claim.id } } });
      expect(failed).toMatchObject({ outcome: 'FAILED', error: 'PAYER_ERROR' });
    } finally {
      x12.mode = 'ok';
    }
    expect((await submit(hospital, claim.id)).status).toBe('ACCEPTED');
  });

  it('a claim with bad codes is refused with every problem named, before anything is stored', async () => {
    const before = await t.platform.database.prisma.claim.count();
    const { json } = await postGraphQL(t.graphqlUrl, {
      query: `mutation { createClaim(input: {patientId: "${PATIENTS.fayeHospital.id}", payerId: "${PAYERS.x12.id}", diagnoses: ["not-icd"], placeOfService: "office", lines: [{procedureCode: "992", charge: -5, units: 0, diagnosisPointers: [3], serviceDate: "2026-11-02"}]}) { id } }`,
    }, { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` });
    expect(json.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    const fields = (json.errors?.[0]?.extensions?.['problems'] as Array<{ field: string }>).map((problem) => problem.field);
    expect(fields).toEqual(['input.diagnoses[0]', 'input.placeOfService', 'input.lines[0].procedureCode', 'input.lines[0].charge', 'input.lines[0].units', 'input.lines[0].diagnosisPointers']);
    expect(await t.platform.database.prisma.claim.count()).toBe(before);
  });
});
