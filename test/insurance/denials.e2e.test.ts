import type { GraphQLClient } from 'graphql-request';
import { PATIENTS } from '../../prisma/seed-data.js';
import { PAYERS } from '../../subgraphs/insurance/seed.js';
import { parseX12, transactionsOf } from '../../subgraphs/insurance/x12/parse.js';
import type { ClaimsView } from '../../subgraphs/insurance/x12/views.js';
import { FAKE_HMO_MAPPING, FakePayer } from '../support/fake-payers.js';
import { an835, postRemittance } from '../support/remittances.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * What happens after a payer says no, and what travels with a claim, through the gateway:
 * institutional claims (837I beside 837P in one interchange, a FHIR institutional Claim);
 * supporting documents (a PDF or a FHIR DocumentReference) that leave with a claim, an
 * authorization request or an appeal, in each payer's format; a denied claim corrected and
 * sent as a replacement (the original closed once the payer accepts it); appeals delivered by
 * FHIR and the HMO API, kept PREPARED for an X12 payer or a payer that is down, decided by a
 * remittance or by letter; and an HMO's own JSON remittance read through its mapping.
 */
const x12 = new FakePayer('X12', [{ memberId: 'SYNX-3001', plan: 'Synthetic PPO', active: true }]);
const fhir = new FakePayer('FHIR', [{ memberId: 'SYNF-4001', plan: 'Synthetic HMO Silver', active: true }]);
const hmo = new FakePayer('REST', [{ memberId: 'HYG-SYN-1001', plan: 'Hygeia Gold Family', active: true }]);
const X12_SECRET = 'whsec-denials-x12';
const FHIR_SECRET = 'whsec-denials-fhir';
const HMO_SECRET = 'whsec-denials-hmo';

/** How the fake HMO posts remittances: its own names, dates as DD/MM/YYYY, amounts in kobo. */
const HMO_REMITTANCE = {
  traceNumber: 'paymentRef', paymentDate: 'paidOn', paymentAmount: 'totalPaid', claims: 'items',
  claim: { claimId: 'providerRef', status: 'outcome', charge: 'billed', paid: 'paid', patientResponsibility: 'copay', reference: 'hmoRef', reasons: 'declineCodes' },
  paidValues: ['SETTLED'], deniedValues: ['DECLINED'], dateFormat: 'DD/MM/YYYY' as const, amounts: 'minor' as const,
};

