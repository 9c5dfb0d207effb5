import { PATIENTS } from '../../prisma/seed-data.js';
import { COVERAGES, PAYERS } from '../../subgraphs/insurance/seed.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { FAKE_HMO_MAPPING, FakePayer } from '../support/fake-payers.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the insurance subgraph and its entity lookups: the
 * patient's own coverage, another patient's, another organization's; eligibility checks and
 * coverage records naming another organization's patient, which must be refused with nothing
 * written and no payer asked.
 */
const hmo = new FakePayer('REST', [{ memberId: 'HYG-SYN-1001', plan: 'Hygeia Gold Family', active: true, copay: '1500' }]);
let t: TestPlatform;
let amaraClaim = '';
let bayoClaim = '';
let hospitalClaim = '';
let amaraDocument = '';
let bayoDocument = '';
let hospitalDocument = '';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n').toString('base64');
const uploadInput = (patientId: string, pdf = PDF) => `{patientId: "${patientId}", title: "Matrix letter", pdfBase64: "${pdf}"}`;

const claimInput = (patientId: string, payerId: string) =>
  `{patientId: "${patientId}", payerId: "${payerId}", diagnoses: ["J06.9"], placeOfService: "11", lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}`;

async function as(user: 'billing' | 'hospitalAdmin', query: string): Promise<Record<string, { id: string }>> {
  const { json } = await postGraphQL(t.graphqlUrl, { query }, { authorization: `Bearer ${await t.tokenFor(user)}` });
  if (!json.data || json.errors?.length) throw new Error(`${user}: ${JSON.stringify(json.errors)}`);
  return json.data as Record<string, { id: string }>;
}

beforeAll(async () => {
  await hmo.start();
  t = await startTestPlatform({ insurance: { payers: { HYGEIA: { protocol: 'REST', baseUrl: hmo.baseUrl, apiKey: 'fake-key', mapping: FAKE_HMO_MAPPING } } } });
  // Amara's claim is sent (a patient sees their claims once sent); the others stay drafts.
  amaraClaim = (await as('billing', `mutation { createClaim(input: ${claimInput(PATIENTS.amaraNorth.id, PAYERS.hygeia.id)}) { id } }`))['createClaim']?.id ?? '';
  await as('billing', `mutation { submitClaim(id: "${amaraClaim}") { id } }`);
  bayoClaim = (await as('billing', `mutation { createClaim(input: ${claimInput(PATIENTS.bayoNorth.id, PAYERS.nhis.id)}) { id } }`))['createClaim']?.id ?? '';
  hospitalClaim = (await as('hospitalAdmin', `mutation { createClaim(input: ${claimInput(PATIENTS.fayeHospital.id, PAYERS.x12.id)}) { id } }`))['createClaim']?.id ?? '';
  amaraDocument = (await as('billing', `mutation { uploadSupportingDocument(input: ${uploadInput(PATIENTS.amaraNorth.id)}) { id } }`))['uploadSupportingDocument']?.id ?? '';
  bayoDocument = (await as('billing', `mutation { uploadSupportingDocument(input: ${uploadInput(PATIENTS.bayoNorth.id)}) { id } }`))['uploadSupportingDocument']?.id ?? '';
  hospitalDocument = (await as('hospitalAdmin', `mutation { uploadSupportingDocument(input: ${uploadInput(PATIENTS.fayeHospital.id)}) { id } }`))['uploadSupportingDocument']?.id ?? '';
  await as('billing', `mutation { attachClaimDocuments(id: "${amaraClaim}", documentIds: ["${amaraDocument}"]) { id } }`);
});
afterAll(async () => {
  await t?.close();
  await hmo.stop();
});

const STAFF: Caller[] = ['BILLING', 'ADMIN'];
const UNKNOWN = '00000000-0000-4000-8000-00000000beef';
const coverageInput = (patientId: string, memberId: string, extra = '') =>
  `{patientId: "${patientId}", payerId: "${PAYERS.reliance.id}", memberId: "${memberId}", plan: "Matrix", subscriberFirstName: "A", subscriberLastName: "B", periodStart: "2026-01-01"${extra}}`;

