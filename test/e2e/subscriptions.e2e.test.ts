import { createClient as createSseClient, NetworkError } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { composeSupergraph } from '../../scripts/composition.js';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { signPlatformToken } from '../../subgraphs/kit/tokens.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { visitsCalls, visitsSubgraph } from '../support/visits-subgraph.js';
import { connectWs, subscribeWs, type StreamingClient, type WsResult } from '../support/graphql-ws.js';

let t: TestPlatform;
const subgraphs = [...SUBGRAPHS, visitsSubgraph];
const clients: Array<{ dispose(): void | Promise<void> }> = [];

beforeAll(async () => {
  t = await startTestPlatform({
    subgraphs,
    supergraphSdl: composeSupergraph(subgraphs).supergraphSdl,
    limits: { maxDepth: 6, maxAliases: 5 },
  });
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
  // Tests count upstream subscriptions from a baseline: let the last test's teardown finish first.
  const deadline = Date.now() + 5_000;
  while (visitsCalls.openSubscriptions > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
});
afterAll(async () => {
  await t?.close();
});

const wsUrl = (): string => `${t.graphqlUrl.replace(/^http/, 'ws')}`;

/** A graphql-ws client as a frontend would open it (no retries, so failures surface). */
function connect(connectionParams: Record<string, unknown> = {}): Client {
  const client = connectWs(wsUrl(), connectionParams);
  clients.push(client);
  return client;
}
const connectAs = async (user: keyof typeof USERS): Promise<Client> => connect({ authorization: `Bearer ${await t.tokenFor(user)}` });

/**
 * A graphql-sse client in "distinct connections" mode, as a browser without WebSockets would
 * use it: every operation is its own POST with `Accept: text/event-stream`.
 */
function sseClient(headers: Record<string, string> = {}): StreamingClient {
  const client = createSseClient({ url: `${t.baseUrl}/graphql/stream`, headers, retryAttempts: 0 });
  clients.push(client);
  return client as unknown as StreamingClient;
}
const sseAs = async (user: keyof typeof USERS): Promise<StreamingClient> => sseClient({ authorization: `Bearer ${await t.tokenFor(user)}` });

type Result = WsResult;

const subscribe = subscribeWs;

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A one-shot operation over a client's socket (or SSE). */
async function execute(client: Client | StreamingClient, query: string, variables?: Record<string, unknown>): Promise<Result> {
  const sub = subscribe(client, query, variables);
  const result = await sub.next();
  await sub.ended;
  return result;
}

const recordVisit = async (client: Client, patientId: string, reason: string): Promise<void> => {
  const result = await execute(client, 'mutation($p: ID!, $r: String!) { recordVisit(patientId: $p, reason: $r) { id } }', { p: patientId, r: reason });
  expect(result.errors).toBeUndefined();
};

/** Identity-subgraph fetches the gateway made, from its Prometheus metrics. */
async function identityFetches(): Promise<number> {
  const text = await (await fetch(t.platform.gateway.metricsUrl)).text();
  const match = /caregraph_subgraph_fetch_duration_seconds_count\{subgraph="identity",outcome="(?:ok|error)"\} (\d+)/g;
  let total = 0;
  for (const m of text.matchAll(match)) total += Number(m[1]);
  return total;
}

const VISIT_RECORDED = 'subscription VisitRecorded { visitRecorded { id reason patient { name mrn } } }';

/** One sample from the gateway's /metrics (0 when absent). */
async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(t.platform.gateway.metricsUrl)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((w) => present.includes(w))) total += Number(match[3]);
  }
  return total;
}
const active = async (): Promise<number> => metric('caregraph_subscriptions_active');