/** A tiny synthetic PDF: a header, one object, a trailer and the end-of-file marker. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n').toString('base64');

let t: TestPlatform;
let hospital: GraphQLClient;
let billing: GraphQLClient;

const CLAIM = 'id status adjudication kind approvedAmount paidAmount payerClaimNumber reasons history { from to reason } replaces { id } correctedBy { id } documents { id title } appeals { id status payerReference approvedAmount }';
interface Claim {
  id: string; status: string; adjudication: string | null; kind: string; approvedAmount: number | null; paidAmount: number | null; payerClaimNumber: string | null; reasons: string[];
  history: Array<{ from: string | null; to: string; reason: string | null }>; replaces: { id: string } | null; correctedBy: { id: string } | null;
  documents: Array<{ id: string; title: string }>; appeals: Array<{ id: string; status: string; payerReference: string | null; approvedAmount: number | null }>;
}
interface Outcome { appeal: { id: string; status: string; payerReference: string | null }; deliveryError: { code: string; reason: string } | null }

const professional = (patientId: string, payerId: string, extra: Record<string, unknown> = {}) => ({
  patientId, payerId, diagnoses: ['J06.9'], placeOfService: '11',
  lines: [{ procedureCode: '99213', charge: 12_000, units: 1, diagnosisPointers: [1], serviceDate: '2026-11-02' }], ...extra,
});
const institutional = (patientId: string, payerId: string) => ({
  patientId, payerId, kind: 'INSTITUTIONAL', diagnoses: ['J18.9', 'R50.9'],
  institutional: { facilityType: '11', admission: { at: '2026-11-01T08:30', type: '1', source: '7' }, dischargeStatus: '01', attending: { lastName: 'SYNTHETIC', firstName: 'DOC', npi: '1234567893' } },
  lines: [
    { procedureCode: '99223', revenueCode: '0120', charge: 90_000, units: 2, diagnosisPointers: [1], serviceDate: '2026-11-01' },
    { procedureCode: '71046', revenueCode: '0324', charge: 15_000, units: 1, diagnosisPointers: [1, 2], serviceDate: '2026-11-03' },
  ],
});

async function create(client: GraphQLClient, input: Record<string, unknown>): Promise<Claim> {
  return (await client.request<{ createClaim: Claim }>(`mutation($input: CreateClaimInput!) { createClaim(input: $input) { ${CLAIM} } }`, { input })).createClaim;
}
const submit = async (client: GraphQLClient, id: string): Promise<Claim> => (await client.request<{ submitClaim: Claim }>(`mutation($id: ID!) { submitClaim(id: $id) { ${CLAIM} } }`, { id })).submitClaim;
const claimOf = async (client: GraphQLClient, id: string): Promise<Claim> => (await client.request<{ claim: Claim }>(`query($id: ID!) { claim(id: $id) { ${CLAIM} } }`, { id })).claim;
const appeal = async (client: GraphQLClient, id: string, documentIds: string[] = []): Promise<Outcome> =>
  (await client.request<{ appealClaim: Outcome }>(`mutation($id: ID!, $input: AppealClaimInput!) { appealClaim(id: $id, input: $input) { appeal { id status payerReference } deliveryError { code reason } } }`, {
    id, input: { reason: 'The admission was an emergency; the discharge summary shows it.', documentIds },
  })).appealClaim;
async function upload(client: GraphQLClient, patientId: string, input: Record<string, unknown>): Promise<string> {
  return (await client.request<{ uploadSupportingDocument: { id: string } }>(`mutation($input: SupportingDocumentInput!) { uploadSupportingDocument(input: $input) { id } }`, { input: { patientId, ...input } })).uploadSupportingDocument.id;
}
async function errorOf(user: 'billing' | 'hospitalAdmin', query: string, variables: Record<string, unknown>): Promise<{ code: string; message: string; problems: Array<{ field: string }> }> {
  const { json } = await postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${await t.tokenFor(user)}` });
  const error = json.errors?.[0] as { message: string; extensions?: { code?: string; problems?: Array<{ field: string }> } } | undefined;
  return { code: error?.extensions?.code ?? 'NONE', message: error?.message ?? '', problems: error?.extensions?.problems ?? [] };
}


const post = (payer: string, body: string, contentType: string, secret: string) => postRemittance(t.baseUrl, payer, body, contentType, secret);

/** The HMO's own remittance JSON (see HMO_REMITTANCE). */
const hmoRemittance = (paymentRef: string, items: Array<{ providerRef: string; outcome: string; billed: number; paid: number; declineCodes?: string[] }>) =>
  JSON.stringify({ paymentRef, paidOn: '04/12/2026', totalPaid: items.reduce((sum, item) => sum + item.paid, 0), items: items.map((item) => ({ ...item, copay: 0, hmoRef: `HYG-${item.providerRef.slice(0, 8)}` })) });

beforeAll(async () => {
  await Promise.all([x12.start(), fhir.start(), hmo.start()]);
  t = await startTestPlatform({
    insurance: {
      payers: {
        SYNTH_X12: { protocol: 'X12', baseUrl: x12.baseUrl, apiKey: 'fake-key', currency: 'USD', payerId: 'FAKEPAYER', webhookSecret: X12_SECRET },
        SYNTH_FHIR: { protocol: 'FHIR', baseUrl: fhir.baseUrl, apiKey: 'fake-key', currency: 'USD', webhookSecret: FHIR_SECRET },
        HYGEIA: { protocol: 'REST', baseUrl: hmo.baseUrl, apiKey: 'fake-key', currency: 'NGN', webhookSecret: HMO_SECRET, mapping: { ...FAKE_HMO_MAPPING, remittance: HMO_REMITTANCE } },
      },
      resilience: { attempts: 1, initialBackoffMs: 5, breakerThreshold: 50, defaultTimeoutMs: 5_000 },
    },
  });
  hospital = await t.client('hospitalAdmin');
  billing = await t.client('billing');
}, 120_000);
afterAll(async () => {
  await t?.close();
  await Promise.all([x12.stop(), fhir.stop(), hmo.stop()]);
});

