import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import { parse, validate } from 'graphql';
import { SignJWT } from 'jose';
import { compileAliases, type RestAlias } from '../../gateway/src/rest/alias.js';
import { REST_ALIASES } from '../../gateway/src/rest/aliases.js';
import { statusForErrors } from '../../gateway/src/rest/router.js';
import { caseIdFor, COHORTS, PARTNERS } from '../../prisma/seed-data.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * The partner REST aliases, through the gateway with plain fetch as a partner's LMS would
 * call them. They run GraphQL operations as the caller, so every access decision here is the
 * training subgraph's, the same one /graphql gets.
 */
let t: TestPlatform;
let sessionId: string;
let partnerAuth: Record<string, string>;
let otherPartnerAuth: Record<string, string>;

const SUMMARY = 'query($id: ID!) { caseSession(id: $id) { id status caseId caseVersion caseTitle startedAt endedAt durationSeconds totalScore subScores { section score } flaggedErrors { code severity message } } }';

async function launchToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'learner', name: 'Rae Synthetic', cohort_id: COHORTS.northwindA.id, case_id: caseIdFor('chest-pain-acs') })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(PARTNERS.northwind.launchIssuer)
    .setSubject(`lms-user-${randomUUID()}`)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(PARTNERS.northwind.launchSecret));
}