describe('a subscription through the gateway', () => {
  it('resolves fields of another subgraph for every event, and tears the upstream down when the client leaves', async () => {
    const nurse = await connectAs('nurse');
    const open = visitsCalls.openSubscriptions;
    const sub = subscribe(nurse, VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');

    const before = await identityFetches();
    await recordVisit(nurse, PATIENTS.amaraNorth.id, 'Check-in');
    const first = await sub.next();
    expect(first.errors).toBeUndefined();
    expect(first.data).toEqual({ visitRecorded: { id: expect.stringMatching(/^visit-/), reason: 'Check-in', patient: { name: 'Amara Testwell', mrn: 'MCN-10001' } } });
    const afterFirst = await identityFetches();
    expect(afterFirst).toBe(before + 1); // one _entities fetch to identity for this event

    await recordVisit(nurse, PATIENTS.bayoNorth.id, 'Blood pressure');
    expect((await sub.next()).data).toMatchObject({ visitRecorded: { reason: 'Blood pressure', patient: { name: 'Bayo Samplesson', mrn: 'MCN-10002' } } });
    expect(await identityFetches()).toBe(afterFirst + 1); // and another one for the next event

    sub.unsubscribe();
    await sub.ended;
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
  });

  it('puts an entity error in that event only and keeps the stream open', async () => {
    const nurse = await connectAs('nurse');
    const open = visitsCalls.openSubscriptions;
    const sub = subscribe(nurse, VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');

    // The visit is Clinic North's (the nurse sees it); the patient is the hospital's (she may not).
    await recordVisit(nurse, PATIENTS.fayeHospital.id, 'Transfer');
    const denied = await sub.next();
    expect(denied.errors?.length).toBeGreaterThan(0);
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', serviceName: 'identity' });
    expect(denied.errors?.[0]?.path?.slice(0, 2)).toEqual(['visitRecorded', 'patient']);
    expect(JSON.stringify(denied)).not.toContain('Synthetica');

    await recordVisit(nurse, PATIENTS.amaraNorth.id, 'After the transfer');
    const next = await sub.next();
    expect(next.errors).toBeUndefined();
    expect(next.data).toMatchObject({ visitRecorded: { reason: 'After the transfer', patient: { name: 'Amara Testwell' } } });
    sub.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
  });

  it('applies the subgraph’s rules to each event: a patient hears only their own visits', async () => {
    const patient = await connectAs('patient');
    const nurse = await connectAs('nurse');
    const open = visitsCalls.openSubscriptions;
    const sub = subscribe(patient, 'subscription { visitRecorded { reason patient { mrn } } }');
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');
    await recordVisit(nurse, PATIENTS.bayoNorth.id, 'Not yours');
    await recordVisit(nurse, PATIENTS.amaraNorth.id, 'Yours');
    expect((await sub.next()).data).toEqual({ visitRecorded: { reason: 'Yours', patient: { mrn: 'MCN-10001' } } });
    sub.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
  });

  it('tears the upstream subscription down when the client disconnects', async () => {
    const nurse = await connectAs('nurse');
    const open = visitsCalls.openSubscriptions;
    // Two different operations: identical ones would share one upstream subscription.
    subscribe(nurse, VISIT_RECORDED);
    subscribe(nurse, 'subscription { visitRecorded { id } }');
    await eventually(() => visitsCalls.openSubscriptions === open + 2, 'both upstream subscriptions');
    await nurse.dispose();
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscriptions to close');
  });

  it('refuses an operation over the limits before anything reaches a subgraph', async () => {
    const nurse = await connectAs('nurse');
    const sub = subscribe(nurse, `subscription { ${Array.from({ length: 6 }, (_, i) => `a${i}: visitRecorded { id }`).join(' ')} }`);
    const { error } = await sub.ended;
    expect(Array.isArray(error)).toBe(true);
    expect((error as Array<{ extensions?: Record<string, unknown> }>).map((e) => e.extensions?.['code'])).toContain('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('identity on the socket', () => {
  const closeCode = (error: unknown): unknown => (error as { code?: unknown } | undefined)?.code;

  it('closes with 4403 when the token is not valid', async () => {
    const client = connect({ authorization: 'Bearer not-a-token' });
    const { error } = await subscribe(client, VISIT_RECORDED).ended;
    expect(closeCode(error)).toBe(4403);
  });

  it('closes with 4403 when the API key is not valid', async () => {
    const client = connect({ 'x-api-key': 'cg_nope' });
    const { error } = await subscribe(client, '{ me { id } }').ended;
    expect(closeCode(error)).toBe(4403);
  });

  it('connects without a credential, but closes with 4401 when a subscription needs one', async () => {
    const open = visitsCalls.openSubscriptions;
    const client = connect();
    const closed = new Promise<unknown>((resolve) => client.on('closed', resolve));
    const sub = subscribe(client, VISIT_RECORDED);
    // The operation learns why (its own error), then the socket closes so the client signs in.
    const refusal = await sub.next();
    expect(refusal).toMatchObject({ data: null, errors: [{ path: ['visitRecorded'], extensions: { code: 'UNAUTHENTICATED', serviceName: 'visits' } }] });
    expect(await sub.ended).toEqual({});
    expect(closeCode(await closed)).toBe(4401);
    expect(visitsCalls.openSubscriptions).toBe(open);
  });

  it('answers queries and mutations over the same socket as over HTTP', async () => {
    const nurse = await connectAs('nurse');
    expect(await execute(nurse, '{ me { id } }')).toEqual({ data: { me: { id: USERS.nurse.id } } });
    const mutation = await execute(nurse, 'mutation { noop }');
    expect(mutation.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN'); // noop has no rule: denied by default
    const anonymous = await execute(connect(), '{ me { id } }');
    expect(anonymous.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('refuses a subgraph WebSocket without the gateway’s signed identity (4401)', async () => {
    const visits = t.platform.subgraphs.find((s) => s.name === 'visits');
    const client = createClient({ url: `${visits?.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(client);
    const { error } = await subscribe(client, VISIT_RECORDED).ended;
    expect(closeCode(error)).toBe(4401);
  });
});

describe('deduplication', () => {
  it('gives identical subscriptions of one identity one upstream subscription and one execution per event', async () => {
    const open = visitsCalls.openSubscriptions;
    const activeBefore = await active();
    const [a, b, sse] = [await connectAs('nurse'), await connectAs('nurse'), await sseAs('nurse')];
    // Four subscribers, two sockets and an SSE stream, one identity (separately issued tokens).
    const subs = [subscribe(a, VISIT_RECORDED), subscribe(a, VISIT_RECORDED), subscribe(b, VISIT_RECORDED), subscribe(sse, VISIT_RECORDED)];
    await eventually(async () => (await active()) === activeBefore + 4, 'four admitted subscribers');
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');
    expect(await metric('caregraph_subscription_upstreams_active')).toBe(1);

    const fetchesBefore = await identityFetches();
    await recordVisit(a, PATIENTS.amaraNorth.id, 'Shared');
    for (const sub of subs) expect((await sub.next()).data).toMatchObject({ visitRecorded: { reason: 'Shared', patient: { name: 'Amara Testwell' } } });
    expect(await identityFetches()).toBe(fetchesBefore + 1); // executed once, delivered four times

    // Another identity, or another operation text: their own upstream subscriptions.
    const clinician = subscribe(await connectAs('clinician'), VISIT_RECORDED);
    const other = subscribe(b, 'subscription VisitRecorded { visitRecorded { id reason } }');
    await eventually(() => visitsCalls.openSubscriptions === open + 3, 'separate upstreams for another identity and another operation');

    // The upstream stays while any subscriber does; the last one to leave closes it.
    for (const sub of subs.slice(0, 3)) sub.unsubscribe();
    await recordVisit(a, PATIENTS.amaraNorth.id, 'Still here');
    expect((await subs[3]!.next()).data).toMatchObject({ visitRecorded: { reason: 'Still here' } });
    expect((await clinician.next()).data).toMatchObject({ visitRecorded: { reason: 'Still here' } });
    expect(visitsCalls.openSubscriptions).toBe(open + 3);
    subs[3]!.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === open + 2, 'the shared upstream to close with its last subscriber');
    clinician.unsubscribe();
    other.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === open, 'every upstream to close');
    await eventually(async () => (await active()) === activeBefore, 'no subscriber left');
  });

  it('counts subscriptions in /metrics by transport, events, and per operation', async () => {
    const requestsBefore = await metric('caregraph_graphql_requests_total', { operation: 'VisitRecorded', type: 'subscription', outcome: 'ok' });
    const eventsBefore = await metric('caregraph_subscription_events_total', { operation: 'VisitRecorded' });
    const ws = await connectAs('nurse');
    const wsSub = subscribe(ws, VISIT_RECORDED);
    const sseSub = subscribe(await sseAs('nurse'), VISIT_RECORDED);
    await eventually(async () => (await metric('caregraph_subscriptions_active', { transport: 'ws' })) === 1 && (await metric('caregraph_subscriptions_active', { transport: 'sse' })) === 1, 'one subscriber on each transport');
    expect(await metric('caregraph_subscription_connections_active', { transport: 'sse' })).toBe(1);
    await recordVisit(ws, PATIENTS.amaraNorth.id, 'Counted');
    await wsSub.next();
    await sseSub.next();
    expect(await metric('caregraph_subscription_events_total', { operation: 'VisitRecorded' })).toBe(eventsBefore + 1);
    expect(await metric('caregraph_subscription_messages_total', { transport: 'sse' })).toBeGreaterThanOrEqual(1);
    expect(await metric('caregraph_graphql_requests_total', { operation: 'VisitRecorded', type: 'subscription', outcome: 'ok' })).toBe(requestsBefore + 2);
    wsSub.unsubscribe();
    sseSub.unsubscribe();
    await eventually(async () => (await active()) === 0, 'both subscribers gone');
    expect(await metric('caregraph_subscriptions_ended_total', { reason: 'client' })).toBeGreaterThanOrEqual(2);
  });
});

describe('GraphQL over SSE (graphql-sse, distinct connections)', () => {
  it('streams a federated subscription with fields of another subgraph per event', async () => {
    const open = visitsCalls.openSubscriptions;
    const sub = subscribe(await sseAs('nurse'), VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');
    const nurse = await connectAs('nurse');
    await recordVisit(nurse, PATIENTS.bayoNorth.id, 'Over SSE');
    expect(await sub.next()).toEqual({ data: { visitRecorded: { id: expect.stringMatching(/^visit-/), reason: 'Over SSE', patient: { name: 'Bayo Samplesson', mrn: 'MCN-10002' } } } });
    sub.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close when the client aborts');
  });

  it('answers queries and mutations, and reports validation errors in the stream', async () => {
    const sse = await sseAs('nurse');
    expect(await execute(sse, '{ me { id } }')).toEqual({ data: { me: { id: USERS.nurse.id } } });
    const invalid = await execute(sse, 'subscription { visitRecorded { nope } }');
    expect(invalid.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a bad credential with 401 UNAUTHENTICATED before anything runs, as HTTP does', async () => {
    const { error } = await subscribe(sseClient({ authorization: 'Bearer not-a-token' }), VISIT_RECORDED).ended;
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError<Response>).response?.status).toBe(401);
    const raw = await fetch(`${t.baseUrl}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'x-api-key': 'cg_nope' },
      body: JSON.stringify({ query: VISIT_RECORDED }),
    });
    expect(raw.status).toBe(401);
    expect(errorCodes((await raw.json()) as { errors?: Array<{ extensions?: Record<string, unknown> }> })).toEqual(['UNAUTHENTICATED']);
  });

  it('lets an anonymous caller connect, and passes on the subgraph’s refusal', async () => {
    const refusal = await execute(sseClient(), VISIT_RECORDED);
    expect(refusal).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED', serviceName: 'visits' } }] });
  });
});

describe('a credential that expires mid-stream', () => {
  const shortLivedToken = async (): Promise<string> =>
    signPlatformToken(t.keys, { userId: USERS.nurse.id, role: USERS.nurse.role, organizationId: USERS.nurse.organizationId }, 2);

  it('ends the socket’s subscriptions with UNAUTHENTICATED and closes it with 4401', async () => {
    const open = visitsCalls.openSubscriptions;
    const client = connect({ authorization: `Bearer ${await shortLivedToken()}` });
    const closed = new Promise<unknown>((resolve) => client.on('closed', resolve));
    const sub = subscribe(client, VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');
    const started = Date.now();
    const last = await sub.next();
    expect(Date.now() - started).toBeLessThan(3_500);
    expect(last).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIAL_EXPIRED' } }] });
    expect(await sub.ended).toEqual({});
    expect((await closed as { code?: unknown }).code).toBe(4401);
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
  });

  it('ends an SSE stream with UNAUTHENTICATED', async () => {
    const open = visitsCalls.openSubscriptions;
    const sub = subscribe(sseClient({ authorization: `Bearer ${await shortLivedToken()}` }), VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');
    expect(await sub.next()).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(await sub.ended).toEqual({});
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
  });
});

describe('a supergraph reload', () => {
  it('ends open subscriptions with SUBSCRIPTION_SCHEMA_RELOAD; HTTP and new subscriptions use the new supergraph', async () => {
    const gateway = t.platform.gateway;
    const full = composeSupergraph(subgraphs).supergraphSdl;
    const withoutVisits = composeSupergraph(SUBGRAPHS).supergraphSdl;
    const auth = { authorization: `Bearer ${await t.tokenFor('nurse')}` };
    const open = visitsCalls.openSubscriptions;
    const nurse = await connectAs('nurse');
    const wsSub = subscribe(nurse, VISIT_RECORDED);
    const sseSub = subscribe(await sseAs('nurse'), VISIT_RECORDED);
    await eventually(async () => (await active()) === 2, 'both subscribers');

    expect(() => gateway.reloadSupergraph('type Query { nope: Int }')).toThrow();
    expect((await postGraphQL(t.graphqlUrl, { query: '{ visits { id } }' }, auth)).json.errors).toBeUndefined(); // unchanged

    gateway.reloadSupergraph(withoutVisits);
    for (const sub of [wsSub, sseSub]) {
      expect(await sub.next()).toMatchObject({ data: null, errors: [{ extensions: { code: 'SUBSCRIPTION_SCHEMA_RELOAD' } }] });
      expect(await sub.ended).toEqual({});
    }
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
    const gone = await postGraphQL(t.graphqlUrl, { query: '{ visits { id } }' }, auth);
    expect(errorCodes(gone.json)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const refused = await subscribe(nurse, VISIT_RECORDED).ended;
    expect((refused.error as Array<{ extensions?: Record<string, unknown> }>)[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');

    gateway.reloadSupergraph(full);
    expect((await postGraphQL(t.graphqlUrl, { query: '{ visits { id } }' }, auth)).json.errors).toBeUndefined();
    const again = subscribe(nurse, VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'a new upstream subscription');
    await recordVisit(nurse, PATIENTS.amaraNorth.id, 'After reload');
    expect((await again.next()).data).toMatchObject({ visitRecorded: { reason: 'After reload', patient: { name: 'Amara Testwell' } } });
    again.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === open, 'the upstream subscription to close');
  });
});

// Last: it stops the visits subgraph.
describe('an upstream that fails', () => {
  it('ends the client’s stream with an error', async () => {
    const nurse = await connectAs('nurse');
    const open = visitsCalls.openSubscriptions;
    const sub = subscribe(nurse, VISIT_RECORDED);
    await eventually(() => visitsCalls.openSubscriptions === open + 1, 'the upstream subscription');
    await t.platform.subgraphs.find((s) => s.name === 'visits')?.close();
    const last = await sub.next();
    expect(last.errors?.[0]?.extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'visits' });
    expect(await sub.ended).toEqual({});
  });
});