describe('institutional claims', () => {
  it('an 837I and an 837P leave in one interchange, a functional group each, and both are acknowledged', async () => {
    const stay = await create(hospital, institutional(PATIENTS.fayeHospital.id, PAYERS.x12.id));
    const visit = await create(hospital, professional(PATIENTS.fayeHospital.id, PAYERS.x12.id));
    expect(stay).toMatchObject({ kind: 'INSTITUTIONAL', status: 'DRAFT' });
    const { submitClaimBatch } = await hospital.request<{ submitClaimBatch: { submitted: Array<{ id: string; status: string }>; failed: unknown[] } }>(
      `mutation($ids: [ID!]!) { submitClaimBatch(ids: $ids) { submitted { id status } failed { claimId } } }`, { ids: [stay.id, visit.id] });
    expect(submitClaimBatch.failed).toEqual([]);
    expect(submitClaimBatch.submitted.map((claim) => claim.status)).toEqual(['ACCEPTED', 'ACCEPTED']);

    const interchange = parseX12(x12.requests.at(-1)?.body ?? '');
    expect(interchange.valid).toBe(true);
    const groups = interchange.interchanges[0]?.groups ?? [];
    expect(groups.map((group) => group.version)).toEqual(['005010X222A1', '005010X223A2']);
    const view = transactionsOf(interchange)[1]?.view as ClaimsView;
    expect(view).toMatchObject({ kind: 'claims', variant: 'institutional' });
    expect(view.claims[0]).toMatchObject({ claimId: stay.id, totalCharge: '1050', facilityCode: '11', frequency: '1' });
    expect(view.claims[0]?.lines.map((line) => [line.revenueCode, line.procedure?.code, line.charge, line.quantity])).toEqual([['0120', '99223', '900', '2'], ['0324', '71046', '150', '1']]);
    const text = x12.requests.at(-1)?.body ?? '';
    expect(text).toContain('DTP*434*RD8*20261101-20261103~DTP*435*DT*202611010830~CL1*1*7*01~');
    expect(text).toContain('NM1*71*1*SYNTHETIC*DOC****XX*1234567893~');
    expect(x12.claims.slice(-2).map((claim) => claim.kind)).toEqual(['professional', 'institutional']);
  });

  it('to a FHIR payer it is a Claim of type institutional with revenue codes and the attending provider', async () => {
    const stay = await create(hospital, institutional(PATIENTS.gusHospital.id, PAYERS.fhir.id));
    expect(await submit(hospital, stay.id)).toMatchObject({ status: 'ACCEPTED' });
    const sent = JSON.parse(fhir.requests.at(-1)?.body ?? '{}') as { type: { coding: Array<{ code: string }> }; subType: { coding: Array<{ code: string }> }; careTeam: Array<{ provider: { identifier: { value: string } } }>; item: Array<{ revenue: { coding: Array<{ code: string }> } }> };
    expect(sent.type.coding[0]?.code).toBe('institutional');
    expect(sent.subType.coding[0]?.code).toBe('11');
    expect(sent.careTeam[0]?.provider.identifier.value).toBe('1234567893');
    expect(sent.item.map((item) => item.revenue.coding[0]?.code)).toEqual(['0120', '0324']);
  });

  it('an inpatient claim without its admission, or a professional one with revenue codes: precise errors, nothing drafted', async () => {
    const before = await t.platform.database.prisma.claim.count();
    const stay = institutional(PATIENTS.fayeHospital.id, PAYERS.x12.id);
    const noAdmission = await errorOf('hospitalAdmin', 'mutation($input: CreateClaimInput!) { createClaim(input: $input) { id } }', { input: { ...stay, institutional: { ...stay.institutional, admission: null, attending: { lastName: 'X', firstName: 'Y', npi: '12' } } } });
    expect(noAdmission.code).toBe('BAD_USER_INPUT');
    expect(noAdmission.problems.map((problem) => problem.field)).toEqual(['input.institutional.attending.npi', 'input.institutional.admission']);
    const mixed = await errorOf('hospitalAdmin', 'mutation($input: CreateClaimInput!) { createClaim(input: $input) { id } }', { input: professional(PATIENTS.fayeHospital.id, PAYERS.x12.id, { lines: [{ procedureCode: '99213', revenueCode: '0450', charge: 100, units: 1, diagnosisPointers: [1], serviceDate: '2026-11-02' }] }) });
    expect(mixed.problems.map((problem) => problem.field)).toEqual(['input.lines[0].revenueCode']);
    expect(await t.platform.database.prisma.claim.count()).toBe(before);
  });
});

