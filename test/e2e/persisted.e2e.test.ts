import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import type { RunningGateway } from '../../gateway/src/server.js';
import { MemoryApqStore, RedisApqStore } from '../../gateway/src/persisted/apq-store.js';
import {
  API_SCHEMA_PATH, buildManifest, checkManifest, MANIFEST_PATH, PersistedOperations, readOperationSources, serializeManifest, type OperationSource,
} from '../../gateway/src/persisted/manifest.js';
import { cellText, parseCsv, toCsv, toTable } from '../../gateway/src/persisted/rows.js';
import { COHORTS, ORGS, PARTNERS } from '../../prisma/seed-data.js';
import { CreateApiKeyDocument } from '../generated/operations.js';
import { errorCodes, startGatewayInFront, startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * Persisted queries through the gateway: manifest operations by id, the safelist for BI and
 * partner keys, APQ for everyone else, cacheable GETs, and BI exports as JSON and CSV.
 */
let t: TestPlatform;
let biKey: string;
let partnerKey: string;
let billingKey: string;
const operations = PersistedOperations.load();
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const idOf = (name: string): string => operations.require(name).id;

type GraphQLJson = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };

async function post(body: Record<string, unknown>, headers: Record<string, string>, url = t.graphqlUrl): Promise<{ status: number; json: GraphQLJson }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as GraphQLJson };
}

const byId = (name: string, variables?: Record<string, unknown>) => ({ operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(name) } } });
const bearer = async (user: Parameters<TestPlatform['tokenFor']>[0]) => ({ authorization: `Bearer ${await t.tokenFor(user)}` });

async function createKey(role: 'BI' | 'PARTNER' | 'BILLING', partnerId?: string): Promise<string> {
  const admin = await t.client('admin');
  const { createApiKey } = await admin.request(CreateApiKeyDocument, { input: { name: `persisted-${role}-${randomUUID()}`, role, partnerId } });
  return createApiKey.key;
}

beforeAll(async () => {
  t = await startTestPlatform();
  biKey = await createKey('BI');
  // Southbank's key: Northwind's cohort is not its to read.
  partnerKey = await createKey('PARTNER', PARTNERS.southbank.id);
  billingKey = await createKey('BILLING');
});
afterAll(async () => {
  await t?.close();
});

describe('the manifest', () => {
  it('holds the partner, BI and dashboard operations with ids that are the SHA-256 of their bodies', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as { format: string; version: number; operations: Array<{ id: string; body: string; name: string; type: string; clientName: string }> };
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.version).toBe(1);
    for (const op of manifest.operations) expect(op.id).toBe(sha256(op.body));
    const clients = new Map(manifest.operations.map((op) => [op.name, op.clientName]));
    expect(clients.get('PartnerCohortCases')).toBe('partner');
    expect(clients.get('PartnerCaseSession')).toBe('partner');
    expect(clients.get('BiPractitioners')).toBe('bi');
    expect(clients.get('NurseDashboard')).toBe('dashboard');
    expect(clients.get('Me')).toBe('frontend');
  });

  it('check passes on the committed files and catches a stale manifest or an operation the schema no longer accepts', () => {
    const sources = readOperationSources();
    const schemaSdl = readFileSync(API_SCHEMA_PATH, 'utf8');
    const committed = readFileSync(MANIFEST_PATH, 'utf8');
    expect(checkManifest({ sources, schemaSdl, committed })).toEqual([]);

    // An operation edited (a field added) without regenerating: stale.
    const edited: OperationSource[] = sources.map((s) => (s.clientName === 'bi' ? { ...s, source: s.source.replace('specialty', 'specialty\n    qualification') } : s));
    expect(checkManifest({ sources: edited, schemaSdl, committed }).join('\n')).toMatch(/persisted-queries\.json is stale/);
    // A manifest for other operations: stale too.
    expect(checkManifest({ sources, schemaSdl, committed: committed.replace('"BiPractitioners"', '"BiStaff"') }).join('\n')).toMatch(/stale/);
    expect(checkManifest({ sources, schemaSdl, committed: undefined }).join('\n')).toMatch(/missing/);
    // The schema dropped a field an operation selects.
    const shrunk = schemaSdl.replace(/\n\s*specialty: String\n/, '\n');
    expect(checkManifest({ sources, schemaSdl: shrunk, committed }).join('\n')).toMatch(/BiPractitioners: Cannot query field "specialty"/);
  });

  it('prints bodies stably: whitespace and comments do not change an id', () => {
    const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
    const a = buildManifest([{ path: 'a.graphql', clientName: 'bi', source: 'query Q { me { id } }' }], schema);
    const b = buildManifest([{ path: 'b.graphql', clientName: 'bi', source: '# a comment\nquery   Q {\n\n me {\n id } }' }], schema);
    expect(a.problems).toEqual([]);
    expect(serializeManifest(a.manifest)).toBe(serializeManifest(b.manifest));
    expect(buildManifest([{ path: 'c.graphql', clientName: 'bi', source: '{ me { id } }' }], schema).problems.join()).toMatch(/must be named/);
  });
});

