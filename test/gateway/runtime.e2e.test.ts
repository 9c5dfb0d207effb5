import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { composeSupergraph } from '../../scripts/composition.js';
import { PATIENTS } from '../../prisma/seed-data.js';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import type { RunningGateway } from '../../gateway/src/server.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribeWs } from '../support/graphql-ws.js';
import { visitsCalls, visitsSubgraph } from '../support/visits-subgraph.js';
import { until } from '../support/wait.js';
import { capturingLogger, closedPort, gatewayInFront, post, startRecordingProxy, type RecordingProxy } from './support.js';

/**
 * The gateway's runtime: the route table, one request id per request carried everywhere, the
 * metrics listener, health and readiness.
 */
const subgraphs = [...SUBGRAPHS, visitsSubgraph];
const supergraphSdl = composeSupergraph(subgraphs).supergraphSdl;
let t: TestPlatform;
let identity: RecordingProxy;
let gateway: RunningGateway;
const logged = capturingLogger('gateway-runtime-test');

beforeAll(async () => {
  t = await startTestPlatform({ subgraphs, supergraphSdl });
  identity = await startRecordingProxy(t.platform.subgraphs.find((s) => s.name === 'identity')!.url);
  gateway = await gatewayInFront(t, supergraphSdl, { subgraphUrls: { identity: identity.url }, log: logged.log });
});
afterAll(async () => {
  await gateway?.close();
  await identity?.close();
  await t?.close();
});