async function asLearner(accessToken: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { json } = await postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${accessToken}` });
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  return json.data ?? {};
}

interface RestAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function get(path: string, headers: Record<string, string> = {}): Promise<RestAnswer> {
  const response = await fetch(`${t.baseUrl}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** How many times the gateway ran an operation of this name (its Apollo metrics), over any transport. */
async function operationRuns(name: string): Promise<number> {
  const text = await (await fetch(t.platform.gateway.metricsUrl)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('caregraph_graphql_requests_total{') && line.includes(`operation="${name}"`))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

const errorCodesOf = (body: unknown): unknown[] => ((body as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors ?? []).map((e) => e.extensions?.code);

beforeAll(async () => {
  t = await startTestPlatform();
  partnerAuth = { authorization: `Bearer ${await t.tokenFor('partner')}` };
  otherPartnerAuth = { authorization: `Bearer ${await t.tokenFor('otherPartner')}` };

  const launched = await postGraphQL(t.graphqlUrl, {
    query: 'mutation($token: String!) { launchSession(token: $token) { accessToken session { id } } }',
    variables: { token: await launchToken() },
  });
  if (launched.json.errors) throw new Error(JSON.stringify(launched.json.errors));
  const launch = launched.json.data?.['launchSession'] as { accessToken: string; session: { id: string } };
  sessionId = launch.session.id;
  await asLearner(launch.accessToken, 'mutation($id: ID!) { orderInvestigation(sessionId: $id, code: "ECG") { code } }', { id: sessionId });
  await asLearner(launch.accessToken, 'mutation($id: ID!) { submitDiagnosis(sessionId: $id, diagnosis: "Inferior STEMI") { id } }', { id: sessionId });
  await asLearner(launch.accessToken, 'mutation($id: ID!) { submitManagement(sessionId: $id, plan: "Primary PCI, ticagrelor loading dose, analgesia") { id } }', { id: sessionId });
  await asLearner(launch.accessToken, 'mutation($id: ID!) { completeSession(sessionId: $id) { status } }', { id: sessionId });
});
afterAll(async () => {
  await t?.close();
});

describe('GET /integrations/partner/sessions/:id', () => {
  it('gives the partner the same summary as GraphQL, as per-user JSON', async () => {
    const rest = await get(`/integrations/partner/sessions/${sessionId}`, partnerAuth);
    expect(rest.status).toBe(200);
    expect(rest.headers.get('content-type')).toMatch(/^application\/json/);
    expect(rest.headers.get('cache-control')).toBe('no-store');

    const graphql = await postGraphQL(t.graphqlUrl, { query: SUMMARY, variables: { id: sessionId } }, partnerAuth);
    expect(graphql.json.errors).toBeUndefined();
    const summary = rest.body as { status: string; totalScore: number | null; caseId: string; subScores: unknown[]; flaggedErrors: unknown[] };
    expect(summary.status).toBe('COMPLETED');
    expect(typeof summary.totalScore).toBe('number');
    expect(summary.caseId).toBe(caseIdFor('chest-pain-acs'));
    // Not just the same score: the same document, field for field.
    expect(rest.body).toEqual(graphql.json.data?.['caseSession']);
  });

  it('refuses another partner with 403 FORBIDDEN, as GraphQL does', async () => {
    const runsBefore = await operationRuns('PartnerCaseSession');
    const rest = await get(`/integrations/partner/sessions/${sessionId}`, otherPartnerAuth);
    // The refusal came from running the operation (the subgraph's rule), not from the alias.
    expect(await operationRuns('PartnerCaseSession')).toBe(runsBefore + 1);
    expect(rest.status).toBe(403);
    expect(rest.headers.get('cache-control')).toBe('no-store');
    expect(errorCodesOf(rest.body)).toEqual(['FORBIDDEN']);
    const body = rest.body as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    expect(body.errors[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
  });

  it('answers 401 without a credential (anonymous callers may not read sessions)', async () => {
    const rest = await get(`/integrations/partner/sessions/${sessionId}`);
    expect(rest.status).toBe(401);
    expect(rest.headers.get('www-authenticate')).toBe('Bearer');
    expect(errorCodesOf(rest.body)).toEqual(['UNAUTHENTICATED']);
  });

  it('answers 401 to a bad token exactly as /graphql does, and runs nothing', async () => {
    const bad = { authorization: 'Bearer not.a.token' };
    const runsBefore = await operationRuns('PartnerCaseSession');
    const rest = await get(`/integrations/partner/sessions/${sessionId}`, bad);
    expect(await operationRuns('PartnerCaseSession')).toBe(runsBefore);
    const graphql = await postGraphQL(t.graphqlUrl, { query: SUMMARY, variables: { id: sessionId } }, bad);
    expect(rest.status).toBe(401);
    expect(graphql.status).toBe(401);
    expect(rest.body).toEqual(graphql.json);
    expect(rest.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers 404 for an unknown session: the data path tells an unknown id from one outside the caller’s scope', async () => {
    // A unique lookup through the access policies answers NOT_FOUND for an id with no session
    // and FORBIDDEN for one that exists outside the scope, so an unknown id is 404 for any
    // caller; ids are random UUIDs, so this tells a caller nothing usable about other partners' sessions.
    const rest = await get(`/integrations/partner/sessions/${randomUUID()}`, partnerAuth);
    expect(rest.status).toBe(404);
    expect(errorCodesOf(rest.body)).toEqual(['NOT_FOUND']);
  });

  it('answers 405 to another method on an alias route', async () => {
    const response = await fetch(`${t.baseUrl}/integrations/partner/sessions/${sessionId}`, { method: 'POST', headers: partnerAuth, body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});

describe('GET /integrations/partner/cases?cohort_id=…', () => {
  it('lists the cohort’s three seeded cases for its partner', async () => {
    const rest = await get(`/integrations/partner/cases?cohort_id=${COHORTS.northwindA.id}`, partnerAuth);
    expect(rest.status).toBe(200);
    expect(rest.headers.get('cache-control')).toBe('no-store');
    const { cases } = rest.body as { cases: Array<{ caseId: string; slug: string; title: string; versionNumber: number | null }> };
    expect(cases.map((c) => c.slug).sort()).toEqual(['chest-pain-acs', 'dka', 'febrile-infant']);
    expect(cases.every((c) => c.caseId === caseIdFor(c.slug) && c.versionNumber !== null)).toBe(true);
  });

  it('refuses another partner with 403', async () => {
    const rest = await get(`/integrations/partner/cases?cohort_id=${COHORTS.northwindA.id}`, otherPartnerAuth);
    expect(rest.status).toBe(403);
    expect(errorCodesOf(rest.body)).toEqual(['FORBIDDEN']);
  });

  it('answers 400 BAD_USER_INPUT without cohort_id, or with an empty one', async () => {
    for (const path of ['/integrations/partner/cases', '/integrations/partner/cases?cohort_id=']) {
      const rest = await get(path, partnerAuth);
      expect(rest.status).toBe(400);
      expect(rest.body).toEqual({ errors: [{ message: 'query parameter cohort_id is required', extensions: { code: 'BAD_USER_INPUT' } }] });
    }
  });

  it('counts alias calls under the route pattern and the operation name in /metrics', async () => {
    const metrics = await (await fetch(t.platform.gateway.metricsUrl)).text();
    expect(metrics).toMatch(/route="\/integrations\/partner\/cases",status="200"/);
    expect(metrics).toMatch(/route="\/integrations\/partner\/sessions\/:id",status="403"/);
    expect(metrics).toMatch(/operation="PartnerCohortCases"/);
  });
});

describe('the alias table', () => {
  it('holds only operations valid against the committed supergraph', () => {
    const api = Supergraph.build(readFileSync('schema/supergraph.graphql', 'utf8')).apiSchema().toGraphQLJSSchema();
    for (const alias of REST_ALIASES) expect(validate(api, parse(alias.operation)).map((e) => e.message)).toEqual([]);
  });

  it('is checked at start for mistakes that would otherwise be a 500 on the first call', () => {
    const base: RestAlias = { method: 'GET', path: '/x/:id', operation: 'query Q($id: ID!) { caseSession(id: $id) { id } }', variables: { id: { from: 'path', name: 'id' } }, response: { pick: 'caseSession' } };
    expect(() => compileAliases([base])).not.toThrow();
    expect(() => compileAliases([base, { ...base, path: '/x/:other' }])).toThrow(/same route/);
    expect(() => compileAliases([{ ...base, operation: 'query($id: ID!) { caseSession(id: $id) { id } }' }])).toThrow(/named/);
    expect(() => compileAliases([{ ...base, operation: 'mutation Q($id: ID!) { completeSession(sessionId: $id) { id } }' }])).toThrow(/GET alias must run a query/);
    expect(() => compileAliases([{ ...base, variables: {} }])).toThrow(/required \$id has no source/);
    expect(() => compileAliases([{ ...base, variables: { id: { from: 'path', name: 'nope' } } }])).toThrow(/:nope is not in the path/);
    expect(() => compileAliases([{ ...base, response: { pick: 'cohort' } }])).toThrow(/does not select cohort/);
  });

  it('maps error codes to statuses, the caller’s problem before the server’s', () => {
    const e = (code: string) => ({ message: code, extensions: { code } });
    expect(statusForErrors([e('UNAUTHENTICATED')])).toBe(401);
    expect(statusForErrors([e('INTERNAL_SERVER_ERROR'), e('FORBIDDEN')])).toBe(403);
    expect(statusForErrors([e('NOT_FOUND')])).toBe(404);
    expect(statusForErrors([e('BAD_USER_INPUT')])).toBe(400);
    expect(statusForErrors([e('CONFLICT')])).toBe(409);
    expect(statusForErrors([e('DOWNSTREAM_SERVICE_ERROR')])).toBe(502);
    expect(statusForErrors([e('INTERNAL_SERVER_ERROR')])).toBe(500);
    expect(statusForErrors([{ message: 'no code' }])).toBe(500);
  });
});
