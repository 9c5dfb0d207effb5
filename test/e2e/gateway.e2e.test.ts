import { gql, GraphQLClient } from 'graphql-request';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { composeSupergraph } from '../../scripts/composition.js';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { visitsCalls, visitsSubgraph } from '../support/visits-subgraph.js';

let t: TestPlatform;
const subgraphs = [...SUBGRAPHS, visitsSubgraph];

beforeAll(async () => {
  t = await startTestPlatform({
    subgraphs,
    supergraphSdl: composeSupergraph(subgraphs).supergraphSdl,
    limits: { maxDepth: 6, maxAliases: 5, maxBodyBytes: 20_000 },
  });
});
afterAll(async () => {
  await t?.close();
});

const VISITS_WITH_PATIENTS = gql`
  query VisitsWithPatients {
    visits {
      id
      reason
      patient { id name mrn }
    }
  }
`;

describe('a query joining two subgraphs', () => {
  it('resolves Patient fields from identity and visits from the test subgraph, both ways', async () => {
    const before = visitsCalls.patientReferences;
    const nurse = await t.client('nurse');
    const { visits } = await nurse.request<{ visits: Array<{ id: string; reason: string; patient: { id: string; name: string; mrn: string } }> }>(VISITS_WITH_PATIENTS);
    expect(visits.map((v) => [v.id, v.patient.name, v.patient.mrn])).toEqual([
      ['visit-1', 'Amara Testwell', 'MCN-10001'],
      ['visit-2', 'Amara Testwell', 'MCN-10001'],
      ['visit-3', 'Bayo Samplesson', 'MCN-10002'],
    ]);

    const { patient } = await nurse.request<{ patient: { name: string; visits: Array<{ reason: string }> } }>(
      gql`query($id: ID!) { patient(id: $id) { name visits { reason } } }`,
      { id: PATIENTS.amaraNorth.id },
    );
    expect(patient).toEqual({ name: 'Amara Testwell', visits: [{ reason: 'Follow-up' }, { reason: 'Vaccination' }] });
    expect(visitsCalls.patientReferences).toBeGreaterThan(before); // the gateway asked the visits subgraph for the Patient entity
  });

  it('keeps access rules on the joined side: a patient sees only their own visits', async () => {
    const { visits } = await (await t.client('patient')).request<{ visits: Array<{ id: string; patient: { id: string } }> }>(VISITS_WITH_PATIENTS);
    expect(visits.map((v) => v.id)).toEqual(['visit-1', 'visit-2']);
  });
});

describe('gateway limits', () => {
  const headersFor = async (): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor('admin')}` });

  it('refuses a query deeper than the limit', async () => {
    const deep = '{ me { memberships { organization { parent { parent { parent { parent { id } } } } } } } }';
    const { status, json } = await postGraphQL(t.graphqlUrl, { query: deep }, await headersFor());
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', reason: 'QUERY_TOO_DEEP', limit: 6 });
  });

  it('counts depth through fragments too', async () => {
    const query = 'query { me { ...M } } fragment M on User { memberships { organization { parent { parent { parent { parent { id } } } } } } }';
    const { json } = await postGraphQL(t.graphqlUrl, { query }, await headersFor());
    expect(json.errors?.[0]?.extensions?.['reason']).toBe('QUERY_TOO_DEEP');
  });

  it('refuses too many aliases', async () => {
    const query = `{ ${Array.from({ length: 6 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const { status, json } = await postGraphQL(t.graphqlUrl, { query }, await headersFor());
    expect(status).toBe(400);
    expect(json.errors?.[0]?.extensions).toMatchObject({ reason: 'TOO_MANY_ALIASES', limit: 5 });
  });

  it('refuses an oversized body with 413 and keeps serving', async () => {
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(30_000)}` }),
    });
    expect(response.status).toBe(413);
    expect(errorCodes((await response.json()) as never)).toEqual(['PAYLOAD_TOO_LARGE']);
    const after = await postGraphQL(t.graphqlUrl, { query: '{ me { id } }' }, await headersFor());
    expect(after.json.data).toEqual({ me: { id: USERS.admin.id } });
  });

  it('answers malformed JSON with 400', async () => {
    const response = await fetch(t.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(response.status).toBe(400);
  });
});

describe('gateway routes', () => {
  it('serves /health and /ready (every subgraph reachable)', async () => {
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, subgraphs: Object.fromEntries(subgraphs.map((subgraph) => [subgraph.name, 'ok'])) });
  });

  it('publishes the platform’s public keys, without private parts', async () => {
    const jwks = (await (await fetch(`${t.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', alg: 'ES256', kid: t.keys.signingKey?.kid });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('exposes Prometheus metrics by operation, subgraph and error code', async () => {
    await (await t.client('nurse')).request(VISITS_WITH_PATIENTS);
    await postGraphQL(t.graphqlUrl, { query: 'query Nope { patient(id: "x") { id } }' });
    const text = await (await fetch(t.platform.gateway.metricsUrl)).text();
    expect(text).toMatch(/caregraph_graphql_requests_total\{operation="VisitsWithPatients",type="query",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/caregraph_graphql_request_duration_seconds_count\{operation="VisitsWithPatients",type="query"\} [1-9]/);
    expect(text).toMatch(/caregraph_subgraph_fetch_duration_seconds_count\{subgraph="visits",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/caregraph_subgraph_fetch_duration_seconds_count\{subgraph="identity",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/caregraph_graphql_errors_total\{operation="Nope",code="UNAUTHENTICATED"\} [1-9]/);
  });

  it('serves a subgraph’s public HTTP route at the gateway’s address with the raw body intact', async () => {
    const raw = Buffer.from('{"b": 2,  "a": 1}\n'); // odd spacing: a re-serialised body would differ
    const response = await fetch(`${t.baseUrl}/webhooks/visits/lab?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-visits-signature': 'sig-123' },
      body: raw,
    });
    expect(response.status).toBe(202);
    const echoed = (await response.json()) as { source: string; bodyBase64: string; signature: string; identityKind: string };
    expect(echoed).toEqual({ source: 'lab', bodyBase64: raw.toString('base64'), signature: 'sig-123', identityKind: 'anonymous' });
  });

  it('passes a subgraph’s redirect and every cookie through untouched, without following it', async () => {
    const response = await fetch(`${t.baseUrl}/webhooks/visits/redirect`, { method: 'POST', body: '{}', redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('https://elsewhere.example/next?x=1');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/; Secure']);
  });

  it('answers 404 for unknown routes', async () => {
    expect((await fetch(`${t.baseUrl}/nothing-here`)).status).toBe(404);
  });

  it('allows introspection outside production', async () => {
    const { json } = await postGraphQL(t.graphqlUrl, { query: '{ __schema { queryType { name } } }' });
    expect(json.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});

describe('production mode', () => {
  it('turns introspection off', async () => {
    const prod = await startTestPlatform({ production: true });
    try {
      const { json } = await postGraphQL(prod.graphqlUrl, { query: '{ __schema { queryType { name } } }' });
      expect(json.data ?? null).toBeNull();
      expect(errorCodes(json)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const client = new GraphQLClient(prod.graphqlUrl, { headers: { authorization: `Bearer ${await prod.tokenFor('nurse')}` } });
      expect(await client.request<{ me: { id: string } }>('{ me { id } }')).toEqual({ me: { id: USERS.nurse.id } });
    } finally {
      await prod.close();
    }
  });
});