describe('a BI API key (safelisted)', () => {
  it('runs a manifest operation by id, without its text', async () => {
    const { status, json } = await post(byId('BiConnectionCheck'), { 'x-api-key': biKey });
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    expect(json.data).toEqual({ me: null }); // an API key is not a user
  });

  it('is refused the same operation sent as text, and any other text', async () => {
    const text = operations.require('BiConnectionCheck').body;
    const asText = await post({ query: text }, { 'x-api-key': biKey });
    expect(asText.status).toBe(403);
    expect(errorCodes(asText.json)).toEqual(['OPERATION_NOT_ALLOWED']);
    expect(asText.json.data).toBeUndefined();
    const other = await post({ query: '{ __schema { types { name } } }' }, { 'x-api-key': biKey });
    expect(errorCodes(other.json)).toEqual(['OPERATION_NOT_ALLOWED']);
  });

  it('gets PERSISTED_QUERY_NOT_FOUND for an unknown id, and OPERATION_NOT_ALLOWED for APQ registration', async () => {
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256('query Nope { me { id } }') } } }, { 'x-api-key': biKey });
    expect(errorCodes(unknown.json)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const query = 'query Sneaky { me { id displayName } }';
    const register = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }, { 'x-api-key': biKey });
    expect(errorCodes(register.json)).toEqual(['OPERATION_NOT_ALLOWED']);
  });

  it('cannot use an APQ id that someone else registered', async () => {
    const query = `query OtherPeoples { me { id } } # ${randomUUID()}`;
    const hash = sha256(query);
    const registered = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, await bearer('nurse'));
    expect(registered.json.errors).toBeUndefined();
    const asBi = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, { 'x-api-key': biKey });
    expect(errorCodes(asBi.json)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('is safelisted on every transport that reaches Apollo, REST aliases included', async () => {
    // A partner key runs the alias's manifest operation; the training subgraph then decides (the
    // key acts for Southbank, not Northwind: FORBIDDEN), not the safelist (which would be a 500).
    const alias = await fetch(`${t.baseUrl}/integrations/partner/cases?cohort_id=${COHORTS.northwindA.id}`, { headers: { 'x-api-key': partnerKey } });
    expect(alias.status).toBe(403);
    expect(errorCodes((await alias.json()) as GraphQLJson)).toEqual(['FORBIDDEN']);
    const text = await post({ query: operations.require('PartnerCohortCases').body, variables: { cohortId: COHORTS.northwindA.id } }, { 'x-api-key': partnerKey });
    expect(errorCodes(text.json)).toEqual(['OPERATION_NOT_ALLOWED']);
  });
});

describe('automatic persisted queries for other callers', () => {
  it('round-trips: unknown id → PERSISTED_QUERY_NOT_FOUND, id + text registers, then the id alone runs', async () => {
    const nurse = await bearer('nurse');
    const query = `query NurseOwnName { me { id displayName } } # ${randomUUID()}`;
    const hash = sha256(query);
    const miss = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, nurse);
    expect(miss.status).toBe(200);
    expect(errorCodes(miss.json)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    const register = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, nurse);
    expect(register.json.errors).toBeUndefined();
    expect((register.json.data?.['me'] as { displayName: string }).displayName).toBe('Nia Nurse');
    const hit = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, nurse);
    expect(hit.json).toEqual(register.json);
  });

  it('refuses to register text under a hash that is not its SHA-256', async () => {
    const wrong = await post({ query: '{ me { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('something else') } } }, await bearer('nurse'));
    expect(wrong.status).toBe(400);
    expect(wrong.json.errors?.[0]?.message).toMatch(/does not match/);
  });

  it('runs manifest operations by id for anyone the subgraphs allow', async () => {
    const { json } = await post(byId('NurseDashboard', { organizationId: ORGS.clinicNorth.id }), await bearer('nurse'));
    expect(json.errors).toBeUndefined();
    expect(json.data?.['nurseDashboard']).toHaveProperty('slaBreaches');
  });

  it('keeps APQ entries bounded in memory, and in Redis when configured', async () => {
    const memory = new MemoryApqStore({ maxEntries: 2, maxBytes: 1_000 });
    await memory.set('a', 'query A { me { id } }');
    await memory.set('b', 'query B { me { id } }');
    await memory.get('a'); // a is now the most recent
    await memory.set('c', 'query C { me { id } }');
    expect(memory.size).toBe(2);
    expect(await memory.get('b')).toBeUndefined();
    expect(await memory.get('a')).toBeDefined();
    const redisUrl = process.env['REDIS_URL'];
    if (!redisUrl) return;
    const redis = new RedisApqStore(redisUrl, `caregraph-test:${randomUUID()}:`, 60);
    try {
      await redis.set('h', 'query H { me { id } }');
      expect(await redis.get('h')).toBe('query H { me { id } }');
      expect(await redis.get('missing')).toBeUndefined();
    } finally {
      await redis.close();
    }
  });
});

