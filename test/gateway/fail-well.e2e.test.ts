import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import net from 'node:net';
import { composeSupergraph } from '../../scripts/composition.js';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { publicRoutesOf } from '../../subgraphs/kit/routes.js';
import { defaultPersistedOperations } from '../../gateway/src/persisted/manifest.js';
import type { RunningGateway } from '../../gateway/src/server.js';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { redisAvailable, startRedis } from '../support/redis-server.js';
import { visitsCalls, visitsSubgraph } from '../support/visits-subgraph.js';
import { until } from '../support/wait.js';
import { closedPort, gatewayInFront, post, type GraphQLAnswer } from './support.js';

/**
 * Failing well: a subgraph that is down or too slow costs only its own fields (HTTP 200, partial
 * data, coded errors with paths), a Redis that is down costs only the caches, and the gateway
 * talks to nobody but the services it was configured with.
 */
const subgraphs = [...SUBGRAPHS, visitsSubgraph];
const supergraphSdl = composeSupergraph(subgraphs).supergraphSdl;
let t: TestPlatform;

beforeAll(async () => {
  t = await startTestPlatform({ subgraphs, supergraphSdl });
});
afterAll(async () => {
  await t?.close();
});

const bearer = async (user: keyof typeof USERS) => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const subgraphUrl = (name: string): URL => new URL(t.platform.subgraphs.find((s) => s.name === name)!.url);
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const errorsOf = (answer: GraphQLAnswer) => answer.json.errors ?? [];

/** A fault proxy in front of one subgraph, and a gateway of its own that reaches the subgraph only through it. */
async function behindProxy(name: string, options: Parameters<typeof gatewayInFront>[2] = {}): Promise<{ proxy: FaultProxy; gateway: RunningGateway; close(): Promise<void> }> {
  const target = subgraphUrl(name);
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
  const gateway = await gatewayInFront(t, supergraphSdl, { ...options, subgraphUrls: { [name]: `http://${proxy.host}:${proxy.port}` } });
  return { proxy, gateway, close: async () => { await gateway.close(); await proxy.close(); } };
}

describe('a subgraph that does not answer in time', () => {
  it('costs only its fields: HTTP 200, the rest resolves, TIMEOUT with serviceName and path', async () => {
    const chat = await behindProxy('chat', { subgraphTimeoutMs: 500 });
    try {
      chat.proxy.blackhole();
      const started = Date.now();
      const answer = await post(`${chat.gateway.url}/graphql`, { query: '{ me { id } chatSession(id: "nope") { id } }' }, await bearer('nurse'));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(answer.status).toBe(200);
      expect(answer.json.data).toEqual({ me: { id: USERS.nurse.id }, chatSession: null });
      expect(errorsOf(answer)).toEqual([expect.objectContaining({ path: ['chatSession'], extensions: expect.objectContaining({ code: 'TIMEOUT', serviceName: 'chat' }) })]);
    } finally {
      await chat.close();
    }
  });

  it('in a subscription’s per-event entity fetch: that event carries the TIMEOUT, the stream goes on', async () => {
    const identity = await behindProxy('identity', { subgraphTimeoutMs: 500 });
    const nurse = await bearer('nurse');
    const client = connectWs(`${identity.gateway.url}/graphql`, nurse);
    try {
      const open = visitsCalls.openSubscriptions;
      const events = subscribeWs(client, 'subscription { visitRecorded { reason patient { name } } }');
      const record = async (reason: string) => {
        const recorded = await post(t.graphqlUrl, { query: 'mutation($p: ID!, $r: String!) { recordVisit(patientId: $p, reason: $r) { id } }', variables: { p: PATIENTS.amaraNorth.id, r: reason } }, nurse);
        expect(recorded.json.errors).toBeUndefined();
      };
      await until(async () => visitsCalls.openSubscriptions, (n) => n > open, 'the upstream subscription to open');
      await record('Before');
      expect((await events.next()).data).toEqual({ visitRecorded: { reason: 'Before', patient: { name: 'Amara Testwell' } } });
      identity.proxy.blackhole();
      await record('During');
      const during = await events.next();
      expect(during.errors).toEqual([expect.objectContaining({ path: ['visitRecorded', 'patient', 'name'], extensions: expect.objectContaining({ code: 'TIMEOUT', serviceName: 'identity' }) })]);
      identity.proxy.pass();
      await record('After');
      expect((await events.next()).data).toEqual({ visitRecorded: { reason: 'After', patient: { name: 'Amara Testwell' } } });
      events.unsubscribe();
    } finally {
      await client.dispose();
      await identity.close();
    }
  });
});

