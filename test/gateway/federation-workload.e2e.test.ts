import type { Server } from 'node:http';
import { benchSubgraphsServer } from '../../bench/federation/subgraphs.js';
import { EXPECTED_RESPONSE, QUERY, REQUEST_BODY, SUBGRAPH_NAMES, supergraphAt } from '../../bench/federation/workload.js';
import { DEFAULT_LIMITS, startGateway, type RunningGateway } from '../../gateway/src/server.js';
import { generatePlatformKeys } from '../../subgraphs/kit/keys.js';
import { closeServer, listen } from '../../subgraphs/kit/http.js';
import { createLogger } from '../../subgraphs/kit/logger.js';

/**
 * The public federation benchmark's workload through CareGraph's gateway and plan executor:
 * four subgraphs, a query whose plan has sequences, parallel branches, flattened entity
 * fetches and `@requires`, and an 87 KB answer that must be byte-equal to the benchmark's
 * expected response — with in-flight sharing off (every request executes its plan) and on.
 */
let subgraphs: Server;
const gateways: RunningGateway[] = [];

async function gateway(deduplicateInflight: boolean): Promise<RunningGateway> {
  const base = await subgraphsBase;
  const started = await startGateway({
    supergraphSdl: supergraphAt(base),
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, `${base}/${name}`])),
    publicRoutes: [],
    keys: await generatePlatformKeys(),
    oidcIssuers: [],
    limits: DEFAULT_LIMITS,
    production: true,
    deduplicateInflight,
    log: createLogger('federation-workload-test', 'warn'),
  });
  gateways.push(started);
  return started;
}

let subgraphsBase: Promise<string>;
beforeAll(() => {
  subgraphs = benchSubgraphsServer();
  subgraphsBase = listen(subgraphs, 0);
});

afterAll(async () => {
  for (const running of gateways) await running.close();
  await closeServer(subgraphs);
});

/** The answer's JSON, re-serialised as the benchmark compares it (the gateway ends its body with a newline). */
async function ask(url: string, body: string): Promise<{ status: number; json: string }> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, json: JSON.stringify(JSON.parse(await response.text())) };
}

/** Compared as a boolean first: a failure should not print 87 KB twice. */
function expectBenchmarkAnswer(answer: { status: number; json: string }): void {
  expect(answer.status).toBe(200);
  const same = answer.json === EXPECTED_RESPONSE;
  if (!same) expect(answer.json.slice(0, 400)).toBe(EXPECTED_RESPONSE.slice(0, 400));
  expect(same).toBe(true);
}

describe('the federation benchmark workload through the gateway', () => {
  it.each([false, true])('answers byte-equal to expected-response.json (in-flight sharing %s), alone and 20 at once', async (sharing) => {
    const { url } = await gateway(sharing);
    expectBenchmarkAnswer(await ask(url, REQUEST_BODY));
    const together = await Promise.all(Array.from({ length: 20 }, () => ask(url, REQUEST_BODY)));
    for (const answer of together) expectBenchmarkAnswer(answer);
  });

  it('answers a variant of the query with a field left out by @include and a variable, and refuses it without the variable', async () => {
    const { url } = await gateway(false);
    const variant = QUERY.replace('query TestQuery', 'query TestQuery($withReviews: Boolean!)').replace(/reviews\s*\{/, 'reviews @include(if: $withReviews) {');
    expect(variant).not.toBe(QUERY);
    const answered = await ask(url, JSON.stringify({ query: variant, variables: { withReviews: false } }));
    expect(answered.json.slice(0, 300)).toMatch(/^\{"data":/);
    const answer = JSON.parse(answered.json) as { data: { users: Array<Record<string, unknown>> } };
    expect(answer.data.users.length).toBeGreaterThan(0);
    for (const user of answer.data.users) expect(Object.keys(user)).toEqual(['id', 'username', 'name']);
    // A required variable not given: refused before any subgraph is asked.
    const missing = await ask(url, JSON.stringify({ query: variant }));
    expect(missing.status).toBe(400);
    expect((JSON.parse(missing.json) as { errors: Array<{ extensions: { code: string } }> }).errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });
});