describe('GET /graphql for persisted queries', () => {
  const getUrl = (name: string, variables?: Record<string, unknown>): string => {
    const params = new URLSearchParams({ operationName: name, extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: idOf(name) } }) });
    if (variables) params.set('variables', JSON.stringify(variables));
    return `${t.graphqlUrl}?${params}`;
  };

  it('answers with a private, short-lived Cache-Control and an ETag; If-None-Match gets 304', async () => {
    const headers = await bearer('nurse');
    const url = getUrl('NurseDashboard', { organizationId: ORGS.clinicNorth.id });
    const first = await fetch(url, { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const body = (await first.json()) as GraphQLJson;
    expect(body.errors).toBeUndefined();

    const again = await fetch(url, { headers: { ...headers, 'if-none-match': etag as string } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const changed = await fetch(url, { headers: { ...headers, 'if-none-match': '"something-else"' } });
    expect(changed.status).toBe(200);
  });

  it('runs a BI key’s manifest query by GET, never caches errors, and never runs a mutation', async () => {
    const bi = await fetch(getUrl('BiConnectionCheck'), { headers: { 'x-api-key': biKey } });
    expect(bi.status).toBe(200);
    expect(await bi.json()).toEqual({ data: { me: null } });
    const refused = await fetch(getUrl('NurseDashboard', { organizationId: ORGS.clinicNorth.id }), { headers: await bearer('patient') });
    expect(refused.headers.get('etag')).toBeNull();
    expect(refused.headers.get('cache-control')).not.toMatch(/max-age=[1-9]/);
    const mutation = await fetch(getUrl('CreatePatient', { input: { mrn: 'MCN-GET', givenName: 'G', familyName: 'Et', birthDate: '1990-01-01' } }), { headers: await bearer('nurse') });
    expect(mutation.status).toBe(405);
  });
});

describe('BI exports', () => {
  it('gives the same rows as JSON and as CSV (header row, stable columns, RFC 4180)', async () => {
    const json = await fetch(`${t.baseUrl}/bi/BiPractitioners.json`, { headers: { 'x-api-key': billingKey } });
    expect(json.status).toBe(200);
    expect(json.headers.get('cache-control')).toMatch(/^private/);
    const rows = (await json.json()) as Array<Record<string, unknown>>;
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(rows[0] ?? {})).toEqual(['id', 'name', 'qualification', 'specialty', 'organization.id', 'organization.name']);
    expect(rows.every((r) => r['organization.id'] === ORGS.clinicNorth.id)).toBe(true);

    const csv = await fetch(`${t.baseUrl}/bi/BiPractitioners.csv`, { headers: { 'x-api-key': billingKey } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...records] = parseCsv(await csv.text());
    expect(header).toEqual(['id', 'name', 'qualification', 'specialty', 'organization.id', 'organization.name']);
    expect(records).toEqual(rows.map((row) => (header ?? []).map((column) => cellText(row[column]))));
  });

  it('takes variables from the query string and answers the subgraph’s refusal as its status', async () => {
    // BI keys are not (yet) granted the nurse figures: the nurse subgraph refuses, the export says 403.
    const figures = await fetch(`${t.baseUrl}/bi/BiNurseQueueFigures.csv?organizationId=${ORGS.clinicNorth.id}`, { headers: { 'x-api-key': biKey } });
    expect(figures.status).toBe(403);
    const unknownVariable = await fetch(`${t.baseUrl}/bi/BiNurseQueueFigures.json?org=x`, { headers: { 'x-api-key': biKey } });
    expect(unknownVariable.status).toBe(400);
    const missing = await fetch(`${t.baseUrl}/bi/BiNurseQueueFigures.json`, { headers: { 'x-api-key': biKey } });
    expect(missing.status).toBe(400);
  });

  it('answers 404 for an unknown operation or a mutation, 401 for a bad or missing key', async () => {
    expect((await fetch(`${t.baseUrl}/bi/NoSuchOperation.csv`, { headers: { 'x-api-key': biKey } })).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/bi/CreatePatient.json`, { headers: { 'x-api-key': biKey } })).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/bi/BiPractitioners.xml`, { headers: { 'x-api-key': biKey } })).status).toBe(404);
    const bad = await fetch(`${t.baseUrl}/bi/BiPractitioners.csv`, { headers: { 'x-api-key': 'cgk_not_a_key' } });
    expect(bad.status).toBe(401);
    expect(errorCodes((await bad.json()) as GraphQLJson)).toEqual(['UNAUTHENTICATED']);
    expect((await fetch(`${t.baseUrl}/bi/BiPractitioners.csv`, { headers: await bearer('admin') })).status).toBe(401);
    expect((await fetch(`${t.baseUrl}/bi/BiPractitioners.csv`)).status).toBe(401);
  });

  it('escapes CSV per RFC 4180 and keeps spreadsheet formulas inert', () => {
    const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));
    const table = toTable(schema, operations.require('BiPractitioners').body, {
      practitioners: [
        { id: '1', name: 'Comma, Quote " and\nnewline', qualification: null, specialty: '=HYPERLINK("x")', organization: { id: 'o', name: 'Org' } },
        { id: '2', name: '-5', qualification: 'RN', specialty: null, organization: null },
      ],
    });
    const csv = toCsv(table);
    expect(csv).toContain('"Comma, Quote "" and\nnewline"');
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, first, second] = parseCsv(csv);
    expect(header).toEqual(table.columns);
    expect(first).toEqual(['1', 'Comma, Quote " and\nnewline', '', `'=HYPERLINK("x")`, 'o', 'Org']);
    expect(second).toEqual(['2', '-5', 'RN', '', '', '']);
  });
});