describe('a proxied subgraph route whose subgraph is down', () => {
  it('is answered 502 DOWNSTREAM_SERVICE_ERROR, not 500', async () => {
    const gateway = await gatewayInFront(t, supergraphSdl, { publicRoutes: publicRoutesOf([visitsSubgraph]), subgraphUrls: { visits: `http://127.0.0.1:${await closedPort()}` } });
    try {
      const response = await fetch(`${gateway.url}/webhooks/visits/lab`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(502);
      expect(((await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> }).errors[0]?.extensions).toMatchObject({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'visits', retryable: true });
    } finally {
      await gateway.close();
    }
  });
});

describe('Redis down', () => {
  const APQ_QUERY = `query ApqWhileRedisIsDown { me { id } } # ${Date.now()}`;
  const apq = (withText: boolean) => ({ ...(withText ? { query: APQ_QUERY } : {}), extensions: { persistedQuery: { version: 1, sha256Hash: sha256(APQ_QUERY) } } });
  const figures = () => ({ operationName: 'BiNurseQueueFigures', variables: { organizationId: ORGS.clinicNorth.id }, extensions: { persistedQuery: { version: 1, sha256Hash: defaultPersistedOperations().require('BiNurseQueueFigures').id } } });

  /** What a gateway whose caches cannot reach Redis answers: misses and executions, never a 500. */
  async function expectCachesBypassed(gateway: RunningGateway): Promise<void> {
    const nurse = await bearer('nurse');
    const hashOnly = await post(`${gateway.url}/graphql`, apq(false), nurse);
    expect(hashOnly.status).toBe(200);
    expect(errorsOf(hashOnly).map((e) => e.extensions?.['code'])).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const registered = await post(`${gateway.url}/graphql`, apq(true), nurse);
    expect(registered.status).toBe(200);
    expect(registered.json).toEqual({ data: { me: { id: USERS.nurse.id } } });
    for (let i = 0; i < 2; i++) {
      const cached = await post(`${gateway.url}/graphql`, figures(), nurse);
      expect(cached.status).toBe(200);
      expect(cached.json.errors).toBeUndefined();
      expect(cached.headers.get('caregraph-cache')).toBe('miss');
    }
  }

  it('from the start: APQ by hash is PERSISTED_QUERY_NOT_FOUND, registering still runs the query, the response cache executes; no unhandled Redis errors', async () => {
    const unhandled = jest.spyOn(console, 'error');
    const gateway = await gatewayInFront(t, supergraphSdl, { redisUrl: `redis://127.0.0.1:${await closedPort()}` });
    try {
      await expectCachesBypassed(gateway);
      // Long enough for several reconnect attempts, each an `error` event on the clients.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(unhandled.mock.calls.flat().join(' ')).not.toMatch(/Unhandled error event/);
    } finally {
      await gateway.close();
      unhandled.mockRestore();
    }
  });

  // REDIS_URL in CI, a private redis-server otherwise; only a machine with neither skips it.
  (redisAvailable() ? it : it.skip)('mid-run: the same once Redis is cut, and the caches work again once it is back', async () => {
    const redis = await startRedis();
    const proxy = await startFaultProxy(redis.address);
    const gateway = await gatewayInFront(t, supergraphSdl, { redisUrl: proxy.urlFor(redis.url), redisPrefix: `caregraph-test:${sha256(APQ_QUERY).slice(0, 12)}:` });
    const nurse = await bearer('nurse');
    try {
      const other = `query ApqBeforeTheCut { me { id } } # ${Date.now()}`;
      const registered = await post(`${gateway.url}/graphql`, { query: other, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(other) } } }, nurse);
      expect(registered.json.errors).toBeUndefined();
      expect((await post(`${gateway.url}/graphql`, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(other) } } }, nurse)).json.errors).toBeUndefined();
      proxy.cut();
      await expectCachesBypassed(gateway);
      proxy.pass();
      // The cache client reconnects on its own (backing off up to 2 s); the query registered before the cut answers by hash again.
      const byHash = async (): Promise<unknown> => (await post(`${gateway.url}/graphql`, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(other) } } }, nurse)).json.errors;
      expect(await until(byHash, (errors) => errors === undefined, 'the APQ store to answer again after the cut', 10_000)).toBeUndefined();
    } finally {
      await gateway.close();
      await proxy.close();
      await redis.stop();
    }
  });
});

