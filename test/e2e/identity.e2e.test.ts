import { ClientError } from 'graphql-request';
import {
  CreateApiKeyDocument, CreatePatientDocument, MeDocument, PatientByIdDocument, RevokeApiKeyDocument, SearchPatientsDocument, UpdatePatientDocument,
} from '../generated/operations.js';
import { defaultPersistedOperations } from '../../gateway/src/persisted/manifest.js';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity } from '../../subgraphs/kit/identity.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.close();
});

/** The GraphQL error codes of a failed graphql-request call. */
async function failureCodes(promise: Promise<unknown>): Promise<unknown[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ClientError) return (error.response.errors ?? []).map((e) => e.extensions?.['code']);
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('identity through the gateway', () => {
  it('answers `me` with the signed-in user and roles', async () => {
    const nurse = await t.client('nurse');
    const { me } = await nurse.request(MeDocument);
    expect(me?.id).toBe(USERS.nurse.id);
    expect(me?.roles).toEqual(['NURSE']);
    expect(me?.memberships[0]?.organization.id).toBe(ORGS.clinicNorth.id);
  });

  it('links a patient user to its patient record', async () => {
    const { me } = await (await t.client('patient')).request(MeDocument);
    expect(me?.patient?.id).toBe(PATIENTS.amaraNorth.id);
  });

  it('lets staff read a patient of their organization and audits the read', async () => {
    const before = await t.platform.database.prisma.auditEvent.count({ where: { entityId: PATIENTS.bayoNorth.id, action: 'read' } });
    const { patient } = await (await t.client('clinician')).request(PatientByIdDocument, { id: PATIENTS.bayoNorth.id });
    expect(patient).toMatchObject({ mrn: 'MCN-10002', name: 'Bayo Samplesson', birthDate: '1972-11-30', organization: { id: ORGS.clinicNorth.id } });
    const audits = await t.platform.database.prisma.auditEvent.findMany({ where: { entityId: PATIENTS.bayoNorth.id, action: 'read' } });
    expect(audits).toHaveLength(before + 1);
    expect(audits.at(-1)).toMatchObject({ actorId: USERS.clinician.id, actorRole: 'CLINICIAN', entityType: 'Patient' });
    // The audit row says who and what, never the values read.
    expect(JSON.stringify(audits)).not.toContain('Samplesson');
  });

  it('refuses another organization’s patient with FORBIDDEN', async () => {
    expect(await failureCodes((await t.client('nurse')).request(PatientByIdDocument, { id: PATIENTS.fayeHospital.id }))).toEqual(['FORBIDDEN']);
  });

  it('lets a chain admin read the patients of the chain’s clinics', async () => {
    const { patient } = await (await t.client('chainAdmin')).request(PatientByIdDocument, { id: PATIENTS.devikaSouth.id });
    expect(patient?.mrn).toBe('MCS-20001');
  });

  it('lets a patient read only their own record', async () => {
    const patientClient = await t.client('patient');
    const { patient } = await patientClient.request(PatientByIdDocument, { id: PATIENTS.amaraNorth.id });
    expect(patient?.id).toBe(PATIENTS.amaraNorth.id);
    expect(await failureCodes(patientClient.request(PatientByIdDocument, { id: PATIENTS.bayoNorth.id }))).toEqual(['FORBIDDEN']);
    const { patients } = await patientClient.request(SearchPatientsDocument, {});
    expect(patients.edges.map((e) => e.node.id)).toEqual([PATIENTS.amaraNorth.id]);
  });

  it('answers NOT_FOUND for an unknown patient id', async () => {
    expect(await failureCodes((await t.client('nurse')).request(PatientByIdDocument, { id: '00000000-0000-4000-8000-000000000000' }))).toEqual(['NOT_FOUND']);
  });

  it('pages through the organization’s patients with a cursor, and searches', async () => {
    const admin = await t.client('admin');
    const first = await admin.request(SearchPatientsDocument, { first: 2 });
    expect(first.patients.edges).toHaveLength(2);
    expect(first.patients.pageInfo.hasNextPage).toBe(true);
    const rest = await admin.request(SearchPatientsDocument, { first: 10, after: first.patients.pageInfo.endCursor });
    const all = [...first.patients.edges, ...rest.patients.edges].map((e) => e.node.mrn);
    // Clinic North's three patients, none from elsewhere, no duplicates.
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((mrn) => mrn.startsWith('MCN-')).length).toBeGreaterThanOrEqual(3);
    expect(all.some((mrn) => mrn.startsWith('RTH-') || mrn.startsWith('MCS-'))).toBe(false);
    const found = await admin.request(SearchPatientsDocument, { search: 'samples' });
    expect(found.patients.edges.map((e) => e.node.mrn)).toEqual(['MCN-10002']);
  });

  it('creates and updates a patient, with precise BAD_USER_INPUT errors', async () => {
    const nurse = await t.client('nurse');
    const { createPatient } = await nurse.request(CreatePatientDocument, {
      input: { mrn: 'MCN-19001', givenName: 'Iris', familyName: 'Newcase', birthDate: '2001-03-04', sex: 'FEMALE', country: 'NG' },
    });
    expect(createPatient).toMatchObject({ mrn: 'MCN-19001', name: 'Iris Newcase', organization: { id: ORGS.clinicNorth.id } });
    // Announced to the other domains' patient directories with the record (ids only).
    const registered = await t.platform.database.prisma.outboxEvent.findMany({ where: { type: 'identity.patient.registered', aggregateId: createPatient.id } });
    expect(registered.map((e) => e.payload)).toEqual([{ patientId: createPatient.id, organizationId: ORGS.clinicNorth.id, mrnDigest: expect.stringMatching(/^[0-9a-f]{64}$/) }]);

    const { updatePatient } = await nurse.request(UpdatePatientDocument, { id: createPatient.id, input: { phone: '+234 555 0100' } });
    expect(updatePatient.contact.phone).toBe('+234 555 0100');
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { type: 'identity.patient.updated', aggregateId: createPatient.id } })).toBe(1);

    const bad = await postGraphQL(
      t.graphqlUrl,
      {
        query: 'mutation($input: CreatePatientInput!) { createPatient(input: $input) { id } }',
        variables: { input: { mrn: 'x', givenName: 'Ok', familyName: 'Fine', birthDate: '2999-01-01', email: 'not-an-email' } },
      },
      { authorization: `Bearer ${await t.tokenFor('nurse')}` },
    );
    expect(errorCodes(bad.json)).toEqual(['BAD_USER_INPUT']);
    const problems = bad.json.errors?.[0]?.extensions?.['problems'] as Array<{ field: string }>;
    expect(problems.map((p) => p.field).sort()).toEqual(['input.birthDate', 'input.email', 'input.mrn']);

    const badDate = await postGraphQL(
      t.graphqlUrl,
      { query: 'mutation { createPatient(input: {mrn: "MCN-19002", givenName: "A", familyName: "B", birthDate: "2020-02-31"}) { id } }' },
      { authorization: `Bearer ${await t.tokenFor('nurse')}` },
    );
    expect(errorCodes(badDate.json)).toEqual(['BAD_USER_INPUT']);
    expect(badDate.json.errors?.[0]?.message).toMatch(/not a calendar date/);
    const badDateVariable = await postGraphQL(
      t.graphqlUrl,
      { query: 'mutation($d: Date!) { createPatient(input: {mrn: "MCN-19002", givenName: "A", familyName: "B", birthDate: $d}) { id } }', variables: { d: 'yesterday' } },
      { authorization: `Bearer ${await t.tokenFor('nurse')}` },
    );
    expect(errorCodes(badDateVariable.json)).toEqual(['BAD_USER_INPUT']);
    expect(await t.platform.database.prisma.patient.count({ where: { mrn: 'MCN-19002' } })).toBe(0);
    expect(bad.json.errors?.[0]?.message).not.toMatch(/at .*\.ts/); // no stack traces
  });

  it('refuses a duplicate MRN in the same organization with CONFLICT and writes nothing', async () => {
    const before = await t.platform.database.prisma.patient.count();
    const codes = await failureCodes(
      (await t.client('nurse')).request(CreatePatientDocument, { input: { mrn: 'MCN-10001', givenName: 'Dup', familyName: 'Licate', birthDate: '1999-01-01' } }),
    );
    expect(codes).toEqual(['CONFLICT']);
    expect(await t.platform.database.prisma.patient.count()).toBe(before);
  });

  it('lets a patient change only their contact details', async () => {
    const patient = await t.client('patient');
    const { updatePatient } = await patient.request(UpdatePatientDocument, { id: PATIENTS.amaraNorth.id, input: { email: 'amara.new@patients.example.invalid' } });
    expect(updatePatient.contact.email).toBe('amara.new@patients.example.invalid');
    expect(await failureCodes(patient.request(UpdatePatientDocument, { id: PATIENTS.amaraNorth.id, input: { mrn: 'MCN-99999' } }))).toEqual(['FORBIDDEN']);
    expect((await t.platform.database.prisma.patient.findUniqueOrThrow({ where: { id: PATIENTS.amaraNorth.id } })).mrn).toBe('MCN-10001');
  });

  it('issues an API key once, stores only its hash, and stops accepting it when revoked', async () => {
    const admin = await t.client('admin');
    const { createApiKey } = await admin.request(CreateApiKeyDocument, { input: { name: 'Metabase', role: 'BI' } });
    expect(createApiKey.key).toMatch(/^cgk_/);
    const stored = await t.platform.database.prisma.apiKey.findUniqueOrThrow({ where: { id: createApiKey.apiKey.id } });
    expect(stored.keyHash).not.toContain(createApiKey.key);
    expect(JSON.stringify(stored)).not.toContain(createApiKey.key.slice(12));

    // BI keys run only manifest operations, by id (test/e2e/persisted.e2e.test.ts): BiConnectionCheck is `{ me { id } }`.
    const byId = { extensions: { persistedQuery: { version: 1, sha256Hash: defaultPersistedOperations().require('BiConnectionCheck').id } } };
    const withKey = await postGraphQL(t.graphqlUrl, byId as never, { 'x-api-key': createApiKey.key });
    expect(withKey.status).toBe(200);
    expect(withKey.json.data).toEqual({ me: null }); // an API key is not a user

    const { revokeApiKey } = await admin.request(RevokeApiKeyDocument, { id: createApiKey.apiKey.id });
    expect(revokeApiKey.revokedAt).not.toBeNull();
    const afterRevoke = await postGraphQL(t.graphqlUrl, byId as never, { 'x-api-key': createApiKey.key });
    expect(afterRevoke.status).toBe(401);
    expect(errorCodes(afterRevoke.json)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses API key roles that are people or admins', async () => {
    const codes = await failureCodes((await t.client('admin')).request(CreateApiKeyDocument, { input: { name: 'sneaky', role: 'ADMIN' } }));
    expect(codes).toEqual(['BAD_USER_INPUT']);
  });

  it('lets an admin register a webhook endpoint (secret shown once) and replay its dead letters', async () => {
    const admin = await t.client('admin');
    const created = await admin.request<{ createWebhookEndpoint: { secret: string; endpoint: { id: string; eventTypes: string[] } } }>(
      'mutation { createWebhookEndpoint(input: {url: "http://127.0.0.1:9/hooks", eventTypes: ["training.session.completed"]}) { secret endpoint { id eventTypes } } }',
    );
    expect(created.createWebhookEndpoint.secret).toMatch(/^whsec_/);
    const listed = await admin.request<{ webhookEndpoints: Array<Record<string, unknown>> }>('{ webhookEndpoints { id url active } }');
    expect(JSON.stringify(listed)).not.toContain(created.createWebhookEndpoint.secret);

    const bad = await postGraphQL(t.graphqlUrl, { query: 'mutation { createWebhookEndpoint(input: {url: "http://10.0.0.5/hooks", eventTypes: ["not an event", "training.session.exploded"]}) { secret } }' }, { authorization: `Bearer ${await t.tokenFor('admin')}` });
    expect(errorCodes(bad.json)).toEqual(['BAD_USER_INPUT']);
    const problems = bad.json.errors?.[0]?.extensions?.['problems'] as Array<{ field: string; message: string }>;
    expect(problems.map((p) => p.field)).toEqual(['input.url', 'input.eventTypes', 'input.eventTypes']);
    // Only the catalogue's types (or *): each unknown one is named.
    expect(problems[2]?.message).toContain('"training.session.exploded"');

    const prisma = t.platform.database.prisma;
    // Recorded as already relayed: the live relay would otherwise fan it out to this endpoint
    // too, racing the hand-made dead letter for the same (event, endpoint).
    const event = await prisma.outboxEvent.create({ data: { source: 'test', type: 'training.session.completed', aggregateId: 's', organizationId: ORGS.clinicNorth.id, payload: {}, relayedAt: new Date(), publishedAt: new Date() } });
    const dead = await prisma.webhookDelivery.create({ data: { eventId: event.id, endpointId: created.createWebhookEndpoint.endpoint.id, status: 'DEAD', attempts: 8, lastStatusCode: 500 } });
    const deadList = await admin.request<{ webhookDeliveries: { edges: Array<{ node: { id: string; attempts: number; eventType: string } }> } }>('{ webhookDeliveries(status: DEAD) { edges { node { id attempts eventType } } } }');
    expect(deadList.webhookDeliveries.edges.map((e) => e.node)).toContainEqual({ id: dead.id, attempts: 8, eventType: 'training.session.completed' });
    // Another organization's admin cannot replay it.
    const hospitalReplay = await (await t.client('hospitalAdmin')).request<{ replayWebhookDeadLetters: number }>('mutation { replayWebhookDeadLetters }');
    expect(hospitalReplay.replayWebhookDeadLetters).toBe(0);
    const replay = await admin.request<{ replayWebhookDeadLetters: number }>('mutation($ids: [ID!]) { replayWebhookDeadLetters(deliveryIds: $ids) }', { ids: [dead.id] });
    expect(replay.replayWebhookDeadLetters).toBe(1);
    // Back in the queue with a fresh attempt budget (the dispatcher may already be retrying it).
    const requeued = await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: dead.id } });
    expect(requeued.status).toBe('PENDING');
    expect(requeued.attempts).toBeLessThan(8);
  });

  it('pages webhook deliveries newest first, and refuses paging arguments it cannot honour', async () => {
    const admin = await t.client('admin');
    type Page = { webhookDeliveries: { edges: Array<{ cursor: string; node: { id: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const PAGE = 'query($first: Int, $after: String) { webhookDeliveries(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }';
    const prisma = t.platform.database.prisma;
    const endpoint = await prisma.webhookEndpoint.findFirstOrThrow({ where: { organizationId: ORGS.clinicNorth.id } });
    for (let i = 0; i < 3; i++) {
      // Marked relayed and published: the relay must not add deliveries while the test pages.
      const event = await prisma.outboxEvent.create({ data: { source: 'test', type: 'training.session.completed', aggregateId: `page-${i}`, organizationId: ORGS.clinicNorth.id, payload: {}, relayedAt: new Date(), publishedAt: new Date() } });
      await prisma.webhookDelivery.create({ data: { eventId: event.id, endpointId: endpoint.id, status: 'DEAD', createdAt: new Date(Date.UTC(2020, 0, 1, 0, 0, i)) } });
    }
    const all = await prisma.webhookDelivery.findMany({ where: { endpoint: { organizationId: ORGS.clinicNorth.id } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    const first = await admin.request<Page>(PAGE, { first: 2 });
    expect(first.webhookDeliveries.pageInfo.hasNextPage).toBe(true);
    const rest = await admin.request<Page>(PAGE, { first: 200, after: first.webhookDeliveries.pageInfo.endCursor });
    expect([...first.webhookDeliveries.edges, ...rest.webhookDeliveries.edges].map((e) => e.node.id)).toEqual(all.map((d) => d.id));
    expect(rest.webhookDeliveries.pageInfo.hasNextPage).toBe(false);

    const refused = async (variables: Record<string, unknown>): Promise<unknown> => {
      const { json } = await postGraphQL(t.graphqlUrl, { query: PAGE, variables }, { authorization: `Bearer ${await t.tokenFor('admin')}` });
      return [errorCodes(json), json.errors?.[0]?.extensions?.['field']];
    };
    expect(await refused({ first: 201 })).toEqual([['BAD_USER_INPUT'], 'first']);
    expect(await refused({ first: -1 })).toEqual([['BAD_USER_INPUT'], 'first']);
    expect(await refused({ after: 'bm90IGEgY3Vyc29y' })).toEqual([['BAD_USER_INPUT'], 'after']);
  });

  it('lets an admin deactivate a member of their organization (idempotently), and not of another', async () => {
    const prisma = t.platform.database.prisma;
    const member = await prisma.user.create({ data: { email: 'leaving-nurse@caregraph.example.invalid', displayName: 'Leaving Nurse', memberships: { create: { organizationId: ORGS.clinicNorth.id, role: 'NURSE' } } } });
    const DEACTIVATE = 'mutation($id: ID!) { deactivateUser(id: $id) { id deactivatedAt } }';
    const admin = await t.client('admin');
    const first = await admin.request<{ deactivateUser: { id: string; deactivatedAt: string } }>(DEACTIVATE, { id: member.id });
    expect(first.deactivateUser.deactivatedAt).toEqual(expect.any(String));
    const again = await admin.request<{ deactivateUser: { deactivatedAt: string } }>(DEACTIVATE, { id: member.id });
    expect(again.deactivateUser.deactivatedAt).toBe(first.deactivateUser.deactivatedAt);
    expect(await failureCodes((await t.client('hospitalAdmin')).request(DEACTIVATE, { id: USERS.nurse.id }))).toEqual(['FORBIDDEN']);
    expect((await prisma.user.findUniqueOrThrow({ where: { id: USERS.nurse.id } })).deactivatedAt).toBeNull();
  });
});

describe('credential checks for the gateway', () => {
  const identityBase = (): string => t.platform.subgraphs.find((s) => s.name === 'identity')?.url ?? '';
  async function post(path: string, body: unknown, as: Identity = GATEWAY): Promise<{ status: number; json: { active?: boolean; errors?: Array<{ extensions?: Record<string, unknown> }> } }> {
    const response = await fetch(`${identityBase()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(as, t.keys.internalIdentitySecret) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as never };
  }
  const GATEWAY: Identity = { kind: 'service', subject: 'gateway', role: 'SERVICE', organizationId: null };
  const CHECK = '/internal/credentials/platform-user';

  it('answers whether a platform token’s user is still active with that role in that organization', async () => {
    expect(await post(CHECK, { userId: USERS.clinician.id, role: 'CLINICIAN', organizationId: ORGS.clinicNorth.id })).toEqual({ status: 200, json: { active: true } });
    expect((await post(CHECK, { userId: USERS.clinician.id, role: 'CLINICIAN', organizationId: null })).status).toBe(200);
    for (const claims of [
      { userId: USERS.clinician.id, role: 'ADMIN', organizationId: ORGS.clinicNorth.id },
      { userId: USERS.clinician.id, role: 'CLINICIAN', organizationId: ORGS.hospital.id },
      { userId: '00000000-0000-4000-8000-000000000000', role: 'CLINICIAN', organizationId: null },
      // Learners are training's to vouch for.
      { userId: USERS.learner.id, role: 'LEARNER', organizationId: ORGS.clinicNorth.id },
    ]) {
      const { status, json } = await post(CHECK, claims);
      expect([status, errorCodes(json)]).toEqual([401, ['UNAUTHENTICATED']]);
    }
  });

  it('refuses malformed checks (400) and anyone but the gateway (403)', async () => {
    for (const body of ['not json', { role: 'NURSE', organizationId: null }, { userId: USERS.nurse.id, role: 'KING', organizationId: null }, { userId: USERS.nurse.id, role: 'NURSE' }, { userId: USERS.nurse.id, role: 'NURSE', organizationId: 7 }]) {
      const { status, json } = await post(CHECK, body);
      expect([status, errorCodes(json)]).toEqual([400, ['BAD_USER_INPUT']]);
    }
    const asAdmin: Identity = { kind: 'user', subject: USERS.admin.id, role: 'ADMIN', organizationId: ORGS.clinicNorth.id };
    expect((await post(CHECK, { userId: USERS.admin.id, role: 'ADMIN', organizationId: ORGS.clinicNorth.id }, asAdmin)).status).toBe(403);
    // Never public at the gateway.
    expect((await fetch(`${t.baseUrl}${CHECK}`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('a deactivated user is no longer active, and cannot sign in with OIDC', async () => {
    const signIn = { issuer: 'https://idp.example.invalid', subject: 'deactivated-42', organizationId: ORGS.clinicNorth.id, role: 'NURSE' };
    const first = await post('/internal/credentials/oidc', signIn);
    expect(first.status).toBe(200);
    const userId = ((first.json as { identity?: { subject: string } }).identity?.subject) ?? '';
    expect((await post(CHECK, { userId, role: 'NURSE', organizationId: ORGS.clinicNorth.id })).status).toBe(200);
    await (await t.client('admin')).request('mutation($id: ID!) { deactivateUser(id: $id) { id } }', { id: userId });
    expect((await post(CHECK, { userId, role: 'NURSE', organizationId: ORGS.clinicNorth.id })).status).toBe(401);
    const again = await post('/internal/credentials/oidc', signIn);
    expect([again.status, errorCodes(again.json)]).toEqual([401, ['UNAUTHENTICATED']]);
  });
});
