import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { composeSupergraph } from '../../scripts/composition.js';
import { PATIENTS, USERS } from '../../prisma/seed-data.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { VISIT_RECORDED_TOPIC, visitsCalls, visitsSubgraph } from '../support/visits-subgraph.js';

/** Small limits, so each can be reached with a handful of clients. */
const LIMITS = { maxSubscriptionsPerConnection: 2, maxSubscriptionsPerIdentity: 3, maxConnectionsPerAddress: 4, subscriptionBuffer: 8 };

let t: TestPlatform;
const subgraphs = [...SUBGRAPHS, visitsSubgraph];
const disposers: Array<() => unknown> = [];

beforeAll(async () => {
  t = await startTestPlatform({ subgraphs, supergraphSdl: composeSupergraph(subgraphs).supergraphSdl, limits: LIMITS });
});
afterEach(async () => {
  for (const dispose of disposers.splice(0)) await dispose();
  // Every test starts with no connection from this address and no upstream subscription.
  await eventually(async () => (await gauge('subscriptionConnections')) === 0 && visitsCalls.openSubscriptions === 0, 'the last test’s connections to close');
});
afterAll(async () => {
  await t?.close();
});

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;
type Message = { type: string; id?: string; payload?: unknown };

async function gauge(name: 'subscriptionConnections' | 'subscriptionsActive' | 'subscriptionsEnded', labels: Record<string, string> = {}): Promise<number> {
  const metric = await t.platform.gateway.metrics[name].get();
  return metric.values.filter((v) => Object.entries(labels).every(([k, value]) => (v.labels as Record<string, unknown>)[k] === value)).reduce((sum, v) => sum + v.value, 0);
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const wsUrl = (): string => t.graphqlUrl.replace(/^http/, 'ws');

async function connectAs(user: keyof typeof USERS): Promise<Client> {
  const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${await t.tokenFor(user)}` } });
  disposers.push(() => client.dispose());
  return client;
}

function subscribe(client: Client, query: string) {
  const events: Result[] = [];
  let resolveEnd!: (outcome: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (resolveEnd = resolve));
  const unsubscribe = client.subscribe<Record<string, unknown>, unknown>(
    { query },
    { next: (event) => events.push(event), error: (error) => resolveEnd({ error }), complete: () => resolveEnd({}) },
  );
  return { events, ended, unsubscribe };
}

const firstError = (error: unknown): Record<string, unknown> | undefined => (error as Array<{ extensions?: Record<string, unknown> }>)[0]?.extensions;

/** A raw WebSocket speaking graphql-transport-ws, so a test can stop reading from it. */
async function rawSocket(user?: keyof typeof USERS): Promise<{ socket: WebSocket; messages: Message[] }> {
  const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
  disposers.push(() => socket.terminate());
  const messages: Message[] = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as Message));
  await once(socket, 'open');
  if (user) {
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${await t.tokenFor(user)}` } }));
    await eventually(() => messages.some((m) => m.type === 'connection_ack'), 'connection_ack');
  }
  return { socket, messages };
}

const SUBSCRIPTION = 'subscription { visitRecorded { id reason } }';

/**
 * Publishes large visit events in small bursts until `done`; returns how many were published.
 * With `received`, each burst waits until a reading subscriber has everything so far: on a
 * loaded machine it must not be the test client that falls behind (its buffer is only 8 too).
 */