describe('a gateway holding partner and BI people to the manifest too', () => {
  let strict: RunningGateway;
  beforeAll(async () => {
    strict = await startGatewayInFront(t, 'persisted-test', { safelist: { roles: ['PARTNER', 'BI'], credentials: ['user', 'apiKey'] } });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it('still serves a partner’s REST aliases (manifest operations), and refuses the partner’s text', async () => {
    const partner = await bearer('partner');
    const rest = await fetch(`${strict.url}/integrations/partner/cases?cohort_id=${COHORTS.northwindA.id}`, { headers: partner });
    expect(rest.status).toBe(200);
    const { cases } = (await rest.json()) as { cases: Array<{ slug: string }> };
    expect(cases.map((c) => c.slug).sort()).toEqual(['chest-pain-acs', 'dka', 'febrile-infant']);
    const byIdAnswer = await post(byId('PartnerCohortCases', { cohortId: COHORTS.northwindA.id }), partner, `${strict.url}/graphql`);
    expect((byIdAnswer.json.data?.['cohortCases'] as unknown[]).length).toBe(3);
    const text = await post({ query: '{ me { id } }' }, partner, `${strict.url}/graphql`);
    expect(errorCodes(text.json)).toEqual(['OPERATION_NOT_ALLOWED']);
    // Others are not held to it.
    const nurse = await post({ query: '{ me { id } }' }, await bearer('nurse'), `${strict.url}/graphql`);
    expect(nurse.json.errors).toBeUndefined();
  });
});

describe('subscriptions and the safelist', () => {
  it('refuses a BI key’s subscription text, while a key outside the safelist reaches the subgraph’s own rules', async () => {
    const outcome = async (key: string): Promise<unknown> => {
      const socket = connectWs(t.graphqlUrl, { 'x-api-key': key });
      try {
        const stream = subscribeWs(socket, 'subscription { queueUpdated { kind } }');
        const { error } = await stream.ended;
        return (error as Array<{ extensions?: { code?: string } }> | undefined)?.[0]?.extensions?.code ?? (await stream.next(2_000)).errors?.[0]?.extensions?.['code'];
      } finally {
        await socket.dispose();
      }
    };
    expect(await outcome(biKey)).toBe('OPERATION_NOT_ALLOWED');
    expect(await outcome(await createKey('BILLING'))).toBe('FORBIDDEN');
  });
});