describe('outbound connections', () => {
  it('go only to the configured services: no cloud metadata probes, no usage or telemetry reports to Apollo', async () => {
    const destinations: string[] = [];
    const original = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
      const first = (Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0]) as { host?: string; port?: number; path?: string } | number | string;
      destinations.push(typeof first === 'object' && first !== null ? String(first.path ?? first.host ?? 'localhost') : String(args[1] ?? 'localhost'));
      return (original as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof original;
    // As a deployment might have them: reporting would start if the gateway let it.
    const saved = { key: process.env['APOLLO_KEY'], ref: process.env['APOLLO_GRAPH_REF'], telemetry: process.env['APOLLO_TELEMETRY_DISABLED'] };
    process.env['APOLLO_KEY'] = 'service:caregraph-test:not-a-real-key';
    process.env['APOLLO_GRAPH_REF'] = 'caregraph-test@current';
    delete process.env['APOLLO_TELEMETRY_DISABLED'];
    try {
      const gateway = await gatewayInFront(t, supergraphSdl);
      expect(process.env['APOLLO_TELEMETRY_DISABLED']).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const answer = await post(`${gateway.url}/graphql`, { query: '{ me { id } }' }, await bearer('nurse'));
      expect(answer.json.errors).toBeUndefined();
      await gateway.close();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      net.Socket.prototype.connect = original;
      for (const [name, value] of [['APOLLO_KEY', saved.key], ['APOLLO_GRAPH_REF', saved.ref], ['APOLLO_TELEMETRY_DISABLED', saved.telemetry]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(destinations.length).toBeGreaterThan(0);
    expect([...new Set(destinations)].filter((host) => !['127.0.0.1', 'localhost', '::1'].includes(host))).toEqual([]);
  });
});

describe('a subgraph killed mid-run', () => {
  it('costs only its fields: HTTP 200, DOWNSTREAM_SERVICE_ERROR with serviceName and path, the rest resolves', async () => {
    const admin = await bearer('admin');
    const query = 'query($id: ID!) { me { id } patient(id: $id) { name invoices { id } } }';
    const before = await post(t.graphqlUrl, { query, variables: { id: PATIENTS.amaraNorth.id } }, admin);
    expect(before.json.errors).toBeUndefined();
    await t.platform.subgraphs.find((s) => s.name === 'billing')!.close();

    const answer = await post(t.graphqlUrl, { query, variables: { id: PATIENTS.amaraNorth.id } }, admin);
    expect(answer.status).toBe(200);
    expect(answer.json.data?.['me']).toEqual({ id: USERS.admin.id });
    // `invoices` is non-null: its parent patient is nulled, as GraphQL says.
    expect(answer.json.data?.['patient']).toBeNull();
    expect(errorsOf(answer)).toEqual([expect.objectContaining({ path: ['patient', 'invoices'], extensions: expect.objectContaining({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'billing' }) })]);

    const root = await post(t.graphqlUrl, { query: '{ invoices { id } }' }, admin);
    expect(root.status).toBe(200);
    expect(errorsOf(root)).toEqual([expect.objectContaining({ path: ['invoices'], extensions: expect.objectContaining({ code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'billing' }) })]);
    const metrics = await (await fetch(t.platform.gateway.metricsUrl)).text();
    expect(metrics).toMatch(/caregraph_graphql_errors_total\{operation="anonymous",code="DOWNSTREAM_SERVICE_ERROR"\} [1-9]/);
    expect(metrics).toMatch(/caregraph_subgraph_fetch_duration_seconds_count\{subgraph="billing",outcome="failed"\} [1-9]/);
  });
});