const ROOT: MatrixCase[] = [
  { name: 'Query.payers', query: () => '{ payers { code protocol } }', allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.coverage (own)', query: () => `{ coverage(id: "${COVERAGES.amaraHygeia.id}") { memberId } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.coverage (another patient’s)', query: () => `{ coverage(id: "${COVERAGES.bayoNhis.id}") { memberId } }`, allowed: STAFF },
  { name: 'Query.coverage (another organization’s)', query: () => `{ coverage(id: "${COVERAGES.fayeX12.id}") { memberId } }`, allowed: [] },
  { name: 'Query.coverage (unknown)', query: () => `{ coverage(id: "${UNKNOWN}") { memberId } }`, allowed: ['PATIENT', ...STAFF], allowedCode: 'NOT_FOUND' },
  { name: 'Query.checkEligibility (own organization’s patient)', query: () => `{ checkEligibility(patientId: "${PATIENTS.amaraNorth.id}", payerId: "${PAYERS.hygeia.id}", serviceType: "30") { inForce } }`, allowed: STAFF },
  { name: 'Mutation.addCoverage (bad member id)', query: () => `mutation { addCoverage(input: ${coverageInput(PATIENTS.amaraNorth.id, 'bad id!')}) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Query.claim (own, sent)', query: () => `{ claim(id: "${amaraClaim}") { status } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.claim (another patient’s)', query: () => `{ claim(id: "${bayoClaim}") { status } }`, allowed: STAFF },
  { name: 'Query.claim (another organization’s)', query: () => `{ claim(id: "${hospitalClaim}") { status } }`, allowed: [] },
  { name: 'Query.claims', query: () => '{ claims { id } }', allowed: STAFF },
  { name: 'Query.providerNetwork', query: () => `{ providerNetwork(payerId: "${PAYERS.hygeia.id}", location: "Lagos") { providers { tier } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.claimStatus (own organization’s, sent)', query: () => `{ claimStatus(id: "${amaraClaim}") { category } }`, allowed: STAFF },
  { name: 'Query.claimStatus (another organization’s)', query: () => `{ claimStatus(id: "${hospitalClaim}") { category } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.createClaim (bad codes)', query: () => `mutation { createClaim(input: {patientId: "${PATIENTS.amaraNorth.id}", payerId: "${PAYERS.hygeia.id}", diagnoses: ["x"], placeOfService: "11", lines: []}) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.submitClaim (unknown)', query: () => `mutation { submitClaim(id: "${UNKNOWN}") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.submitClaimBatch (unknown)', query: () => `mutation { submitClaimBatch(ids: ["${UNKNOWN}"]) { failed { code } } }`, allowed: STAFF },
  { name: 'Query.priorAuthorization (unknown)', query: () => `{ priorAuthorization(id: "${UNKNOWN}") { status } }`, allowed: ['PATIENT', ...STAFF], allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.requestPreAuthorization (service not on the tariff)', query: () => `mutation { requestPreAuthorization(input: {patientId: "${PATIENTS.amaraNorth.id}", payerId: "${PAYERS.hygeia.id}", diagnoses: ["G43.909"], services: [{procedureCode: "99999", units: 1, estimatedCost: 100}]}) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.addCoverage (unknown patient)', query: () => `mutation { addCoverage(input: ${coverageInput(UNKNOWN, 'M-1')}) { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Query.claim documents and appeals (own, sent)', query: () => `{ claim(id: "${amaraClaim}") { documents { title } appeals { id } } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.claim fhirBundle (own organization’s)', query: () => `{ claim(id: "${amaraClaim}") { fhirBundle } }`, allowed: STAFF },
  { name: 'Mutation.uploadSupportingDocument (not a PDF)', query: () => `mutation { uploadSupportingDocument(input: ${uploadInput(PATIENTS.amaraNorth.id, 'aGVsbG8=')}) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.attachClaimDocuments (another patient’s document)', query: () => `mutation { attachClaimDocuments(id: "${bayoClaim}", documentIds: ["${amaraDocument}"]) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.attachClaimDocuments (another organization’s claim)', query: () => `mutation { attachClaimDocuments(id: "${hospitalClaim}", documentIds: ["${hospitalDocument}"]) { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.correctClaim (a draft)', query: () => `mutation { correctClaim(id: "${bayoClaim}", input: {diagnoses: ["J06.9"], placeOfService: "11", lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}) { id } }`, allowed: STAFF, allowedCode: 'CONFLICT' },
  { name: 'Mutation.correctClaim (another organization’s)', query: () => `mutation { correctClaim(id: "${hospitalClaim}", input: {diagnoses: ["J06.9"], placeOfService: "11", lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}) { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.appealClaim (a draft)', query: () => `mutation { appealClaim(id: "${bayoClaim}", input: {reason: "Please reconsider the claim."}) { appeal { id } } }`, allowed: STAFF, allowedCode: 'CONFLICT' },
  { name: 'Mutation.appealClaim (another organization’s)', query: () => `mutation { appealClaim(id: "${hospitalClaim}", input: {reason: "Please reconsider the claim."}) { appeal { id } } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.sendAppeal (unknown)', query: () => `mutation { sendAppeal(id: "${UNKNOWN}") { appeal { id } } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.recordAppealDecision (unknown)', query: () => `mutation { recordAppealDecision(id: "${UNKNOWN}", input: {outcome: UPHELD}) { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.closeClaim (bad reason)', query: () => `mutation { closeClaim(id: "${bayoClaim}", reason: "x") { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.closeClaim (another organization’s)', query: () => `mutation { closeClaim(id: "${hospitalClaim}", reason: "not yours") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
];

/** Naming another organization's patient: refused, nothing written, no payer asked. */
const REFERENCES: MatrixCase[] = [
  { name: 'Query.checkEligibility (another organization’s patient)', query: () => `{ checkEligibility(patientId: "${PATIENTS.fayeHospital.id}", payerId: "${PAYERS.x12.id}", serviceType: "30") { inForce } }`, allowed: [] },
  { name: 'Mutation.addCoverage (another organization’s patient)', query: () => `mutation { addCoverage(input: ${coverageInput(PATIENTS.fayeHospital.id, 'M-2')}) { id } }`, allowed: [] },
  { name: 'Mutation.requestPreAuthorization (another organization’s patient)', query: () => `mutation { requestPreAuthorization(input: {patientId: "${PATIENTS.fayeHospital.id}", payerId: "${PAYERS.x12.id}", diagnoses: ["G43.909"], services: [{procedureCode: "70553", units: 1, estimatedCost: 100}]}) { id } }`, allowed: [] },
  { name: 'Mutation.createClaim (another organization’s patient)', query: () => `mutation { createClaim(input: ${claimInput(PATIENTS.fayeHospital.id, PAYERS.x12.id)}) { id } }`, allowed: [] },
  // Another organization's claim is invisible: NOT_FOUND for staff, refused for everyone else; it stays a draft.
  { name: 'Mutation.submitClaim (another organization’s)', query: () => `mutation { submitClaim(id: "${hospitalClaim}") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.uploadSupportingDocument (another organization’s patient)', query: () => `mutation { uploadSupportingDocument(input: ${uploadInput(PATIENTS.fayeHospital.id)}) { id } }`, allowed: [] },
  { name: 'Mutation.createClaim (another organization’s document)', query: () => `mutation { createClaim(input: {patientId: "${PATIENTS.amaraNorth.id}", payerId: "${PAYERS.hygeia.id}", diagnoses: ["J06.9"], placeOfService: "11", documentIds: ["${hospitalDocument}"], lines: [{procedureCode: "99213", charge: 5000, units: 1, diagnosisPointers: [1], serviceDate: "2026-11-02"}]}) { id } }`, allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
];

async function footprint(): Promise<Record<string, number>> {
  const prisma = t.platform.database.prisma;
  return {
    coverages: await prisma.coverage.count(),
    checks: await prisma.eligibilityCheck.count(),
    claims: await prisma.claim.count(),
    transitions: await prisma.claimTransition.count(),
    submissions: await prisma.claimSubmission.count(),
    authorizations: await prisma.priorAuthorization.count(),
    documents: await prisma.supportingDocument.count(),
    appeals: await prisma.claimAppeal.count(),
    events: await prisma.outboxEvent.count({ where: { source: 'insurance' } }),
    payerCalls: hmo.requests.length,
  };
}

const ENTITIES: MatrixCase[] = [
  { name: '_entities Coverage (own)', query: () => entitiesQuery('Coverage', COVERAGES.amaraHygeia.id, 'memberId'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Coverage (another patient’s)', query: () => entitiesQuery('Coverage', COVERAGES.bayoNhis.id, 'memberId'), allowed: STAFF },
  { name: '_entities Coverage (another organization’s)', query: () => entitiesQuery('Coverage', COVERAGES.gusFhir.id, 'memberId'), allowed: [] },
  { name: '_entities Claim (own, sent)', query: () => entitiesQuery('Claim', amaraClaim, 'status'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Claim (another organization’s)', query: () => entitiesQuery('Claim', hospitalClaim, 'status'), allowed: [] },
  { name: '_entities Patient.priorAuthorizations (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'priorAuthorizations { id }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.priorAuthorizations (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'priorAuthorizations { id }'), allowed: STAFF },
  { name: '_entities Patient.claims (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'claims { id }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.claims (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'claims { id }'), allowed: STAFF },
  { name: '_entities SupportingDocument (own)', query: () => entitiesQuery('SupportingDocument', amaraDocument, 'title'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities SupportingDocument (another patient’s)', query: () => entitiesQuery('SupportingDocument', bayoDocument, 'title'), allowed: STAFF },
  { name: '_entities SupportingDocument (another organization’s)', query: () => entitiesQuery('SupportingDocument', hospitalDocument, 'title'), allowed: [] },
  { name: '_entities Claim.documents and appeals (own, sent)', query: () => entitiesQuery('Claim', amaraClaim, 'documents { title } appeals { status }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Payer', query: () => entitiesQuery('Payer', PAYERS.nhis.id, 'code'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.coverages (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'coverages { id }'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient.coverages (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'coverages { id }'), allowed: STAFF },
];

describe('insurance authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('references to another organization’s patients: refused, nothing written, no payer asked', async () => {
    const before = await footprint();
    expect(await runThroughGateway(t, REFERENCES)).toEqual([]);
    expect(await footprint()).toEqual(before);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'insurance', ENTITIES)).toEqual([]);
  });
});
