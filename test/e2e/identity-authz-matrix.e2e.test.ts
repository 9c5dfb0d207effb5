import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { CALLERS, entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the identity subgraph and against its entity
 * lookups (`_entities`, the path other subgraphs' joins take), including another
 * organization's records. The expectations are written out by hand: any unexpected allow
 * (or deny) fails the test.
 */
let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.close();
});

const STAFF: Caller[] = ['NURSE', 'CLINICIAN', 'PHARMACIST', 'BILLING', 'ADMIN'];
const EDITORS: Caller[] = ['NURSE', 'CLINICIAN', 'ADMIN'];

type Case = MatrixCase;

const ROOT_CASES: Case[] = [
  { name: 'Query.me', query: () => '{ me { id roles } }', allowed: CALLERS.filter((c) => c !== 'ANONYMOUS') },
  { name: 'Query.patient (own organization)', query: () => `{ patient(id: "${PATIENTS.bayoNorth.id}") { id mrn } }`, allowed: STAFF },
  { name: 'Query.patient (own record)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { id mrn } }`, allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.patient (another organization)', query: () => `{ patient(id: "${PATIENTS.fayeHospital.id}") { id mrn } }`, allowed: [] },
  { name: 'Query.patients', query: () => '{ patients(first: 5) { edges { node { id } } } }', allowed: ['PATIENT', ...STAFF] },
  { name: 'Query.practitioners', query: () => '{ practitioners { id name } }', allowed: STAFF },
  { name: 'Query.apiKeys', query: () => '{ apiKeys { id } }', allowed: ['ADMIN'] },
  { name: 'Query.webhookEndpoints', query: () => '{ webhookEndpoints { id } }', allowed: ['ADMIN'] },
  { name: 'Query.webhookDeliveries', query: () => '{ webhookDeliveries(status: DEAD) { id } }', allowed: ['ADMIN'] },
  {
    name: 'Mutation.createWebhookEndpoint',
    query: () => 'mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["training.session.completed"]}) { endpoint { id } } }',
    allowed: ['ADMIN'],
  },
  { name: 'Mutation.deactivateWebhookEndpoint (unknown)', query: () => 'mutation { deactivateWebhookEndpoint(id: "00000000-0000-4000-8000-00000000beef") { id } }', allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.replayWebhookDeadLetters', query: () => 'mutation { replayWebhookDeadLetters }', allowed: ['ADMIN'] },
  {
    name: 'Mutation.createPatient',
    query: (caller) => `mutation { createPatient(input: {mrn: "MX-${caller}", givenName: "Matrix", familyName: "Case", birthDate: "1980-01-01"}) { id } }`,
    allowed: EDITORS,
  },
  {
    name: 'Mutation.updatePatient (own organization)',
    query: () => `mutation { updatePatient(id: "${PATIENTS.bayoNorth.id}", input: {city: "Lagos"}) { id } }`,
    allowed: EDITORS,
  },
  {
    name: 'Mutation.updatePatient (another organization)',
    query: () => `mutation { updatePatient(id: "${PATIENTS.gusHospital.id}", input: {city: "Elsewhere"}) { id } }`,
    allowed: [],
  },
  { name: 'Mutation.createApiKey', query: (caller) => `mutation { createApiKey(input: {name: "k-${caller}", role: BI}) { apiKey { id } } }`, allowed: ['ADMIN'] },
  {
    name: 'Mutation.revokeApiKey (unknown key)',
    query: () => 'mutation { revokeApiKey(id: "00000000-0000-4000-8000-00000000dead") { id } }',
    allowed: ['ADMIN'],
    allowedCode: 'NOT_FOUND',
  },
];

const ENTITY_CASES: Case[] = [
  { name: '_entities Patient (own organization)', query: () => entities('Patient', PATIENTS.bayoNorth.id, 'mrn'), allowed: STAFF },
  { name: '_entities Patient (own record)', query: () => entities('Patient', PATIENTS.amaraNorth.id, 'mrn'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient (another organization)', query: () => entities('Patient', PATIENTS.fayeHospital.id, 'mrn'), allowed: [] },
  { name: '_entities User (colleague)', query: () => entities('User', USERS.nurse.id, 'displayName'), allowed: STAFF.concat([]) },
  { name: '_entities User (another organization)', query: () => entities('User', USERS.hospitalNurse.id, 'displayName'), allowed: [] },
];

const entities = entitiesQuery;

describe('identity authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT_CASES)).toEqual([]);
  });

  it('entity lookups, the path other subgraphs take', async () => {
    expect(await runAgainstSubgraph(t, 'identity', ENTITY_CASES)).toEqual([]);
  });
});