const bearer = async (user: Parameters<TestPlatform['tokenFor']>[0]) => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const requestsWithId = (id: string) => identity.requests.filter((r) => r.headers['x-request-id'] === id);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the request id', () => {
  it('is the caller’s when acceptable: on every subgraph call (credential check included) and on the answer', async () => {
    const answer = await post(`${gateway.url}/graphql`, { query: '{ me { id } }' }, { ...(await bearer('clinician')), 'x-request-id': 'req-runtime-0001' });
    expect(answer.json.errors).toBeUndefined();
    expect(answer.headers.get('x-request-id')).toBe('req-runtime-0001');
    expect(requestsWithId('req-runtime-0001').map((r) => r.path).sort()).toEqual(['/graphql', '/internal/credentials/platform-user']);
  });

  it('is created once when absent or not acceptable, and that one id is used throughout', async () => {
    for (const given of [undefined, 'has spaces in it', 'x'.repeat(200), 'short']) {
      const answer = await post(`${gateway.url}/graphql`, { query: '{ me { id } }' }, { ...(await bearer('clinician')), ...(given ? { 'x-request-id': given } : {}) });
      const id = answer.headers.get('x-request-id') ?? '';
      expect(id).toMatch(UUID);
      expect(requestsWithId(id).map((r) => r.path)).toEqual(['/graphql']);
    }
  });

  it('is on every answer, refusals and unknown routes too', async () => {
    for (const response of [
      await fetch(`${gateway.url}/nothing-here`, { headers: { 'x-request-id': 'req-runtime-0002' } }),
      await fetch(`${gateway.url}/graphql`, { method: 'POST', headers: { 'x-request-id': 'req-runtime-0002', authorization: 'Bearer nope', 'content-type': 'application/json' }, body: '{"query":"{ me { id } }"}' }),
    ]) {
      expect(response.headers.get('x-request-id')).toBe('req-runtime-0002');
    }
  });

  it('is on the log lines of the request, its own and those written by Apollo’s hooks and the credential check', async () => {
    identity.answer('/internal/credentials/platform-user', { status: 500, body: {} });
    identity.answer('/graphql', { status: 500, body: {} });
    try {
      await post(`${gateway.url}/graphql`, { query: '{ me { id } }' }, { ...(await bearer('pharmacist')), 'x-request-id': 'req-runtime-0003' });
      await post(`${gateway.url}/graphql`, { query: '{ me { id } }' }, { ...(await bearer('clinician')), 'x-request-id': 'req-runtime-0004' });
    } finally {
      identity.answer('/internal/credentials/platform-user', undefined);
      identity.answer('/graphql', undefined);
    }
    const lines = (message: string) => logged.records.filter((r) => r['msg'] === message).map((r) => r['requestId']);
    expect(lines('credential check answered unexpectedly')).toContain('req-runtime-0003');
    expect(lines('subgraph fetch failed')).toContain('req-runtime-0004');
  });

  it('of a WebSocket’s upgrade is on the 101 and on the per-event entity fetches of its subscriptions', async () => {
    const id = 'req-runtime-ws-0001';
    const headers = { 'x-request-id': id };
    const raw = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers });
    const upgraded = await new Promise<string | undefined>((resolve, reject) => {
      raw.once('upgrade', (response) => resolve(response.headers['x-request-id'] as string | undefined));
      raw.once('error', reject);
    });
    raw.close();
    expect(upgraded).toBe(id);

    class WithRequestId extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    }
    const nurse = await bearer('nurse');
    const client = createClient({ url: `${gateway.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WithRequestId, retryAttempts: 0, connectionParams: nurse });
    try {
      const open = visitsCalls.openSubscriptions;
      const events = subscribeWs(client, 'subscription { visitRecorded { id patient { name } } }');
      await until(async () => visitsCalls.openSubscriptions, (n) => n > open, 'the upstream subscription to open');
      const recorded = await post(t.graphqlUrl, { query: 'mutation($p: ID!) { recordVisit(patientId: $p, reason: "Request id") { id } }', variables: { p: PATIENTS.amaraNorth.id } }, nurse);
      expect(recorded.json.errors).toBeUndefined();
      const event = await events.next();
      expect(event.data?.['visitRecorded']).toMatchObject({ patient: { name: 'Amara Testwell' } });
      expect(requestsWithId(id).some((r) => r.path === '/graphql' && r.body.includes('_entities'))).toBe(true);
      events.unsubscribe();
    } finally {
      await client.dispose();
    }
  });
});

describe('the route table', () => {
  it('answers 405 with Allow for another method on a known path, 404 for an unknown one', async () => {
    const put = await fetch(`${gateway.url}/graphql`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST, GET');
    expect(((await put.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe('METHOD_NOT_ALLOWED');
    const unknown = await fetch(`${gateway.url}/nothing/here`);
    expect(unknown.status).toBe(404);
  });

  it('answers a path with a malformed escape 400 BAD_USER_INPUT', async () => {
    const response = await fetch(`${t.baseUrl}/integrations/partner/sessions/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('/metrics', () => {
  it('is not served on the public port, to anyone', async () => {
    expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/metrics`, { headers: await bearer('admin') })).status).toBe(404);
  });

  it('is served on its own loopback listener', async () => {
    expect(new URL(gateway.metricsUrl).hostname).toBe('127.0.0.1');
    expect(new URL(gateway.metricsUrl).port).not.toBe(new URL(gateway.url).port);
    const response = await fetch(gateway.metricsUrl);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/caregraph_http_responses_total\{route="\/graphql",status="200"\} [1-9]/);
  });
});

describe('/health and /ready', () => {
  it('/health says the process is up, asking nobody', async () => {
    const response = await fetch(`${gateway.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/ready is 503 with the subgraph’s own answer when a subgraph reports its database down', async () => {
    const down = { status: 'unavailable', subgraph: 'identity', database: 'unavailable' };
    identity.answer('/health', { status: 503, body: down });
    try {
      const response = await fetch(`${gateway.url}/ready`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { ok: boolean; subgraphs: Record<string, unknown> };
      expect(body.ok).toBe(false);
      expect(body.subgraphs['identity']).toEqual({ status: 503, body: down });
      expect(body.subgraphs['billing']).toBe('ok');
    } finally {
      identity.answer('/health', undefined);
    }
    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
  });

  it('/ready is 503 when a subgraph cannot be reached', async () => {
    const elsewhere = await gatewayInFront(t, supergraphSdl, { subgraphUrls: { chat: `http://127.0.0.1:${await closedPort()}` } });
    try {
      const response = await fetch(`${elsewhere.url}/ready`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { subgraphs: Record<string, unknown> }).subgraphs['chat']).toEqual({ status: 'unreachable' });
    } finally {
      await elsewhere.close();
    }
  });
});
