import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity, type RoleName } from '../../subgraphs/kit/identity.js';
import { PATIENTS, USERS, type SeedUser } from '../../prisma/seed-data.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

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

type Caller = RoleName | 'ANONYMOUS';
const CALLERS: Caller[] = ['ANONYMOUS', 'PATIENT', 'LEARNER', 'NURSE', 'CLINICIAN', 'PHARMACIST', 'BILLING', 'PARTNER', 'BI', 'ADMIN', 'SERVICE'];
const SEEDED: Record<RoleName, SeedUser> = {
  PATIENT: USERS.patient, LEARNER: USERS.learner, NURSE: USERS.nurse, CLINICIAN: USERS.clinician, PHARMACIST: USERS.pharmacist,
  BILLING: USERS.billing, PARTNER: USERS.partner, BI: USERS.bi, ADMIN: USERS.admin, SERVICE: USERS.service,
};
const STAFF: Caller[] = ['NURSE', 'CLINICIAN', 'PHARMACIST', 'BILLING', 'ADMIN'];
const EDITORS: Caller[] = ['NURSE', 'CLINICIAN', 'ADMIN'];

interface Case {
  name: string;
  query: (caller: Caller) => string;
  /** Callers that must succeed; every other signed-in caller must get FORBIDDEN (anonymous: UNAUTHENTICATED). */
  allowed: Caller[];
  /** What an allowed caller gets instead of data, when the field answers with an error by design. */
  allowedCode?: string;
}

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

function entities(typename: string, id: string, field: string): string {
  return `{ _entities(representations: [{__typename: "${typename}", id: "${id}"}]) { ... on ${typename} { id ${field} } } }`;
}

function outcome(json: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: Record<string, unknown> }> }): string {
  const code = json.errors?.[0]?.extensions?.['code'];
  if (typeof code === 'string') return code;
  const values = Object.values(json.data ?? {});
  const empty = values.length === 0 || values.some((v) => v === null || (Array.isArray(v) && v.some((e) => e === null)));
  return empty ? 'NO_DATA' : 'OK';
}

function expected(testCase: Case, caller: Caller): string {
  if (caller === 'ANONYMOUS') return 'UNAUTHENTICATED';
  if (!testCase.allowed.includes(caller)) return 'FORBIDDEN';
  return testCase.allowedCode ?? 'OK';
}

const identityOf = (caller: Caller): Identity => {
  if (caller === 'ANONYMOUS') return { kind: 'anonymous' };
  const u = SEEDED[caller];
  return { kind: 'user', subject: u.id, role: u.role, organizationId: u.organizationId, patientId: u.patientId ?? null };
};

describe('identity authorization matrix', () => {
  it('root fields through the gateway', async () => {
    const mismatches: string[] = [];
    for (const testCase of ROOT_CASES) {
      for (const caller of CALLERS) {
        const headers: Record<string, string> = caller === 'ANONYMOUS' ? {} : { authorization: `Bearer ${await t.tokenFor(SEEDED[caller])}` };
        const { json } = await postGraphQL(t.graphqlUrl, { query: testCase.query(caller) }, headers);
        const got = outcome(json);
        if (got !== expected(testCase, caller)) mismatches.push(`${testCase.name} as ${caller}: expected ${expected(testCase, caller)}, got ${got}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('entity lookups, the path other subgraphs take', async () => {
    const identityUrl = `${t.platform.subgraphs.find((s) => s.name === 'identity')?.url}/graphql`;
    const mismatches: string[] = [];
    for (const testCase of ENTITY_CASES) {
      for (const caller of CALLERS) {
        const signed = await signInternalIdentity(identityOf(caller), t.keys.internalIdentitySecret);
        const { json } = await postGraphQL(identityUrl, { query: testCase.query(caller) }, { [INTERNAL_IDENTITY_HEADER]: signed });
        const got = outcome(json);
        if (got !== expected(testCase, caller)) mismatches.push(`${testCase.name} as ${caller}: expected ${expected(testCase, caller)}, got ${got}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});
