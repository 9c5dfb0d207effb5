import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { composeSupergraph } from '../../scripts/composition.js';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { visitsCalls, visitsSubgraph } from '../support/visits-subgraph.js';

let t: TestPlatform;
const subgraphs = [...SUBGRAPHS, visitsSubgraph];
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestPlatform({
    subgraphs,
    supergraphSdl: composeSupergraph(subgraphs).supergraphSdl,
    limits: { maxDepth: 6, maxAliases: 5 },
  });
});
afterEach(async () => {
  for (const client of clients.splice(0)) await client.dispose();
});
afterAll(async () => {
  await t?.close();
});

const wsUrl = (): string => `${t.graphqlUrl.replace(/^http/, 'ws')}`;

/** A graphql-ws client as a frontend would open it (no retries, so failures surface). */
function connect(connectionParams: Record<string, unknown> = {}): Client {
  const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
  clients.push(client);
  return client;
}
const connectAs = async (user: keyof typeof USERS): Promise<Client> => connect({ authorization: `Bearer ${await t.tokenFor(user)}` });

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** One subscription's events as a queue the test can await, plus how it ended. */
function subscribe(client: Client, query: string, variables?: Record<string, unknown>) {
  const events: Result[] = [];
  const waiters: Array<(event: Result) => void> = [];
  let resolveEnd!: (outcome: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (resolveEnd = resolve));
  const unsubscribe = client.subscribe<Record<string, unknown>, unknown>(
    { query, variables },
    {
      next: (event) => {
        const waiter = waiters.shift();
        if (waiter) waiter(event);
        else events.push(event);
      },
      error: (error) => resolveEnd({ error }),
      complete: () => resolveEnd({}),
    },
  );
  return {
    unsubscribe,
    ended,
    next: (): Promise<Result> => {
      const event = events.shift();
      if (event) return Promise.resolve(event);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no event within 10 s')), 10_000);
        waiters.push((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      });
    },
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A one-shot operation over a client's socket. */
async function execute(client: Client, query: string, variables?: Record<string, unknown>): Promise<Result> {
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
  const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
  const match = /caregraph_subgraph_fetch_duration_seconds_count\{subgraph="identity",outcome="(?:ok|error)"\} (\d+)/g;
  let total = 0;
  for (const m of text.matchAll(match)) total += Number(m[1]);
  return total;
}

const VISIT_RECORDED = 'subscription VisitRecorded { visitRecorded { id reason patient { name mrn } } }';

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
    subscribe(nurse, VISIT_RECORDED);
    subscribe(nurse, VISIT_RECORDED);
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