async function publishUntil(done: () => Promise<boolean>, received?: () => number): Promise<number> {
  const reason = 'x'.repeat(64 * 1024);
  let published = 0;
  while (!(await done())) {
    if (published >= 3_000) throw new Error('the slow consumer was never ended');
    for (let i = 0; i < 4; i++) {
      await t.platform.deps.pubsub.publish(VISIT_RECORDED_TOPIC, { id: `visit-slow-${published}`, patientId: PATIENTS.amaraNorth.id, organizationId: USERS.nurse.organizationId, reason });
      published += 1;
    }
    if (received) await eventually(() => received() === published, 'the reading subscriber to catch up');
    else await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return published;
}

describe('subscription limits', () => {
  it('caps subscriptions per connection with TOO_MANY_SUBSCRIPTIONS, and the socket stays usable', async () => {
    const nurse = await connectAs('nurse');
    subscribe(nurse, SUBSCRIPTION);
    subscribe(nurse, 'subscription { visitRecorded { id } }');
    await eventually(async () => (await gauge('subscriptionsActive')) === 2, 'two subscriptions');
    const third = await subscribe(nurse, SUBSCRIPTION).ended;
    expect(firstError(third.error)).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'connection', limit: 2 });
    // Still open: a query on the same socket is answered.
    const me = subscribe(nurse, '{ me { id } }');
    await me.ended;
    expect(me.events).toEqual([{ data: { me: { id: USERS.nurse.id } } }]);
  });

  it('caps subscriptions per identity across connections and transports; other identities are unaffected', async () => {
    const [a, b] = [await connectAs('nurse'), await connectAs('nurse')];
    const held = [subscribe(a, SUBSCRIPTION), subscribe(a, SUBSCRIPTION), subscribe(b, SUBSCRIPTION)];
    await eventually(async () => (await gauge('subscriptionsActive')) === 3, 'three subscriptions');
    const refused = await subscribe(b, SUBSCRIPTION).ended;
    expect(firstError(refused.error)).toEqual({ code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'identity', limit: 3 });

    const sse = await fetch(`${t.baseUrl}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${await t.tokenFor('nurse')}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    const text = await sse.text();
    expect(text).toContain('"code":"TOO_MANY_SUBSCRIPTIONS"');
    expect(text).toContain('event: complete');

    const clinician = subscribe(await connectAs('clinician'), SUBSCRIPTION);
    await eventually(async () => (await gauge('subscriptionsActive')) === 4, 'another identity’s subscription');
    held[0]!.unsubscribe();
    await eventually(async () => (await gauge('subscriptionsActive')) === 3, 'a slot to free up');
    subscribe(b, SUBSCRIPTION);
    await eventually(async () => (await gauge('subscriptionsActive')) === 4, 'the freed slot to be usable');
    clinician.unsubscribe();
  });

  it('caps connections per client address across WebSocket and SSE with TOO_MANY_CONNECTIONS', async () => {
    const sockets = [];
    for (let i = 0; i < LIMITS.maxConnectionsPerAddress; i++) sockets.push(await rawSocket());
    await eventually(async () => (await gauge('subscriptionConnections')) === 4, 'four connections');

    const refused = await rawSocket();
    const [code, reason] = (await once(refused.socket, 'close')) as [number, Buffer];
    expect(code).toBe(1013);
    expect(reason.toString()).toMatch(/^TOO_MANY_CONNECTIONS/);

    const sse = await fetch(`${t.baseUrl}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${await t.tokenFor('nurse')}` },
      body: JSON.stringify({ query: SUBSCRIPTION }),
    });
    expect(sse.status).toBe(429);
    expect(await sse.json()).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'TOO_MANY_CONNECTIONS', limit: 4 } }] });

    sockets[0]!.socket.close();
    await eventually(async () => (await gauge('subscriptionConnections')) === 3, 'a connection slot to free up');
    const admitted = await rawSocket('nurse');
    expect(admitted.socket.readyState).toBe(WebSocket.OPEN);
  });
});

describe('a slow consumer', () => {
  it('is ended with SLOW_CONSUMER once its bounded buffer is full, while the others keep receiving every event', async () => {
    const slow = await rawSocket('nurse');
    slow.socket.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
    // A second subscriber to the same operation and identity: it shares the upstream subscription.
    const fast = subscribe(await connectAs('nurse'), SUBSCRIPTION);
    await eventually(async () => (await gauge('subscriptionsActive')) === 2 && visitsCalls.openSubscriptions === 1, 'both subscribers on one upstream');

    // Stop reading: the TCP buffers fill, then the gateway's per-subscriber buffer.
    slow.socket.pause();
    const endedBefore = await gauge('subscriptionsEnded', { reason: 'slow_consumer' });
    const published = await publishUntil(async () => (await gauge('subscriptionsEnded', { reason: 'slow_consumer' })) > endedBefore, () => fast.events.length);
    // The fast subscriber still has its subscription, and gets every event.
    expect(await gauge('subscriptionsActive')).toBe(1);
    await eventually(() => fast.events.length === published, `all ${published} events at the fast subscriber`);
    expect(fast.events.every((e) => e.errors === undefined)).toBe(true);

    // Reading again, the slow client finds the events that fitted, then why its stream ended.
    slow.socket.resume();
    await eventually(() => slow.messages.some((m) => m.type === 'complete' && m.id === 'slow'), 'the slow stream to complete');
    const nexts = slow.messages.filter((m) => m.type === 'next' && m.id === 'slow').map((m) => m.payload as Result);
    expect(nexts.length).toBeLessThan(published);
    expect(nexts.at(-1)).toEqual({ data: null, errors: [{ message: expect.any(String), extensions: { code: 'SLOW_CONSUMER', limit: LIMITS.subscriptionBuffer } }] });
    // The socket itself stays open and usable.
    slow.socket.send(JSON.stringify({ id: 'me', type: 'subscribe', payload: { query: '{ me { id } }' } }));
    await eventually(() => slow.messages.some((m) => m.type === 'next' && m.id === 'me'), 'a query after the slow stream ended');

    fast.unsubscribe();
    await eventually(() => visitsCalls.openSubscriptions === 0, 'the upstream subscription to close');
  });

  it('applies over SSE too: a response that is not read ends with SLOW_CONSUMER', async () => {
    const body = JSON.stringify({ query: SUBSCRIPTION });
    const request = httpRequest(`${t.baseUrl}/graphql/stream`, {
      method: 'POST',
      headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${await t.tokenFor('nurse')}` },
    });
    request.end(body);
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    disposers.push(() => response.destroy());
    response.pause();
    await eventually(async () => (await gauge('subscriptionsActive', { transport: 'sse' })) === 1 && visitsCalls.openSubscriptions === 1, 'the SSE subscriber');

    const endedBefore = await gauge('subscriptionsEnded', { reason: 'slow_consumer' });
    await publishUntil(async () => (await gauge('subscriptionsEnded', { reason: 'slow_consumer' })) > endedBefore);
    expect(await gauge('subscriptionsActive', { transport: 'sse' })).toBe(0);

    response.setEncoding('utf8');
    let text = '';
    response.on('data', (chunk: string) => (text += chunk));
    response.resume();
    await once(response, 'end');
    const events = text.split('\n\n').filter((e) => e.startsWith('event:'));
    expect(events.at(-1)).toBe('event: complete\ndata:');
    expect(JSON.parse((events.at(-2) ?? '').replace(/^event: next\ndata: /, ''))).toMatchObject({ data: null, errors: [{ extensions: { code: 'SLOW_CONSUMER' } }] });
  });
});