describe('supporting documents', () => {
  it('a PDF and a DocumentReference go with a FHIR claim as one Bundle, with an X12 claim as PWK attachment numbers, with an HMO authorization request inline', async () => {
    const summary = await upload(hospital, PATIENTS.gusHospital.id, { title: 'Discharge summary', pdfBase64: PDF });
    const reference = await upload(hospital, PATIENTS.gusHospital.id, {
      title: 'Chest X-ray report',
      documentReference: JSON.stringify({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', title: 'CXR report', data: Buffer.from('No consolidation (synthetic).').toString('base64') } }] }),
    });
    const claim = await create(hospital, { ...institutional(PATIENTS.gusHospital.id, PAYERS.fhir.id), documentIds: [summary, reference] });
    expect(claim.documents.map((document) => document.title)).toEqual(['Discharge summary', 'Chest X-ray report']);
    await submit(hospital, claim.id);
    expect(fhir.claims.at(-1)).toMatchObject({ claimId: claim.id, documents: [{ id: summary, title: 'Discharge summary', bytes: Buffer.from(PDF, 'base64').length }, { id: reference, title: 'Chest X-ray report', bytes: 29 }] });
    const bundle = JSON.parse((await hospital.request<{ claim: { fhirBundle: string } }>(`query($id: ID!) { claim(id: $id) { fhirBundle } }`, { id: claim.id })).claim.fhirBundle) as { type: string; entry: Array<{ fullUrl: string; resource: { resourceType: string; supportingInfo?: Array<{ valueReference: { reference: string } }> } }> };
    expect(bundle.type).toBe('collection');
    expect(bundle.entry.map((entry) => entry.resource.resourceType)).toEqual(['Claim', 'DocumentReference', 'DocumentReference']);
    expect(bundle.entry[0]?.resource.supportingInfo?.map((info) => info.valueReference.reference)).toEqual([`urn:uuid:${summary}`, `urn:uuid:${reference}`]);

    const x12Document = await upload(hospital, PATIENTS.fayeHospital.id, { title: 'Operative note', pdfBase64: PDF });
    const x12Claim = await create(hospital, { ...professional(PATIENTS.fayeHospital.id, PAYERS.x12.id), documentIds: [x12Document] });
    await submit(hospital, x12Claim.id);
    expect(x12.requests.at(-1)?.body).toContain(`PWK*OZ*AA***AC*${x12Document}~`);
    expect(x12.claims.at(-1)?.documents).toEqual([{ id: x12Document, title: null, bytes: null }]);

    const referral = await upload(billing, PATIENTS.amaraNorth.id, { title: 'Neurology referral', pdfBase64: PDF });
    const { requestPreAuthorization } = await billing.request<{ requestPreAuthorization: { status: string; documents: Array<{ title: string }> } }>(
      `mutation($input: PreAuthorizationInput!) { requestPreAuthorization(input: $input) { status documents { title } } }`,
      { input: { patientId: PATIENTS.amaraNorth.id, payerId: PAYERS.hygeia.id, diagnoses: ['G43.909'], services: [{ procedureCode: '70553', units: 1, estimatedCost: 15_000_000 }], documentIds: [referral] } });
    expect(requestPreAuthorization).toEqual({ status: 'APPROVED', documents: [{ title: 'Neurology referral' }] });
    expect(hmo.authorizations.at(-1)?.documents).toBe(1);
    expect((JSON.parse(hmo.authorizations.at(-1)?.body ?? '{}') as { documents: Array<{ data: string }> }).documents[0]?.data).toBe(PDF);
  });

  it('a truncated PDF, bad base64, an invalid DocumentReference, another patient’s or another organization’s document: precise errors, nothing stored', async () => {
    const prisma = t.platform.database.prisma;
    const before = await prisma.supportingDocument.count();
    const UPLOAD = 'mutation($input: SupportingDocumentInput!) { uploadSupportingDocument(input: $input) { id } }';
    const truncated = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\n').toString('base64');
    expect(await errorOf('billing', UPLOAD, { input: { patientId: PATIENTS.amaraNorth.id, title: 'x', pdfBase64: truncated } })).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('not a whole PDF') });
    expect(await errorOf('billing', UPLOAD, { input: { patientId: PATIENTS.amaraNorth.id, title: 'x', pdfBase64: 'not base64!' } })).toMatchObject({ code: 'BAD_USER_INPUT', message: 'input.pdfBase64: is not base64' });
    const badReference = await errorOf('billing', UPLOAD, { input: { patientId: PATIENTS.amaraNorth.id, title: 'x', documentReference: '{"resourceType":"DocumentReference","status":"final","content":[]}' } });
    expect(badReference.code).toBe('BAD_USER_INPUT');
    expect(badReference.message).toMatch(/input\.documentReference\.(DocumentReference\.)?status/);
    expect(await errorOf('billing', UPLOAD, { input: { patientId: PATIENTS.fayeHospital.id, title: 'x', pdfBase64: PDF } })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await prisma.supportingDocument.count()).toBe(before);

    const bayos = await upload(billing, PATIENTS.bayoNorth.id, { title: 'Bayo’s lab', pdfBase64: PDF });
    const hospitals = await upload(hospital, PATIENTS.fayeHospital.id, { title: 'Hospital note', pdfBase64: PDF });
    const claims = await prisma.claim.count();
    const CREATE = 'mutation($input: CreateClaimInput!) { createClaim(input: $input) { id } }';
    const wrongPatient = await errorOf('billing', CREATE, { input: professional(PATIENTS.amaraNorth.id, PAYERS.hygeia.id, { documentIds: [bayos, hospitals] }) });
    expect(wrongPatient).toMatchObject({ code: 'BAD_USER_INPUT', problems: [{ field: 'input.documentIds[0]' }, { field: 'input.documentIds[1]' }] });
    expect(wrongPatient.message).toContain('another patient’s document');
    expect(wrongPatient.message).toContain(`no document ${hospitals}`);
    expect(await prisma.claim.count()).toBe(claims);
  });
});

