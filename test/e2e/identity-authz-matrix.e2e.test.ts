import { randomUUID } from 'node:crypto';
import { ORGS, PARTNERS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import { recordEvent } from '../../subgraphs/kit/outbox.js';
import { CALLERS, entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the identity subgraph and against its entity
 * lookups (`_entities`, the path other subgraphs' joins take), including another
 * organization's records, and every mutation that names a record of another organization
 * (its id, its patient, its user, its training partner): refused with nothing written. The
 * expectations are written out by hand: any unexpected allow (or deny) fails the test.
 */
let t: TestPlatform;
/** A member of Clinic North for the admin to deactivate (the seeded users stay active for the other cases). */
let leaver = '';
/** A training partner of the hospital, announced as training announces partners. */
const HOSPITAL_PARTNER = randomUUID();
beforeAll(async () => {
  t = await startTestPlatform();
  const prisma = t.platform.database.prisma;
  leaver = (await prisma.user.create({ data: { email: 'matrix-leaver@caregraph.example.invalid', displayName: 'Matrix Leaver', memberships: { create: { organizationId: ORGS.clinicNorth.id, role: 'NURSE' } } } })).id;
  await prisma.$transaction((tx) =>
    recordEvent(tx, TrainingEvents.partnerRegistered, { aggregateId: HOSPITAL_PARTNER, organizationId: ORGS.hospital.id, partnerId: HOSPITAL_PARTNER, payload: { partnerId: HOSPITAL_PARTNER, organizationId: ORGS.hospital.id, principalId: null } }),
  );
});
afterAll(async () => {
  await t?.close();
});

const STAFF: Caller[] = ['NURSE', 'CLINICIAN', 'PHARMACIST', 'BILLING', 'ADMIN'];
const EDITORS: Caller[] = ['NURSE', 'CLINICIAN', 'ADMIN'];

type Case = MatrixCase;
const UNKNOWN = '00000000-0000-4000-8000-00000000beef';
let hospitalKey = '';
let hospitalEndpoint = '';

/** What the cross-organization mutations could have written. */
async function writable(): Promise<unknown> {
  const prisma = t.platform.database.prisma;
  return {
    patients: await prisma.patient.count(),
    gus: await prisma.patient.findUniqueOrThrow({ where: { id: PATIENTS.gusHospital.id } }),
    endpoints: await prisma.webhookEndpoint.findMany({ orderBy: { id: 'asc' } }),
    deactivated: await prisma.user.findMany({ where: { deactivatedAt: { not: null } }, select: { id: true, deactivatedAt: true }, orderBy: { id: 'asc' } }),
    apiKeys: await prisma.apiKey.findMany({ select: { id: true, revokedAt: true }, orderBy: { id: 'asc' } }),
    identityEvents: await prisma.outboxEvent.count({ where: { source: 'identity' } }),
  };
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
  { name: 'Query.webhookDeliveries', query: () => '{ webhookDeliveries(status: DEAD, first: 10) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }', allowed: ['ADMIN'] },
  { name: 'Query.webhookDeliveries (page over the maximum)', query: () => '{ webhookDeliveries(first: 500) { edges { node { id } } } }', allowed: ['ADMIN'], allowedCode: 'BAD_USER_INPUT' },
  { name: 'Query.webhookDeliveries (malformed cursor)', query: () => '{ webhookDeliveries(after: "garbage") { edges { node { id } } } }', allowed: ['ADMIN'], allowedCode: 'BAD_USER_INPUT' },
  {
    name: 'Mutation.createWebhookEndpoint',
    query: () => 'mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["training.session.completed"]}) { endpoint { id } } }',
    allowed: ['ADMIN'],
  },
  { name: 'Mutation.deactivateWebhookEndpoint (unknown)', query: () => 'mutation { deactivateWebhookEndpoint(id: "00000000-0000-4000-8000-00000000beef") { id } }', allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  {
    name: 'Mutation.createWebhookEndpoint (own organization’s partner)',
    query: () => `mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["*"], partnerId: "${PARTNERS.northwind.id}"}) { endpoint { id partnerId } } }`,
    allowed: ['ADMIN'],
  },
  {
    name: 'Mutation.createWebhookEndpoint (unknown partner)',
    query: () => `mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["*"], partnerId: "${UNKNOWN}"}) { endpoint { id } } }`,
    allowed: ['ADMIN'],
    allowedCode: 'NOT_FOUND',
  },
  { name: 'Mutation.replayWebhookDeadLetters', query: () => 'mutation { replayWebhookDeadLetters }', allowed: ['ADMIN'] },
  { name: 'Query.notificationTemplates', query: () => '{ notificationTemplates { kind channel body } }', allowed: ['ADMIN'] },
  { name: 'Mutation.setNotificationTemplate', query: () => 'mutation { setNotificationTemplate(kind: REMINDER_1H, channel: SMS, body: "{{firstName}}: {{startsAt}}") { kind } }', allowed: ['ADMIN'] },
  { name: 'Query.patient notifications (own record)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { notifications { id status } } }`, allowed: ['PATIENT', ...EDITORS] },
  { name: 'Query.patient notifications (another patient)', query: () => `{ patient(id: "${PATIENTS.bayoNorth.id}") { notifications { id status } } }`, allowed: EDITORS },
  { name: 'Mutation.deactivateUser (member of the organization)', query: () => `mutation { deactivateUser(id: "${leaver}") { id deactivatedAt } }`, allowed: ['ADMIN'] },
  { name: 'Mutation.deactivateUser (unknown)', query: () => `mutation { deactivateUser(id: "${UNKNOWN}") { id } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
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
  { name: 'Mutation.createApiKey', query: (caller) => `mutation { createApiKey(input: {name: "k-${caller}", role: BI}) { apiKey { id } } }`, allowed: ['ADMIN'] },
  {
    name: 'Mutation.createApiKey (PARTNER, own organization’s partner)',
    query: (caller) => `mutation { createApiKey(input: {name: "p-${caller}", role: PARTNER, partnerId: "${PARTNERS.northwind.id}"}) { apiKey { id partnerId } } }`,
    allowed: ['ADMIN'],
  },
  {
    name: 'Mutation.createApiKey (PARTNER, unknown partner)',
    query: (caller) => `mutation { createApiKey(input: {name: "u-${caller}", role: PARTNER, partnerId: "${UNKNOWN}"}) { apiKey { id } } }`,
    allowed: ['ADMIN'],
    allowedCode: 'NOT_FOUND',
  },
  {
    name: 'Mutation.revokeApiKey (unknown key)',
    query: () => 'mutation { revokeApiKey(id: "00000000-0000-4000-8000-00000000dead") { id } }',
    allowed: ['ADMIN'],
    allowedCode: 'NOT_FOUND',
  },
];

/** Mutations naming another organization's records: refused for everyone, nothing written. */
const CROSS_ORGANIZATION_CASES: Case[] = [
  {
    name: 'Mutation.createPatient (in another organization)',
    query: (caller) => `mutation { createPatient(input: {organizationId: "${ORGS.hospital.id}", mrn: "XO-${caller}", givenName: "Cross", familyName: "Org", birthDate: "1980-01-01"}) { id } }`,
    allowed: [],
  },
  {
    name: 'Mutation.updatePatient (another organization’s patient)',
    query: () => `mutation { updatePatient(id: "${PATIENTS.gusHospital.id}", input: {city: "Elsewhere"}) { id } }`,
    allowed: [],
  },
  {
    name: 'Mutation.createWebhookEndpoint (another organization’s partner)',
    query: () => `mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["*"], partnerId: "${HOSPITAL_PARTNER}"}) { endpoint { id } } }`,
    allowed: [],
  },
  {
    name: 'Mutation.createApiKey (PARTNER key for another organization’s partner)',
    query: (caller) => `mutation { createApiKey(input: {name: "x-${caller}", role: PARTNER, partnerId: "${HOSPITAL_PARTNER}"}) { apiKey { id } } }`,
    allowed: [],
  },
  { name: 'Mutation.deactivateUser (another organization’s user)', query: () => `mutation { deactivateUser(id: "${USERS.hospitalNurse.id}") { id } }`, allowed: [] },
  { name: 'Mutation.revokeApiKey (another organization’s key)', query: () => `mutation { revokeApiKey(id: "${hospitalKey}") { id } }`, allowed: [] },
  { name: 'Mutation.deactivateWebhookEndpoint (another organization’s)', query: () => `mutation { deactivateWebhookEndpoint(id: "${hospitalEndpoint}") { id } }`, allowed: [] },
];

const ENTITY_CASES: Case[] = [
  { name: '_entities Patient (own organization)', query: () => entities('Patient', PATIENTS.bayoNorth.id, 'mrn'), allowed: STAFF },
  { name: '_entities Patient (own record)', query: () => entities('Patient', PATIENTS.amaraNorth.id, 'mrn'), allowed: ['PATIENT', ...STAFF] },
  { name: '_entities Patient (another organization)', query: () => entities('Patient', PATIENTS.fayeHospital.id, 'mrn'), allowed: [] },
  { name: '_entities Patient.notifications (own record)', query: () => entities('Patient', PATIENTS.amaraNorth.id, 'notifications { id }'), allowed: ['PATIENT', ...EDITORS] },
  { name: '_entities User (colleague)', query: () => entities('User', USERS.nurse.id, 'displayName'), allowed: STAFF.concat([]) },
  { name: '_entities User (another organization)', query: () => entities('User', USERS.hospitalNurse.id, 'displayName'), allowed: [] },
];

const entities = entitiesQuery;

describe('identity authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT_CASES)).toEqual([]);
  });

  it('mutations naming another organization’s records, with nothing written', async () => {
    const hospitalAdmin = { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` };
    const key = await postGraphQL(t.graphqlUrl, { query: 'mutation { createApiKey(input: {name: "hospital-bi", role: BI}) { apiKey { id } } }' }, hospitalAdmin);
    hospitalKey = (key.json.data?.['createApiKey'] as { apiKey: { id: string } }).apiKey.id;
    const endpoint = await postGraphQL(t.graphqlUrl, { query: 'mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["*"]}) { endpoint { id } } }' }, hospitalAdmin);
    hospitalEndpoint = (endpoint.json.data?.['createWebhookEndpoint'] as { endpoint: { id: string } }).endpoint.id;

    const before = await writable();
    expect(await runThroughGateway(t, CROSS_ORGANIZATION_CASES)).toEqual([]);
    // The other way round: the hospital's admin naming Clinic North's partner and nurse.
    const northPartner = await postGraphQL(t.graphqlUrl, { query: `mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["*"], partnerId: "${PARTNERS.northwind.id}"}) { endpoint { id } } }` }, hospitalAdmin);
    expect(errorCodes(northPartner.json)).toEqual(['FORBIDDEN']);
    const northNurse = await postGraphQL(t.graphqlUrl, { query: `mutation { deactivateUser(id: "${USERS.nurse.id}") { id } }` }, hospitalAdmin);
    expect(errorCodes(northNurse.json)).toEqual(['FORBIDDEN']);
    expect(await writable()).toEqual(before);
  });

  it('entity lookups, the path other subgraphs take', async () => {
    expect(await runAgainstSubgraph(t, 'identity', ENTITY_CASES)).toEqual([]);
  });
});
