import { USERS } from '../../prisma/seed-data.js';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import type { Identity } from '../../subgraphs/kit/identity.js';
import { composeSupergraph } from '../../scripts/composition.js';
import type { RunningGateway } from '../../gateway/src/server.js';
import { InflightQueries } from '../../gateway/src/runtime/inflight.js';
import type { GatewayRequest } from '../../gateway/src/runtime/request.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';
import { gatewayInFront, post, startRecordingProxy, type RecordingProxy } from './support.js';

/**
 * In-flight sharing: identical queries of one identity running at the same time execute once;
 * callers with another identity never get that answer; mutations are never shared. The
 * identity subgraph sits behind a proxy that can hold its requests, so "at the same time" is
 * arranged, not hoped for.
 */
const supergraphSdl = composeSupergraph(SUBGRAPHS).supergraphSdl;
let t: TestPlatform;
let identity: RecordingProxy;
let gateway: RunningGateway;

beforeAll(async () => {
  t = await startTestPlatform();
  identity = await startRecordingProxy(t.platform.subgraphs.find((s) => s.name === 'identity')!.url);
  gateway = await gatewayInFront(t, supergraphSdl, { subgraphUrls: { identity: identity.url } });
});
afterAll(async () => {
  await gateway?.close();
  await identity?.close();
  await t?.close();
});