describe('denials: correct and resubmit', () => {
  it('a denied X12 claim is corrected and sent as a replacement of the payer’s claim; accepted, the original is closed, both histories kept', async () => {
    const original = await submit(hospital, (await create(hospital, professional(PATIENTS.fayeHospital.id, PAYERS.x12.id))).id);
    await post('SYNTH_X12', an835([{ id: original.id, charge: '120', paid: '0', payerClaimNumber: original.payerClaimNumber ?? '', status: '4' }], 'DENY-1'), 'application/edi-x12', X12_SECRET);
    expect(await claimOf(hospital, original.id)).toMatchObject({ status: 'ADJUDICATED', adjudication: 'DENIED', reasons: ['CO-50'] });

    const { correctClaim: correction } = await hospital.request<{ correctClaim: Claim }>(`mutation($id: ID!, $input: ClaimCorrectionInput!) { correctClaim(id: $id, input: $input) { ${CLAIM} } }`, {
      id: original.id, input: { diagnoses: ['J02.9'], placeOfService: '11', lines: [{ procedureCode: '99214', charge: 15_000, units: 1, diagnosisPointers: [1], serviceDate: '2026-11-02' }] },
    });
    expect(correction).toMatchObject({ status: 'DRAFT', replaces: { id: original.id }, history: [{ to: 'DRAFT', reason: `drafted as the correction of claim ${original.id}` }] });
    expect((await claimOf(hospital, original.id)).correctedBy).toEqual({ id: correction.id });
    const again = await errorOf('hospitalAdmin', 'mutation($id: ID!, $input: ClaimCorrectionInput!) { correctClaim(id: $id, input: $input) { id } }', { id: original.id, input: { diagnoses: ['J02.9'], placeOfService: '11', lines: [{ procedureCode: '99214', charge: 100, units: 1, diagnosisPointers: [1], serviceDate: '2026-11-02' }] } });
    expect(again).toMatchObject({ code: 'CONFLICT', message: `claim ${original.id} already has a correction` });

    expect(await submit(hospital, correction.id)).toMatchObject({ status: 'ACCEPTED' });
    expect(x12.requests.at(-1)?.body).toContain(`CLM*${correction.id}*150***11:B:7*Y*A*Y*Y~REF*F8*${original.payerClaimNumber}~`);
    expect(x12.claims.at(-1)).toMatchObject({ claimId: correction.id, replaces: original.payerClaimNumber });
    const closed = await claimOf(hospital, original.id);
    expect(closed.status).toBe('CLOSED');
    expect(closed.history.map((step) => step.to)).toEqual(['DRAFT', 'SUBMITTED', 'ACCEPTED', 'ADJUDICATED', 'CLOSED']);
    expect(closed.history.at(-1)?.reason).toBe(`replaced by corrected claim ${correction.id}`);
    const events = await t.platform.database.prisma.outboxEvent.findMany({ where: { aggregateId: original.id }, orderBy: { seq: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['claim.created', 'claim.submitted', 'claim.accepted', 'claim.denied', 'claim.closed']);
    expect(events.at(-1)?.payload).toMatchObject({ replacedByClaimId: correction.id, status: 'CLOSED' });
  });

  it('a claim still with the payer, or already paid in full, cannot be corrected or appealed', async () => {
    const pending = await submit(hospital, (await create(hospital, professional(PATIENTS.fayeHospital.id, PAYERS.x12.id))).id);
    const correct = await errorOf('hospitalAdmin', 'mutation($id: ID!, $input: ClaimCorrectionInput!) { correctClaim(id: $id, input: $input) { id } }', { id: pending.id, input: { diagnoses: ['J02.9'], placeOfService: '11', lines: [{ procedureCode: '99214', charge: 100, units: 1, diagnosisPointers: [1], serviceDate: '2026-11-02' }] } });
    expect(correct).toMatchObject({ code: 'CONFLICT', message: 'the claim is accepted; only denied, partly paid or rejected claims are corrected' });
    const appealed = await errorOf('hospitalAdmin', 'mutation($id: ID!) { appealClaim(id: $id, input: {reason: "Please reconsider this claim."}) { appeal { id } } }', { id: pending.id });
    expect(appealed).toMatchObject({ code: 'CONFLICT', message: 'the claim is accepted; only denied or partly paid claims are appealed' });
  });
});

describe('denials: appeals', () => {
  it('an HMO denial read from its own remittance JSON is appealed with a document through its API, and the next remittance pays it: the appeal is overturned', async () => {
    const claim = await submit(billing, (await create(billing, professional(PATIENTS.amaraNorth.id, PAYERS.hygeia.id))).id);
    const denial = await post('HYGEIA', hmoRemittance('HYG-PAY-1', [{ providerRef: claim.id, outcome: 'DECLINED', billed: 12_000, paid: 0, declineCodes: ['NOT_MEDICALLY_NECESSARY'] }]), 'application/json', HMO_SECRET);
    expect(denial).toMatchObject({ status: 200, json: { remittances: [expect.objectContaining({ denied: 1 })] } });
    expect(await claimOf(billing, claim.id)).toMatchObject({ status: 'ADJUDICATED', adjudication: 'DENIED', reasons: ['NOT_MEDICALLY_NECESSARY'] });

    const letter = await upload(billing, PATIENTS.amaraNorth.id, { title: 'Physician letter', pdfBase64: PDF });
    const outcome = await appeal(billing, claim.id, [letter]);
    expect(outcome).toMatchObject({ appeal: { status: 'SENT', payerReference: 'REST-APPEAL-1' }, deliveryError: null });
    expect(hmo.appeals.at(-1)).toMatchObject({ appealId: outcome.appeal.id, claimId: claim.id, documents: [{ title: 'Physician letter', bytes: Buffer.from(PDF, 'base64').length }] });
    expect((await claimOf(billing, claim.id)).status).toBe('APPEALED');

    const paid = await post('HYGEIA', hmoRemittance('HYG-PAY-2', [{ providerRef: claim.id, outcome: 'SETTLED', billed: 12_000, paid: 12_000 }]), 'application/json', HMO_SECRET);
    expect(paid.json['remittances']).toEqual([expect.objectContaining({ settled: 1 })]);
    const after = await claimOf(billing, claim.id);
    expect(after).toMatchObject({ status: 'PAID', adjudication: 'APPROVED', approvedAmount: 12_000, paidAmount: 12_000, appeals: [{ status: 'OVERTURNED', approvedAmount: 12_000 }] });
    expect(after.history.map((step) => step.to)).toEqual(['DRAFT', 'SUBMITTED', 'ACCEPTED', 'ADJUDICATED', 'APPEALED', 'ADJUDICATED', 'PAID']);
    const events = await t.platform.database.prisma.outboxEvent.findMany({ where: { aggregateId: claim.id }, orderBy: { seq: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['claim.created', 'claim.submitted', 'claim.accepted', 'claim.denied', 'claim.appealed', 'claim.approved', 'claim.settled']);
  });

  it('an X12 payer takes no appeals by API: the appeal is kept PREPARED, its decision recorded by letter (upheld), and the claim is then written off', async () => {
    const claim = await submit(hospital, (await create(hospital, professional(PATIENTS.fayeHospital.id, PAYERS.x12.id))).id);
    await post('SYNTH_X12', an835([{ id: claim.id, charge: '120', paid: '0', payerClaimNumber: claim.payerClaimNumber ?? '', status: '4' }], 'DENY-2'), 'application/edi-x12', X12_SECRET);
    const outcome = await appeal(hospital, claim.id);
    expect(outcome).toMatchObject({ appeal: { status: 'PREPARED', payerReference: null }, deliveryError: { code: 'PAYER_UNAVAILABLE', reason: 'NOT_SUPPORTED' } });

    const DECIDE = 'mutation($id: ID!, $input: AppealDecisionInput!) { recordAppealDecision(id: $id, input: $input) { status decidedAt } }';
    expect(await errorOf('hospitalAdmin', DECIDE, { id: outcome.appeal.id, input: { outcome: 'OVERTURNED', approvedAmount: 99_999 } })).toMatchObject({ code: 'BAD_USER_INPUT' });
    const { recordAppealDecision } = await hospital.request<{ recordAppealDecision: { status: string; decidedAt: string | null } }>(DECIDE, { id: outcome.appeal.id, input: { outcome: 'UPHELD', note: 'Letter of 3 December: denial upheld.' } });
    expect(recordAppealDecision.status).toBe('UPHELD');
    expect(await errorOf('hospitalAdmin', DECIDE, { id: outcome.appeal.id, input: { outcome: 'UPHELD' } })).toMatchObject({ code: 'CONFLICT', message: 'the appeal was already decided (upheld)' });
    expect(await claimOf(hospital, claim.id)).toMatchObject({ status: 'ADJUDICATED', adjudication: 'DENIED' });

    const { closeClaim } = await hospital.request<{ closeClaim: { status: string; history: Array<{ to: string; reason: string }> } }>('mutation($id: ID!) { closeClaim(id: $id, reason: "Written off after the upheld appeal") { status history { to reason } } }', { id: claim.id });
    expect(closeClaim.status).toBe('CLOSED');
    expect(closeClaim.history.map((step) => step.to)).toEqual(['DRAFT', 'SUBMITTED', 'ACCEPTED', 'ADJUDICATED', 'APPEALED', 'ADJUDICATED', 'CLOSED']);
    const events = await t.platform.database.prisma.outboxEvent.findMany({ where: { aggregateId: claim.id }, orderBy: { seq: 'asc' } });
    expect(events.map((event) => event.type)).toEqual(['claim.created', 'claim.submitted', 'claim.accepted', 'claim.denied', 'claim.appealed', 'claim.denied', 'claim.closed']);
    expect(events[5]?.payload).toMatchObject({ reasons: ['CO-50', 'APPEAL_UPHELD'] });
  });

  it('a FHIR payer that is down leaves the appeal PREPARED; sent again once it is back, it arrives as a Communication with its document, once', async () => {
    const claim = await submit(hospital, (await create(hospital, professional(PATIENTS.gusHospital.id, PAYERS.fhir.id))).id);
    const denial = JSON.stringify({
      resourceType: 'ClaimResponse', status: 'active', type: { coding: [{ code: 'professional' }] }, use: 'claim', patient: { identifier: { value: 'SYNF-4001' } }, created: '2026-12-04',
      insurer: { identifier: { value: 'FAKEFHIR' } }, request: { identifier: { value: claim.id } }, outcome: 'complete', identifier: [{ value: claim.payerClaimNumber }],
      payment: { identifier: { value: 'FHIR-PAY-DENY-1' }, amount: { value: 0, currency: 'USD' }, date: '2026-12-04' }, total: [{ category: { coding: [{ code: 'submitted' }] }, amount: { value: 120.0, currency: 'USD' } }],
    });
    expect((await post('SYNTH_FHIR', denial, 'application/fhir+json', FHIR_SECRET)).status).toBe(200);
    expect((await claimOf(hospital, claim.id)).adjudication).toBe('DENIED');

    const note = await upload(hospital, PATIENTS.gusHospital.id, { title: 'Clinic note', pdfBase64: PDF });
    fhir.mode = 'down';
    const refused = await appeal(hospital, claim.id, [note]);
    fhir.mode = 'ok';
    expect(refused).toMatchObject({ appeal: { status: 'PREPARED' }, deliveryError: { code: 'PAYER_UNAVAILABLE', reason: 'PAYER_ERROR' } });
    expect(fhir.appeals).toHaveLength(0);
    expect((await claimOf(hospital, claim.id)).status).toBe('APPEALED');

    const SEND = 'mutation($id: ID!) { sendAppeal(id: $id) { appeal { status payerReference } deliveryError { code } } }';
    const { sendAppeal } = await hospital.request<{ sendAppeal: Outcome }>(SEND, { id: refused.appeal.id });
    expect(sendAppeal).toEqual({ appeal: { status: 'SENT', payerReference: 'FHIR-APPEAL-1' }, deliveryError: null });
    expect(fhir.appeals).toEqual([expect.objectContaining({ appealId: refused.appeal.id, claimId: claim.id, reason: expect.stringContaining('emergency'), documents: [{ title: 'Clinic note', bytes: Buffer.from(PDF, 'base64').length }] })]);
    expect(await errorOf('hospitalAdmin', SEND, { id: refused.appeal.id })).toMatchObject({ code: 'CONFLICT', message: 'the appeal is sent' });
    expect(fhir.appeals).toHaveLength(1);
  });
});

describe('an HMO’s own remittance format', () => {
  it('a remittance that does not read through the mapping is refused whole, naming each path; nothing is applied', async () => {
    const claim = await submit(billing, (await create(billing, professional(PATIENTS.amaraNorth.id, PAYERS.hygeia.id))).id);
    const bad = JSON.stringify({ paymentRef: 'HYG-PAY-BAD', paidOn: '2026-12-04', totalPaid: '12.5', items: [{ providerRef: claim.id, outcome: 'MAYBE', billed: 12_000, paid: 12_000 }, { outcome: 'SETTLED', billed: 1, paid: 1 }] });
    const refused = await post('HYGEIA', bad, 'application/json', HMO_SECRET);
    expect(refused.status).toBe(400);
    const problems = (refused.json['errors'] as Array<{ extensions: { problems: Array<{ code: string; path: string }> } }>)[0]?.extensions.problems;
    expect(problems).toEqual([
      { code: 'BAD_DATE', path: 'paidOn', message: 'not a date written DD/MM/YYYY' },
      { code: 'BAD_AMOUNT', path: 'totalPaid', message: '"12.5" is not an amount in minor units' },
      { code: 'BAD_STATUS', path: 'items[0].outcome', message: '"MAYBE" is not one of SETTLED, DECLINED' },
      { code: 'REQUIRED', path: 'items[1].providerRef', message: 'missing or not a value' },
    ]);
    expect(await t.platform.database.prisma.remittance.count({ where: { traceNumber: 'HYG-PAY-BAD' } })).toBe(0);
    expect((await claimOf(billing, claim.id)).status).toBe('ACCEPTED');
  });
});
