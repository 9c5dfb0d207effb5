import type { Client } from 'graphql-ws';
import { USERS } from '../../prisma/seed-data.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { redisAvailable, startRedis, type RedisServer } from '../support/redis-server.js';
import { subscribed, until } from '../support/wait.js';

/**
 * Redis cut and black-holed between the platform and its pubsub, rate limits and caches (a TCP
 * proxy in the middle). Redis is a live channel and a cache here, never the record: while it is
 * down a patient's messages are stored and reach the nurse queue, hash-only persisted queries
 * miss cleanly, live events are published late rather than lost, open streams are told they may
 * have missed events, and nothing crashes.
 */
let redis: RedisServer;
let proxy: FaultProxy;
let t: TestPlatform;
const sockets: Client[] = [];
const crashes: unknown[] = [];
const onCrash = (error: unknown): void => void crashes.push(error);

// Redis faults need a Redis to cut: CI has one; a machine with neither REDIS_URL nor redis-server cannot run these.
const describeWithRedis = redisAvailable() ? describe : describe.skip;

beforeAll(async () => {
  if (!redisAvailable()) return;
  redis = await startRedis();
  proxy = await startFaultProxy(redis.address);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  t = await startTestPlatform({ redisUrl: proxy.urlFor(redis.url) });
});
afterAll(async () => {
  // A failed test may leave the link cut: the platform closes against a Redis that answers.
  proxy?.pass();
  for (const socket of sockets) await socket.dispose();
  await t?.close();
  await proxy?.close();
  await redis?.stop();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
});

const as = async (user: keyof typeof USERS): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const SEND = 'mutation($id: ID!, $text: String!) { sendChatMessage(sessionId: $id, text: $text) { message { id } redFlags { code } } }';

async function startChat(): Promise<string> {
  const { json } = await postGraphQL(t.graphqlUrl, { query: 'mutation { startChat { id } }' }, await as('patient'));
  return (json.data?.['startChat'] as { id: string }).id;
}

/** A patient's red-flag message: acknowledged (stored) or refused, and how long it took. */
async function sendRedFlag(sessionId: string): Promise<{ status: number; codes: unknown[]; messageId?: string; ms: number }> {
  const started = Date.now();
  const { status, json } = await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text: 'crushing chest pain going down my left arm' } }, await as('patient'));
  const sent = json.data?.['sendChatMessage'] as { message: { id: string } } | undefined;
  return { status, codes: errorCodes(json), messageId: sent?.message.id, ms: Date.now() - started };
}

const queueEntriesFor = (sessionId: string): Promise<number> => t.platform.database.prisma.queueEntry.count({ where: { sourceRef: sessionId } });

async function apqHashOnly(): Promise<{ status: number; codes: unknown[] }> {
  const body = { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } };
  const { status, json } = await postGraphQL(t.graphqlUrl, body as never, await as('nurse'));
  return { status, codes: errorCodes(json) };
}

describeWithRedis.each([
  ['cut', (p: FaultProxy) => p.cut()],
  ['black-holed', (p: FaultProxy) => p.blackhole()],
])('with Redis %s', (_mode, fail) => {
  it('stores every patient message, alerts the nurse, misses persisted queries cleanly, tells open streams, and publishes late what happened meanwhile', async () => {
    const sessionId = await startChat();
    const nurseSocket = connectWs(t.graphqlUrl, await as('nurse'));
    sockets.push(nurseSocket);
    const before = await subscribed(t.platform.deps.pubsub, 'events:nurse.queue.changed', () => subscribeWs(nurseSocket, 'subscription { queueUpdated { kind entry { id sourceRef } } }'));

    fail(proxy);
    const messages = [];
    for (let i = 0; i < 3; i++) messages.push(await sendRedFlag(sessionId));
    // Every message acknowledged, promptly (no waiting on a dead Redis), with nothing refused.
    expect(messages.map((m) => [m.status, m.codes])).toEqual([[200, []], [200, []], [200, []]]);
    for (const m of messages) expect(m.ms).toBeLessThan(5_000);
    const stored = await t.platform.database.prisma.chatMessage.count({ where: { id: { in: messages.map((m) => m.messageId as string) } } });
    expect(stored).toBe(3);
    // The nurse queue hears of them through the outbox, not through Redis.
    await until(() => queueEntriesFor(sessionId), (n) => n === 3, 'three queue entries during the outage');

    // A hash-only persisted query is a clean miss (the client sends the text next), not a 500.
    expect(await apqHashOnly()).toEqual({ status: 200, codes: ['PERSISTED_QUERY_NOT_FOUND'] });

    proxy.pass();
    // The stream open before the outage was told it may have missed events, and ended (a
    // black-holed link is noticed when it is dropped): it does not sit silently on a dead feed.
    // As with a schema reload, the gateway sends that as the stream's last result, then completes.
    const ending = await Promise.race([before.ended, new Promise((resolve) => setTimeout(() => resolve('still open'), 10_000))]);
    expect(ending).toEqual({});
    let last = await before.next(1_000);
    while (!last.errors) last = await before.next(1_000);
    expect(last.errors[0]?.extensions).toMatchObject({ code: 'EVENTS_MAY_BE_MISSED', serviceName: 'nurse' });

    // Events of the outage are published late once Redis is back: a new subscriber sees new
    // events again, and nothing recorded during the outage is left unpublished.
    await until(
      () => t.platform.database.prisma.outboxEvent.count({ where: { publishedAt: null, relayedAt: { not: null } } }),
      (n) => n === 0,
      'the relay to publish what the outage held back',
      20_000,
    );
    const after = await subscribed(t.platform.deps.pubsub, 'events:nurse.queue.changed', () => subscribeWs(nurseSocket, 'subscription { queueUpdated { kind entry { id sourceRef } } }'));
    const later = await sendRedFlag(sessionId);
    expect(later.codes).toEqual([]);
    const event = await after.next(15_000);
    expect(event.data?.['queueUpdated']).toMatchObject({ kind: 'ADDED', entry: { sourceRef: sessionId } });
    after.unsubscribe();
    expect(crashes).toEqual([]);
  });
});