const bearer = async (user: keyof typeof USERS) => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const graphqlFetches = (requestId: string) => identity.requests.filter((r) => r.path === '/graphql' && r.headers['x-request-id'] === requestId).length;
const metric = async (name: string): Promise<number> => {
  const text = await (await fetch(gateway.metricsUrl)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
};
const ME = { query: '{ me { id name: displayName } }' };

describe('identical queries of one identity at the same time', () => {
  it('execute once, and every caller gets the same complete answer', async () => {
    const nurse = await bearer('nurse');
    const sharedBefore = await metric('caregraph_graphql_inflight_shared_total');
    const release = identity.hold('/graphql');
    const first = post(`${gateway.url}/graphql`, ME, { ...nurse, 'x-request-id': 'inflight-first-01' });
    await until(async () => graphqlFetches('inflight-first-01'), (n) => n === 1, 'the first query to reach the subgraph');
    const others = [
      post(`${gateway.url}/graphql`, ME, { ...nurse, 'x-request-id': 'inflight-second-01' }),
      post(`${gateway.url}/graphql`, ME, { ...nurse, 'x-request-id': 'inflight-third-01' }),
    ];
    await until(() => metric('caregraph_graphql_inflight_waiting'), (n) => n === 2, 'the two others to wait for the first');
    release();
    const answers = await Promise.all([first, ...others]);
    for (const answer of answers) expect(answer.json).toEqual({ data: { me: { id: USERS.nurse.id, name: expect.any(String) } } });
    expect(answers[1]?.json).toEqual(answers[0]?.json);
    // Each caller keeps its own request id on its answer; the subgraph saw only the first.
    expect(answers.map((a) => a.headers.get('x-request-id'))).toEqual(['inflight-first-01', 'inflight-second-01', 'inflight-third-01']);
    expect([graphqlFetches('inflight-first-01'), graphqlFetches('inflight-second-01'), graphqlFetches('inflight-third-01')]).toEqual([1, 0, 0]);
    expect(await metric('caregraph_graphql_inflight_shared_total')).toBe(sharedBefore + 2);
  });

  it('are not cached: the same query after the first has answered executes again', async () => {
    const nurse = await bearer('nurse');
    await post(`${gateway.url}/graphql`, ME, { ...nurse, 'x-request-id': 'inflight-after-01' });
    await post(`${gateway.url}/graphql`, ME, { ...nurse, 'x-request-id': 'inflight-after-02' });
    expect([graphqlFetches('inflight-after-01'), graphqlFetches('inflight-after-02')]).toEqual([1, 1]);
  });
});

describe('identical queries of different identities at the same time', () => {
  it('each execute for their own caller: one caller’s answer never reaches another', async () => {
    const release = identity.hold('/graphql');
    const nurse = post(`${gateway.url}/graphql`, ME, { ...(await bearer('nurse')), 'x-request-id': 'inflight-nurse-01' });
    await until(async () => graphqlFetches('inflight-nurse-01'), (n) => n === 1, 'the nurse’s query to reach the subgraph');
    const clinician = post(`${gateway.url}/graphql`, ME, { ...(await bearer('clinician')), 'x-request-id': 'inflight-clinician-01' });
    const anonymous = post(`${gateway.url}/graphql`, ME, { 'x-request-id': 'inflight-anonymous-01' });
    // While the nurse's query is still held, the others reach the subgraph on their own.
    await until(async () => graphqlFetches('inflight-clinician-01') + graphqlFetches('inflight-anonymous-01'), (n) => n === 2, 'the other callers’ queries to reach the subgraph');
    release();
    const [forNurse, forClinician, forAnonymous] = await Promise.all([nurse, clinician, anonymous]);
    expect(forNurse?.json.data).toEqual({ me: expect.objectContaining({ id: USERS.nurse.id }) });
    expect(forClinician?.json.data).toEqual({ me: expect.objectContaining({ id: USERS.clinician.id }) });
    expect(forAnonymous?.json.data?.['me'] ?? null).toBeNull();
  });
});

describe('the sharing key', () => {
  const inflight = new InflightQueries();
  const log = createLogger('inflight-test');
  const request = (body: unknown, headers: Record<string, string> = {}): GatewayRequest => ({
    method: 'POST', url: new URL('http://gateway/graphql'), params: {}, headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), requestId: 'inflight-key-test', log,
  });
  const nurse: Identity = { kind: 'user', subject: USERS.nurse.id, role: 'NURSE', organizationId: 'org-1' };

  it('is the same for the same identity, text and negotiation headers', () => {
    expect(inflight.keyOf(request(ME), nurse)).toBeDefined();
    expect(inflight.keyOf(request(ME), { ...nurse })).toBe(inflight.keyOf(request(ME), nurse));
  });

  it('differs with anything of the identity the subgraphs see, the text, the variables or the Accept header', () => {
    const base = inflight.keyOf(request(ME), nurse);
    const others = [
      inflight.keyOf(request(ME), { ...nurse, subject: 'someone-else' }),
      inflight.keyOf(request(ME), { ...nurse, role: 'CLINICIAN' }),
      inflight.keyOf(request(ME), { ...nurse, organizationId: 'org-2' }),
      inflight.keyOf(request(ME), { ...nurse, patientId: 'patient-1' }),
      inflight.keyOf(request(ME), { ...nurse, cohortIds: ['cohort-1'] }),
      inflight.keyOf(request(ME), { kind: 'anonymous' }),
      inflight.keyOf(request({ ...ME, variables: { a: 1 } }), nurse),
      inflight.keyOf(request({ query: '{ me { id } }' }), nurse),
      inflight.keyOf(request(ME, { accept: 'application/graphql-response+json' }), nurse),
    ];
    for (const other of others) expect(other).not.toBe(base);
    expect(new Set(others).size).toBe(others.length);
  });

  it('is absent for mutations, subscriptions, unparsable or ambiguous documents, and bodies that are not JSON', () => {
    for (const body of [
      { query: 'mutation { noop }' },
      { query: 'subscription { queueChanged { id } }' },
      { query: 'query A { me { id } } mutation B { noop }', operationName: 'B' },
      { query: 'query A { me { id } } query B { me { id } }' },
      { query: '{ me { id ' },
      { operationName: 'X' },
      'not json',
    ]) {
      expect(inflight.keyOf(request(body), nurse)).toBeUndefined();
    }
    expect(inflight.keyOf(request({ query: 'query A { me { id } } mutation B { noop }', operationName: 'A' }), nurse)).toBeDefined();
  });
});
