import { PATIENTS } from '../../prisma/seed-data.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { FakeGoogleHealth } from '../support/fake-google-health.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Every role against every root field of the devices subgraph and its entity lookups: the
 * patient's own result, another patient's, another organization's, an unmatched one; who may
 * see what the lab called the patient; assignment naming another organization's patient
 * (refused, nothing changed); wearable connections (the patient's own, another organization's
 * patient's); and the HL7 and Google Health webhook routes for each kind of caller.
 */
let t: TestPlatform;
let google: FakeGoogleHealth;
const ids = { amara: '', bayo: '', hospital: '', unmatched: '', amaraWearable: '', fayeWearable: '' };

const result = (controlId: string, mrn: string) => [
  `MSH|^~\\&|LAB|LAB|CAREGRAPH|DEVICES|20261205101500||ORU^R01|${controlId}|P|2.5.1`,
  `PID|1||${mrn}^^^X^MR||SYNTHETIC^PERSON`,
  `OBR|1|P-${controlId}|F-${controlId}|2823-3^Potassium^LN`,
  'OBX|1|NM|2823-3^Potassium^LN||4.2|mmol/L|3.5-5.1|N|||F',
].join('\r');

async function keyFor(user: 'admin' | 'hospitalAdmin'): Promise<string> {
  const { json } = await postGraphQL(t.graphqlUrl, { query: 'mutation { createApiKey(input: {name: "Matrix lab", role: DEVICE}) { key } }' }, { authorization: `Bearer ${await t.tokenFor(user)}` });
  return (json.data as { createApiKey: { key: string } }).createApiKey.key;
}
async function post(key: string, body: string): Promise<void> {
  const response = await fetch(`${t.baseUrl}/hl7/v2`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2', 'x-api-key': key }, body });
  if (response.status !== 200) throw new Error(`result not accepted: ${response.status} ${await response.text()}`);
}
const idOf = async (controlId: string): Promise<string> => (await t.platform.database.prisma.observation.findFirstOrThrow({ where: { fillerOrderId: `F-${controlId}` } })).id;

/** A patient's wearable connection: ACTIVE when they complete the consent at the fake Google, else PENDING. */
async function wearableOf(user: 'patient' | 'hospitalPatient', patientId: string, completeIt: boolean): Promise<string> {
  const headers = { authorization: `Bearer ${await t.tokenFor(user)}` };
  const started = await postGraphQL(t.graphqlUrl, { query: `mutation { connectWearable(patientId: "${patientId}") { authorizationUrl connection { id } } }` }, headers);
  const { authorizationUrl, connection } = (started.json.data as { connectWearable: { authorizationUrl: string; connection: { id: string } } }).connectWearable;
  if (completeIt) {
    const back = await google.consent(authorizationUrl);
    const done = await postGraphQL(t.graphqlUrl, { query: 'mutation($s: String!, $c: String) { completeWearableConnection(state: $s, code: $c) { status } }', variables: { s: back.searchParams.get('state'), c: back.searchParams.get('code') } }, headers);
    if ((done.json.data as { completeWearableConnection?: { status: string } } | null)?.completeWearableConnection?.status !== 'ACTIVE') throw new Error(`wearable not connected: ${JSON.stringify(done.json)}`);
  }
  return connection.id;
}

beforeAll(async () => {
  google = await new FakeGoogleHealth().start();
  t = await startTestPlatform({ devices: { wearables: { google: google.settings(), syncIntervalMs: 3_600_000 } } });
  const north = await keyFor('admin');
  const hospital = await keyFor('hospitalAdmin');
  await post(north, result('M-AMARA', PATIENTS.amaraNorth.mrn));
  await post(north, result('M-BAYO', PATIENTS.bayoNorth.mrn));
  await post(north, result('M-NOBODY', 'MCN-NOBODY'));
  await post(hospital, result('M-FAYE', PATIENTS.fayeHospital.mrn));
  ids.amara = await idOf('M-AMARA');
  ids.bayo = await idOf('M-BAYO');
  ids.unmatched = await idOf('M-NOBODY');
  ids.hospital = await idOf('M-FAYE');
  ids.amaraWearable = await wearableOf('patient', PATIENTS.amaraNorth.id, true);
  ids.fayeWearable = await wearableOf('hospitalPatient', PATIENTS.fayeHospital.id, false);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await google?.close();
});

const READERS: Caller[] = ['NURSE', 'CLINICIAN', 'ADMIN'];
const UNKNOWN = '00000000-0000-4000-8000-00000000feed';

const ROOT: MatrixCase[] = [
  { name: 'Query.observation (own)', query: () => `{ observation(id: "${ids.amara}") { value critical } }`, allowed: ['PATIENT', ...READERS] },
  { name: 'Query.observation (another patient’s)', query: () => `{ observation(id: "${ids.bayo}") { value } }`, allowed: READERS },
  { name: 'Query.observation (another organization’s)', query: () => `{ observation(id: "${ids.hospital}") { value } }`, allowed: [] },
  { name: 'Query.observation (unmatched)', query: () => `{ observation(id: "${ids.unmatched}") { value } }`, allowed: READERS },
  { name: 'Query.observation (unknown)', query: () => `{ observation(id: "${UNKNOWN}") { value } }`, allowed: ['PATIENT', ...READERS], allowedCode: 'NOT_FOUND' },
  { name: 'Query.observation fhir and report (own)', query: () => `{ observation(id: "${ids.amara}") { fhir diagnosticReport } }`, allowed: ['PATIENT', ...READERS] },
  { name: 'Query.observation sourcePatient (staff only)', query: () => `{ observation(id: "${ids.amara}") { sourcePatient { identifier name } } }`, allowed: READERS },
  { name: 'Query.unmatchedResults', query: () => '{ unmatchedResults { id } }', allowed: READERS },
  { name: 'Query.patient observations (own)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { observations { id } } }`, allowed: ['PATIENT', ...READERS] },
  { name: 'Mutation.assignResult (already assigned)', query: () => `mutation { assignResult(observationId: "${ids.amara}", patientId: "${PATIENTS.amaraNorth.id}") { id } }`, allowed: READERS, allowedCode: 'CONFLICT' },
  { name: 'Mutation.assignResult (another organization’s result)', query: () => `mutation { assignResult(observationId: "${ids.hospital}", patientId: "${PATIENTS.amaraNorth.id}") { id } }`, allowed: [] },
  { name: 'Query.patient wearableConnections (own)', query: () => `{ patient(id: "${PATIENTS.amaraNorth.id}") { wearableConnections { id status dataTypes } } }`, allowed: ['PATIENT', ...READERS] },
  { name: 'Query.patient wearableConnections (another patient)', query: () => `{ patient(id: "${PATIENTS.bayoNorth.id}") { wearableConnections { id } } }`, allowed: READERS, outcomes: { PATIENT: 'FORBIDDEN' } },
  { name: 'Mutation.connectWearable (own, already connected)', query: () => `mutation { connectWearable(patientId: "${PATIENTS.amaraNorth.id}") { authorizationUrl } }`, allowed: ['PATIENT'], allowedCode: 'CONFLICT' },
  { name: 'Mutation.connectWearable (another patient’s)', query: () => `mutation { connectWearable(patientId: "${PATIENTS.bayoNorth.id}") { authorizationUrl } }`, allowed: [] },
  { name: 'Mutation.completeWearableConnection (a state not pending)', query: () => 'mutation { completeWearableConnection(state: "not-a-state", code: "4/x") { id } }', allowed: ['PATIENT'], allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.syncWearable (own)', query: () => `mutation { syncWearable(connectionId: "${ids.amaraWearable}") { status lastSyncAt } }`, allowed: ['PATIENT'] },
  { name: 'Mutation.syncWearable (another organization’s patient’s)', query: () => `mutation { syncWearable(connectionId: "${ids.fayeWearable}") { status } }`, allowed: [] },
  { name: 'Mutation.disconnectWearable (another organization’s patient’s)', query: () => `mutation { disconnectWearable(connectionId: "${ids.fayeWearable}") { status } }`, allowed: [] },
  // Last: the patient disconnects their own (every other caller refused first, and the row unchanged).
  { name: 'Mutation.disconnectWearable (own)', query: () => `mutation { disconnectWearable(connectionId: "${ids.amaraWearable}") { status revocationPending } }`, allowed: ['PATIENT'] },
];

// Patient.observations of another patient: identity lets clinical staff see the patient; the patient sees only themself.
ROOT.push({ name: 'Query.patient observations (another patient)', query: () => `{ patient(id: "${PATIENTS.bayoNorth.id}") { observations { id } } }`, allowed: READERS, outcomes: { PATIENT: 'FORBIDDEN' } });

const REFERENCES: MatrixCase[] = [
  { name: 'Mutation.assignResult (to another organization’s patient)', query: () => `mutation { assignResult(observationId: "${ids.unmatched}", patientId: "${PATIENTS.fayeHospital.id}") { id } }`, allowed: [] },
];

const ENTITIES: MatrixCase[] = [
  { name: '_entities Observation (own)', query: () => entitiesQuery('Observation', ids.amara, 'value'), allowed: ['PATIENT', ...READERS] },
  { name: '_entities Observation (another patient’s)', query: () => entitiesQuery('Observation', ids.bayo, 'value'), allowed: READERS },
  { name: '_entities Observation (another organization’s)', query: () => entitiesQuery('Observation', ids.hospital, 'value'), allowed: [] },
  { name: '_entities Patient.observations (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'observations { id }'), allowed: ['PATIENT', ...READERS] },
  { name: '_entities Patient.observations (another patient)', query: () => entitiesQuery('Patient', PATIENTS.bayoNorth.id, 'observations { id }'), allowed: READERS },
  // Telemedicine's consultation as the gateway hands it over (@requires: its patient and times): the patient's readings around it.
  { name: '_entities Consultation.readings (own patient)', query: () => `{ _entities(representations: [{__typename: "Consultation", id: "c-1", patientId: "${PATIENTS.amaraNorth.id}", startsAt: "${new Date().toISOString()}", endsAt: "${new Date(Date.now() + 1_800_000).toISOString()}"}]) { ... on Consultation { readings { id abnormal } } } }`, allowed: ['PATIENT', ...READERS] },
  { name: '_entities Consultation.readings (another patient)', query: () => `{ _entities(representations: [{__typename: "Consultation", id: "c-2", patientId: "${PATIENTS.bayoNorth.id}", startsAt: "${new Date().toISOString()}", endsAt: "${new Date(Date.now() + 1_800_000).toISOString()}"}]) { ... on Consultation { readings { id } } } }`, allowed: READERS },
  { name: '_entities WearableConnection (own)', query: () => entitiesQuery('WearableConnection', ids.amaraWearable, 'status provider dataTypes lastSyncAt revocationPending'), allowed: ['PATIENT', ...READERS] },
  { name: '_entities WearableConnection (another organization’s)', query: () => entitiesQuery('WearableConnection', ids.fayeWearable, 'status'), allowed: [] },
  { name: '_entities Patient.wearableConnections (own)', query: () => entitiesQuery('Patient', PATIENTS.amaraNorth.id, 'wearableConnections { id }'), allowed: ['PATIENT', ...READERS] },
];

describe('devices authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('assignment to another organization’s patient: refused, nothing changed', async () => {
    const before = await t.platform.database.prisma.observation.findUniqueOrThrow({ where: { id: ids.unmatched } });
    expect(await runThroughGateway(t, REFERENCES)).toEqual([]);
    expect((await t.platform.database.prisma.observation.findUniqueOrThrow({ where: { id: ids.unmatched } })).patientId).toBe(before.patientId);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'devices', ENTITIES)).toEqual([]);
  });
  it('POST /hl7/v2: only a device integration’s credential is taken (every other role 403, none 401)', async () => {
    const statuses: Record<string, number> = {};
    for (const user of ['patient', 'nurse', 'clinician', 'admin', 'billing', 'service', 'device'] as const) {
      const response = await fetch(`${t.baseUrl}/hl7/v2`, { method: 'POST', headers: { 'content-type': 'application/hl7-v2', authorization: `Bearer ${await t.tokenFor(user)}` }, body: result(`ROLE-${user}`, 'MCN-X') });
      statuses[user] = response.status;
    }
    statuses['none'] = (await fetch(`${t.baseUrl}/hl7/v2`, { method: 'POST', body: result('ROLE-none', 'MCN-X') })).status;
    expect(statuses).toEqual({ patient: 403, nurse: 403, clinician: 403, admin: 403, billing: 403, service: 403, device: 200, none: 401 });
  });
  it('POST /webhooks/wearables/google-health: only Google’s subscriber secret is taken (every platform credential 401)', async () => {
    const statuses: Record<string, number> = {};
    const verify = (authorization?: string) => fetch(`${t.baseUrl}/webhooks/wearables/google-health`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: '{"type":"verification"}' });
    for (const user of ['patient', 'nurse', 'admin', 'service', 'device'] as const) statuses[user] = (await verify(`Bearer ${await t.tokenFor(user)}`)).status;
    statuses['none'] = (await verify()).status;
    statuses['google'] = (await verify(google.webhookSecret)).status;
    expect(statuses).toEqual({ patient: 401, nurse: 401, admin: 401, service: 401, device: 401, none: 401, google: 201 });
  });
});
