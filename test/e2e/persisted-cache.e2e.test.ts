import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { Redis } from 'ioredis';
import type { RunningGateway } from '../../gateway/src/server.js';
import { CACHE_HEADER } from '../../gateway/src/persisted/cache-plugin.js';
import {
  buildCachePolicies, CACHE_POLICY_PATH, CachePolicies, checkCachePolicies, parseCacheAnnotation, serializeCachePolicies, type CachePolicyFile,
} from '../../gateway/src/persisted/cache-policy.js';
import { API_SCHEMA_PATH, buildManifest, PersistedOperations, readOperationSources, type OperationSource } from '../../gateway/src/persisted/manifest.js';
import {
  cacheKeyOf, cacheScopeOf, canonicalJson, MemoryResponseCacheStore, RedisResponseCacheStore, type CacheGroup, type ResponseCacheStore,
} from '../../gateway/src/persisted/response-cache.js';
import type { GatewayMetrics } from '../../gateway/src/metrics.js';
import { eventTopic, type RelayedEvent } from '../../subgraphs/kit/outbox.js';
import { COHORTS, ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { CreateApiKeyDocument } from '../generated/operations.js';
import { errorCodes, startGatewayInFront, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * The response cache of persisted queries: policies declared with the operations, the stores,
 * and the gateway serving by-id requests from the cache within the caller's scope, invalidated
 * by domain events.
 */
let t: TestPlatform;
const operations = PersistedOperations.load();
const idOf = (name: string): string => operations.require(name).id;
const schema = buildSchema(readFileSync(API_SCHEMA_PATH, 'utf8'));

type GraphQLJson = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
interface Answer {
  status: number;
  cache: string | null;
  text: string;
  json: GraphQLJson;
  headers: Headers;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, cache: response.headers.get(CACHE_HEADER), text, json: text ? (JSON.parse(text) as GraphQLJson) : {}, headers: response.headers };
}

async function post(url: string, body: Record<string, unknown>, headers: Record<string, string>): Promise<Answer> {
  return answerOf(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }));
}

const byId = (name: string, variables?: Record<string, unknown>) => ({ operationName: name, variables, extensions: { persistedQuery: { version: 1, sha256Hash: idOf(name) } } });
const asText = (name: string, variables?: Record<string, unknown>) => ({ operationName: name, variables, query: operations.require(name).body });
const bearer = async (user: keyof typeof USERS) => ({ authorization: `Bearer ${await t.tokenFor(user)}` });

async function createKey(admin: keyof typeof USERS, role: 'BI' | 'BILLING'): Promise<string> {
  const client = await t.client(admin);
  const { createApiKey } = await client.request(CreateApiKeyDocument, { input: { name: `cache-${role}-${randomUUID()}`, role } });
  return createApiKey.key;
}

async function cacheCount(metrics: GatewayMetrics, operation: string, result: 'hit' | 'miss' | 'store' | 'invalidated'): Promise<number> {
  const { values } = await metrics.persistedCache.get();
  return values.find((v) => v.labels.operation === operation && v.labels.result === result)?.value ?? 0;
}

beforeAll(async () => {
  t = await startTestPlatform();
  // Seeding records events; once the relay has published them, only this file's own events arrive.
  await until(() => t.platform.database.prisma.outboxEvent.count({ where: { relayedAt: null } }), (n) => n === 0, 'the seed events to be relayed', 30_000);
});
afterAll(async () => {
  await t?.close();
});

describe('cache policies declared with the operations', () => {
  it('parses ttl and invalidatedBy, and says what is wrong with a malformed annotation', () => {
    expect(parseCacheAnnotation(' ttl=60 invalidatedBy=nurse.queue.changed,analytics.figures.updated')).toEqual({ policy: { ttlSeconds: 60, invalidatedBy: ['analytics.figures.updated', 'nurse.queue.changed'] } });
    expect(parseCacheAnnotation('ttl=300')).toEqual({ policy: { ttlSeconds: 300, invalidatedBy: [] } });
    const problem = (text: string): string => {
      const parsed = parseCacheAnnotation(text);
      return 'problem' in parsed ? parsed.problem : 'no problem';
    };
    expect(problem('ttl=0')).toMatch(/ttl must be/);
    expect(problem('ttl=1.5')).toMatch(/ttl must be/);
    expect(problem('ttl=soon')).toMatch(/ttl must be/);
    expect(problem('ttl=86401')).toMatch(/ttl must be/);
    expect(problem('invalidatedBy=nurse.queue.changed')).toMatch(/ttl is required/);
    expect(problem('ttl=60 ttl=30')).toMatch(/twice/);
    expect(problem('ttl=60 scope=public')).toMatch(/unknown key "scope"/);
    expect(problem('ttl=60 invalidatedBy=')).toMatch(/event types/);
    expect(problem('ttl=60 invalidatedBy=Nurse-Queue')).toMatch(/event types/);
  });

  it('reads the comment block directly above a query, and refuses annotations on mutations, subscriptions, twice or on `me`', () => {
    const source = (text: string): OperationSource[] => [{ path: 'x.graphql', clientName: 'bi', source: text }];
    const policiesOf = (text: string) => {
      const sources = source(text);
      return buildCachePolicies(sources, buildManifest(sources, schema).manifest);
    };
    const ok = policiesOf([
      '# @cache ttl=5', // the file's header, separated by a blank line: not Staff's
      '',
      '# The staff.',
      '# @cache ttl=30 invalidatedBy=identity.staff.changed',
      'query Staff { practitioners { id } }',
      '# about Plain',
      'query Plain { practitioners { name } } # @cache ttl=9',
      'query Trailing { practitioners { specialty } }',
    ].join('\n'));
    expect(ok.problems).toEqual([]);
    expect(ok.file.operations).toEqual({ Staff: { id: expect.stringMatching(/^[0-9a-f]{64}$/), ttlSeconds: 30, invalidatedBy: ['identity.staff.changed'] } });

    expect(policiesOf('# @cache ttl=5\nmutation M($input: CreatePatientInput!) { createPatient(input: $input) { id } }').problems.join()).toMatch(/M is a mutation; only queries are cached/);
    expect(policiesOf('# @cache ttl=5\nsubscription S { queueUpdated { kind } }').problems.join()).toMatch(/S is a subscription/);
    expect(policiesOf('# @cache ttl=5\n# @cache ttl=6\nquery Q { practitioners { id } }').problems.join()).toMatch(/2 @cache annotations/);
    expect(policiesOf('# @cache ttl=5\nquery Who { me { id } }').problems.join()).toMatch(/Who reads me/);
    expect(policiesOf('# @cache ttl=never\nquery Q { practitioners { id } }').problems.join()).toMatch(/x\.graphql:1: Q: @cache ttl must be/);
  });

  it('check passes on the committed file, and catches a stale or missing file and a malformed annotation', () => {
    const sources = readOperationSources();
    const { manifest } = buildManifest(sources, schema);
    const committed = readFileSync(CACHE_POLICY_PATH, 'utf8');
    expect(checkCachePolicies({ sources, manifest, committed })).toEqual([]);
    const file = JSON.parse(committed) as CachePolicyFile;
    expect(file.operations['BiNurseQueueFigures']).toEqual({ id: idOf('BiNurseQueueFigures'), ttlSeconds: 60, invalidatedBy: ['nurse.queue.changed'] });
    expect(file.operations['BiPractitioners']).toEqual({ id: idOf('BiPractitioners'), ttlSeconds: 300, invalidatedBy: [] });
    expect(committed).toBe(serializeCachePolicies(buildCachePolicies(sources, manifest).file));
    expect(committed.endsWith('}\n')).toBe(true);

    const edit = (from: string, to: string): OperationSource[] => sources.map((s) => (s.source.includes(from) ? { ...s, source: s.source.replace(from, to) } : s));
    expect(checkCachePolicies({ sources: edit('@cache ttl=60', '@cache ttl=61'), manifest, committed }).join('\n')).toMatch(/persisted-query-cache\.json is stale/);
    expect(checkCachePolicies({ sources, manifest, committed: undefined }).join('\n')).toMatch(/persisted-query-cache\.json is missing/);
    expect(checkCachePolicies({ sources: edit('@cache ttl=60', '@cache ttl=60s'), manifest, committed }).join('\n')).toMatch(/organization\.graphql:\d+: BiNurseQueueFigures: @cache ttl must be/);
    // The text changed (a field added): the id in the policy file no longer matches.
    const changed = edit('specialty', 'specialty\n    qualification');
    expect(checkCachePolicies({ sources: changed, manifest: buildManifest(changed, schema).manifest, committed }).join('\n')).toMatch(/stale/);
  });

  it('applies only policies whose id is the manifest’s, and maps event types to operations', () => {
    const committed = JSON.parse(readFileSync(CACHE_POLICY_PATH, 'utf8')) as CachePolicyFile;
    const policies = new CachePolicies({
      version: 1,
      operations: { ...committed.operations, BiPractitioners: { id: 'f'.repeat(64), ttlSeconds: 300, invalidatedBy: [] }, NoSuchOperation: { id: 'e'.repeat(64), ttlSeconds: 5, invalidatedBy: [] } },
    }, operations);
    expect(policies.skipped.sort()).toEqual(['BiPractitioners', 'NoSuchOperation']);
    expect(policies.forId(idOf('BiPractitioners'))).toBeUndefined();
    expect(policies.forId(idOf('BiNurseQueueFigures'))).toEqual({ name: 'BiNurseQueueFigures', ttlSeconds: 60, invalidatedBy: ['nurse.queue.changed'] });
    expect(policies.invalidatedBy('nurse.queue.changed')).toEqual(['BiNurseQueueFigures']);
    expect(policies.eventTypes()).toContain('nurse.queue.changed');
  });
});

describe('response cache stores', () => {
  const north: CacheGroup = { operation: 'BiFigures', organizationId: 'org-north' };
  const south: CacheGroup = { operation: 'BiFigures', organizationId: 'org-south' };
  const other: CacheGroup = { operation: 'BiOther', organizationId: 'org-north' };

  /** What every store must do, with the clock under the test's control. */
  async function contract(store: ResponseCacheStore, clock: { now: number }): Promise<void> {
    await store.set(north, 'k1', '{"n":1}', 60);
    await store.set(north, 'k2', '{"n":2}', 60);
    await store.set(south, 'k1', '{"s":1}', 60);
    await store.set(other, 'k1', '{"o":1}', 60);
    expect(await store.get(north, 'k1', 60)).toBe('{"n":1}');
    expect(await store.get(north, 'k2', 60)).toBe('{"n":2}');
    expect(await store.get(north, 'k3', 60)).toBeUndefined();
    // One organization's group of one operation is one delete; the others stay.
    await store.invalidate('BiFigures', 'org-north');
    expect(await store.get(north, 'k1', 60)).toBeUndefined();
    expect(await store.get(south, 'k1', 60)).toBe('{"s":1}');
    expect(await store.get(other, 'k1', 60)).toBe('{"o":1}');
    await store.set(north, 'k1', '{"n":3}', 60);
    // null: every organization's entries of the operation.
    await store.invalidate('BiFigures', null);
    expect(await store.get(north, 'k1', 60)).toBeUndefined();
    expect(await store.get(south, 'k1', 60)).toBeUndefined();
    expect(await store.get(other, 'k1', 60)).toBe('{"o":1}');
    // An entry older than the TTL is a miss, whatever the store still holds.
    await store.set(south, 't', '{"t":1}', 60);
    await store.set(south, 'u', '{"u":1}', 60);
    clock.now += 59_999;
    expect(await store.get(south, 't', 60)).toBe('{"t":1}');
    // A shorter TTL in the current policy applies to entries written under a longer one.
    expect(await store.get(south, 'u', 30)).toBeUndefined();
    clock.now += 1;
    expect(await store.get(south, 't', 60)).toBeUndefined();
  }

  it('in memory: entries expire by TTL, invalidate per group, and stay within the count and size bounds', async () => {
    const clock = { now: 1_000_000 };
    await contract(new MemoryResponseCacheStore({ maxEntries: 100, maxBytes: 10_000 }, () => clock.now), clock);

    const bounded = new MemoryResponseCacheStore({ maxEntries: 3, maxBytes: 40 }, () => clock.now);
    await bounded.set(north, 'a', '"aaaa"', 60);
    await bounded.set(north, 'b', '"bbbb"', 60);
    await bounded.set(south, 'c', '"cccc"', 60);
    expect(await bounded.get(north, 'a', 60)).toBe('"aaaa"'); // a is now the most recent
    await bounded.set(south, 'd', '"dddd"', 60);
    expect(bounded.size).toBe(3);
    expect(await bounded.get(north, 'b', 60)).toBeUndefined(); // least recently used
    expect(await bounded.get(north, 'a', 60)).toBe('"aaaa"');
    // The size bound: 3 × 6 + 30 > 40, so older entries give way; one larger than the bound is not kept at all.
    await bounded.set(north, 'big', `"${'x'.repeat(28)}"`, 60);
    expect(await bounded.get(north, 'big', 60)).toBeDefined();
    expect(bounded.size).toBeLessThanOrEqual(2);
    await bounded.set(north, 'huge', `"${'x'.repeat(60)}"`, 60);
    expect(await bounded.get(north, 'huge', 60)).toBeUndefined();
    // Invalidation also frees what the bound counts.
    await bounded.invalidate('BiFigures', null);
    expect(bounded.size).toBe(0);
  });

  it('in Redis when REDIS_URL is set (one hash per group that expires by the TTL), else memory', async () => {
    const clock = { now: Date.now() };
    const redisUrl = process.env['REDIS_URL'];
    if (!redisUrl) {
      await contract(new MemoryResponseCacheStore(undefined, () => clock.now), clock);
      return;
    }
    const prefix = `caregraph-test:${randomUUID()}:`;
    const store = new RedisResponseCacheStore(redisUrl, prefix, { maxEntryBytes: 1_000_000, now: () => clock.now });
    const redis = new Redis(redisUrl);
    try {
      await contract(store, clock);
      const east: CacheGroup = { operation: 'BiFigures', organizationId: 'org-east' };
      await store.set(east, 'k', '{"e":1}', 60);
      const key = store.keyOf(east);
      expect(key).toBe(`${prefix}pqcache:BiFigures:org-east`);
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(50);
      expect(ttl).toBeLessThanOrEqual(60);
      // A later write to the group does not extend it: no entry outlives its TTL.
      await redis.expire(key, 20);
      await store.set(east, 'k2', '{"e":2}', 60);
      expect(await redis.ttl(key)).toBeLessThanOrEqual(20);
      expect(await redis.hlen(key)).toBe(2);
      // Field names are hashes: no scope or variables in key space.
      expect((await redis.hkeys(key)).every((field) => /^[\w-]{43}$/.test(field))).toBe(true);
    } finally {
      await redis.quit();
      await store.close();
    }
  });

  it('scopes: BI callers of one organization share; everyone else is cached per principal; anonymous and organization-less callers never', () => {
    const org = ORGS.clinicNorth.id;
    const biKey = cacheScopeOf({ kind: 'apiKey', subject: 'key-1', role: 'BI', organizationId: org });
    const biUser = cacheScopeOf({ kind: 'user', subject: USERS.bi.id, role: 'BI', organizationId: org });
    expect(biKey).toEqual({ organizationId: org, scope: `BI:${org}` });
    expect(biUser).toEqual(biKey);
    expect(cacheScopeOf({ kind: 'apiKey', subject: 'key-2', role: 'BI', organizationId: ORGS.hospital.id })?.scope).toBe(`BI:${ORGS.hospital.id}`);
    const admin = cacheScopeOf({ kind: 'user', subject: USERS.admin.id, role: 'ADMIN', organizationId: org });
    const otherAdmin = cacheScopeOf({ kind: 'user', subject: 'another-admin', role: 'ADMIN', organizationId: org });
    const billingKey = cacheScopeOf({ kind: 'apiKey', subject: USERS.admin.id, role: 'BILLING', organizationId: org });
    expect(new Set([admin?.scope, otherAdmin?.scope, billingKey?.scope, biKey?.scope]).size).toBe(4);
    const partner = (cohortIds: string[]) => cacheScopeOf({ kind: 'user', subject: 'p', role: 'PARTNER', organizationId: org, cohortIds })?.scope;
    expect(partner(['b', 'a'])).toBe(partner(['a', 'b']));
    expect(partner(['a'])).not.toBe(partner(['a', 'b']));
    const patient = (patientId: string) => cacheScopeOf({ kind: 'user', subject: 'u', role: 'PATIENT', organizationId: org, patientId })?.scope;
    expect(patient('p1')).not.toBe(patient('p2'));
    expect(cacheScopeOf({ kind: 'anonymous' })).toBeUndefined();
    expect(cacheScopeOf({ kind: 'user', subject: 'u', role: 'BI', organizationId: null })).toBeUndefined();
    // Variables in any key order are one entry; different values are not.
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    const scope = biKey ?? { organizationId: org, scope: '' };
    expect(cacheKeyOf(scope, { to: 't', from: 'f' })).toBe(cacheKeyOf(scope, { from: 'f', to: 't' }));
    expect(cacheKeyOf(scope, { from: 'f' })).not.toBe(cacheKeyOf(scope, { from: 'g' }));
  });
});

describe('a gateway caching by TTL (no events)', () => {
  let gateway: RunningGateway;
  let graphqlUrl: string;
  let biKey: string;
  let hospitalBiKey: string;
  let billingKey: string;
  const metricsVariables = (organizationId: string) => ({ organizationId, from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' });

  beforeAll(async () => {
    biKey = await createKey('admin', 'BI');
    hospitalBiKey = await createKey('hospitalAdmin', 'BI');
    billingKey = await createKey('admin', 'BILLING');
    const committed = JSON.parse(readFileSync(CACHE_POLICY_PATH, 'utf8')) as CachePolicyFile;
    const redisUrl = process.env['REDIS_URL'];
    gateway = await startGatewayInFront(t, 'persisted-cache-test', {
      cache: redisUrl ? new RedisResponseCacheStore(redisUrl, `caregraph-test:${randomUUID()}:`) : new MemoryResponseCacheStore(),
      // The partner alias's operation gets a policy here, to show REST aliases use the cache.
      cachePolicies: new CachePolicies({ version: 1, operations: { ...committed.operations, PartnerCohortCases: { id: idOf('PartnerCohortCases'), ttlSeconds: 60, invalidatedBy: [] } } }, operations),
    });
    graphqlUrl = `${gateway.url}/graphql`;
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('answers a BI key’s request by id from the cache the second time, with the identical body', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    const first = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey });
    expect(first.status).toBe(200);
    expect(first.json.errors).toBeUndefined();
    expect((first.json.data?.['organizationMetrics'] as { organizationId: string }).organizationId).toBe(ORGS.clinicNorth.id);
    expect(first.cache).toBe('miss');
    const second = await post(graphqlUrl, byId('BiOrganizationMetrics', { to: variables.to, from: variables.from, organizationId: variables.organizationId }), { 'x-api-key': biKey });
    expect(second.cache).toBe('hit');
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    // Other variables are another entry.
    const otherRange = await post(graphqlUrl, byId('BiOrganizationMetrics', { ...variables, to: '2026-01-15T00:00:00.000Z' }), { 'x-api-key': biKey });
    expect(otherRange.cache).toBe('miss');
    expect(await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'hit')).toBeGreaterThanOrEqual(1);
    expect(await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'store')).toBeGreaterThanOrEqual(2);
    const exposition = await (await fetch(gateway.metricsUrl)).text();
    expect(exposition).toMatch(/caregraph_persisted_cache_total\{operation="BiOrganizationMetrics",result="hit"\} [1-9]/);
  });

  it('shares the BI scope with BI people of the organization, and never serves or stores text', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    const cached = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey });
    expect(cached.cache).toBe('hit');
    const biPerson = await bearer('bi');
    const shared = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), biPerson);
    expect(shared.cache).toBe('hit');
    expect(shared.text).toBe(cached.text);
    // The same text, twice: executed both times, never from the cache, never into it.
    const stores = await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'store');
    const hits = await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'hit');
    const variablesText = metricsVariables(ORGS.clinicNorth.id);
    variablesText.to = '2026-01-20T00:00:00.000Z'; // not cached by id either, so a store would show
    for (let i = 0; i < 2; i++) {
      const text = await post(graphqlUrl, asText('BiOrganizationMetrics', i === 0 ? variables : variablesText), biPerson);
      expect(text.status).toBe(200);
      expect(text.json.errors).toBeUndefined();
      expect(text.cache).toBeNull();
    }
    expect(await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'store')).toBe(stores);
    expect(await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'hit')).toBe(hits);
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variablesText), biPerson)).cache).toBe('miss');
  });

  it('never shares between organizations: another organization’s BI key asking the same is not served from the cache, is refused by the subgraph, and nothing is stored', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey })).cache).toBe('hit');
    for (let i = 0; i < 2; i++) {
      const hospital = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': hospitalBiKey });
      expect(hospital.cache).toBeNull(); // figures of another organization are not cached at all
      expect(errorCodes(hospital.json)).toEqual(['FORBIDDEN']);
    }
    const own = metricsVariables(ORGS.hospital.id);
    const first = await post(graphqlUrl, byId('BiOrganizationMetrics', own), { 'x-api-key': hospitalBiKey });
    expect(first.cache).toBe('miss');
    expect((first.json.data?.['organizationMetrics'] as { organizationId: string }).organizationId).toBe(ORGS.hospital.id);
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', own), { 'x-api-key': hospitalBiKey })).cache).toBe('hit');
    // The query without an organization variable: each organization's key gets its own staff.
    const northStaff = await post(graphqlUrl, byId('BiPractitioners'), { 'x-api-key': billingKey });
    expect(northStaff.json.errors).toBeUndefined();
    const hospitalAdmin = await bearer('hospitalAdmin');
    const hospitalStaff = await post(graphqlUrl, byId('BiPractitioners'), hospitalAdmin);
    expect(hospitalStaff.cache).toBe('miss');
    const orgsOf = (answer: Answer): string[] => [...new Set((answer.json.data?.['practitioners'] as Array<{ organization: { id: string } }>).map((p) => p.organization.id))];
    expect(orgsOf(hospitalStaff)).toEqual([ORGS.hospital.id]);
    expect(orgsOf(northStaff)).toEqual([ORGS.clinicNorth.id]);
    expect((await post(graphqlUrl, byId('BiPractitioners'), hospitalAdmin)).text).toBe(hospitalStaff.text);
  });

  it('does not serve the BI scope’s entry to a caller of another role or subject; refusals are never cached', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey })).cache).toBe('hit');
    const admin = await bearer('admin');
    const asAdmin = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), admin);
    expect(asAdmin.cache).toBe('miss');
    expect(asAdmin.json.errors).toBeUndefined();
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variables), admin)).cache).toBe('hit');
    // A nurse may not read the organization's metrics: refused each time, nothing stored.
    const stores = await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'store');
    const nurse = await bearer('nurse');
    for (let i = 0; i < 2; i++) {
      const refused = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), nurse);
      expect(refused.cache).toBe('miss');
      expect(errorCodes(refused.json)).toEqual(['FORBIDDEN']);
      expect(refused.json.data?.['organizationMetrics'] ?? null).toBeNull();
    }
    expect(await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'store')).toBe(stores);
    // A second admin-role principal of the organization (another subject): its own entry, not the first admin's.
    // The gateway refuses tokens whose user is not an admin there, so the chain's admin becomes one.
    await t.platform.database.prisma.membership.createMany({ data: [{ userId: USERS.chainAdmin.id, organizationId: ORGS.clinicNorth.id, role: 'ADMIN' }], skipDuplicates: true });
    const otherAdmin = { authorization: `Bearer ${await t.tokenFor({ ...USERS.admin, id: USERS.chainAdmin.id, organizationId: ORGS.clinicNorth.id })}` };
    const asOther = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), otherAdmin);
    expect(asOther.cache).toBe('miss');
  });

  it('serves persisted GETs from the cache with the same ETag, and 304 still works', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    const params = new URLSearchParams({ operationName: 'BiOrganizationMetrics', variables: JSON.stringify(variables), extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: idOf('BiOrganizationMetrics') } }) });
    const url = `${graphqlUrl}?${params}`;
    const first = await answerOf(await fetch(url, { headers: { 'x-api-key': biKey } }));
    expect(first.status).toBe(200);
    expect(first.cache).toBe('hit'); // stored by the POSTs above: the same scope and variables
    const byPost = await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey });
    expect(first.text).toBe(byPost.text);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(url, { headers: { 'x-api-key': biKey, 'if-none-match': etag as string } });
    expect(again.status).toBe(304);
    expect(again.headers.get(CACHE_HEADER)).toBe('hit');

    const fresh = new URLSearchParams(params);
    fresh.set('variables', JSON.stringify({ ...variables, from: '2025-12-01T00:00:00.000Z' }));
    const miss = await answerOf(await fetch(`${graphqlUrl}?${fresh}`, { headers: { 'x-api-key': biKey } }));
    expect(miss.cache).toBe('miss');
    const hit = await answerOf(await fetch(`${graphqlUrl}?${fresh}`, { headers: { 'x-api-key': biKey } }));
    expect(hit.cache).toBe('hit');
    expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'));
  });

  it('serves BI exports and REST aliases from the cache too', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    const query = new URLSearchParams(variables);
    const json = await fetch(`${gateway.url}/bi/BiOrganizationMetrics.json?${query}`, { headers: { 'x-api-key': biKey } });
    expect(json.status).toBe(200);
    expect(json.headers.get(CACHE_HEADER)).toBe('hit');
    const rows = (await json.json()) as Array<Record<string, unknown>>;
    expect(rows[0]?.['organizationId']).toBe(ORGS.clinicNorth.id);
    const csv = await fetch(`${gateway.url}/bi/BiOrganizationMetrics.csv?${query}`, { headers: { 'x-api-key': biKey } });
    expect(csv.headers.get(CACHE_HEADER)).toBe('hit');
    // A refused export (BI keys may not read the nurse queue's figures) is never cached.
    for (let i = 0; i < 2; i++) {
      const refused = await fetch(`${gateway.url}/bi/BiNurseQueueFigures.json?organizationId=${ORGS.clinicNorth.id}`, { headers: { 'x-api-key': biKey } });
      expect(refused.status).toBe(403);
    }
    expect(await cacheCount(gateway.metrics, 'BiNurseQueueFigures', 'store')).toBe(0);

    const partner = await bearer('partner');
    const path = `${gateway.url}/integrations/partner/cases?cohort_id=${COHORTS.northwindA.id}`;
    const first = await fetch(path, { headers: partner });
    expect(first.status).toBe(200);
    expect(first.headers.get(CACHE_HEADER)).toBe('miss');
    const firstBody = await first.text();
    const second = await fetch(path, { headers: partner });
    expect(second.headers.get(CACHE_HEADER)).toBe('hit');
    expect(await second.text()).toBe(firstBody);
    // Another partner of the same organization is not this partner: the subgraph refuses it.
    const other = await fetch(path, { headers: await bearer('otherPartner') });
    expect(other.headers.get(CACHE_HEADER)).not.toBe('hit');
    expect(other.status).toBe(403);
  });

  it('drops every entry when the supergraph is reloaded', async () => {
    const variables = metricsVariables(ORGS.clinicNorth.id);
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey })).cache).toBe('hit');
    const invalidated = await cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'invalidated');
    gateway.reloadSupergraph(readFileSync('schema/supergraph.graphql', 'utf8'));
    await until(() => cacheCount(gateway.metrics, 'BiOrganizationMetrics', 'invalidated'), (n) => n > invalidated, 'the cache to be cleared');
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey })).cache).toBe('miss');
    expect((await post(graphqlUrl, byId('BiOrganizationMetrics', variables), { 'x-api-key': biKey })).cache).toBe('hit');
  });
});

describe('invalidation by domain events (the platform’s gateway)', () => {
  const figures = (organizationId: string) => byId('BiNurseQueueFigures', { organizationId });
  const metrics = () => t.platform.gateway.metrics;
  const relayed = (organizationId: string | null): RelayedEvent => ({
    id: randomUUID(),
    seq: '0',
    source: 'nurse',
    type: 'nurse.queue.changed',
    version: 1,
    aggregateId: randomUUID(),
    organizationId,
    partnerId: null,
    payload: { kind: 'UPDATED' },
    occurredAt: new Date().toISOString(),
  });
  const publish = async (organizationId: string | null): Promise<void> => {
    const before = await cacheCount(metrics(), 'BiNurseQueueFigures', 'invalidated');
    await t.platform.deps.pubsub.publish(eventTopic('nurse.queue.changed'), relayed(organizationId));
    await until(() => cacheCount(metrics(), 'BiNurseQueueFigures', 'invalidated'), (n) => n > before, 'the invalidation to be applied');
  };

  it('drops the organization’s entries of the operations the event invalidates, and only those', async () => {
    const nurse = await bearer('nurse');
    const hospitalNurse = await bearer('hospitalNurse');
    const biKey = await createKey('admin', 'BI');
    expect((await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse)).cache).toBe('miss');
    expect((await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse)).cache).toBe('hit');
    expect((await post(t.graphqlUrl, figures(ORGS.hospital.id), hospitalNurse)).cache).toBe('miss');
    expect((await post(t.graphqlUrl, figures(ORGS.hospital.id), hospitalNurse)).cache).toBe('hit');
    expect((await post(t.graphqlUrl, byId('BiPractitioners'), nurse)).json.errors).toBeUndefined();
    // BI keys are refused the nurse figures; a refusal is never stored, so never a hit.
    for (let i = 0; i < 2; i++) {
      const refused = await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), { 'x-api-key': biKey });
      expect(refused.cache).toBe('miss');
      expect(errorCodes(refused.json)).toEqual(['FORBIDDEN']);
    }

    await publish(ORGS.clinicNorth.id);
    expect((await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse)).cache).toBe('miss');
    expect((await post(t.graphqlUrl, figures(ORGS.hospital.id), hospitalNurse)).cache).toBe('hit');
    // Operations the event does not name keep their entries.
    expect((await post(t.graphqlUrl, byId('BiPractitioners'), nurse)).cache).toBe('hit');
    expect((await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse)).cache).toBe('hit');

    // An event without an organization drops every organization's entries.
    await publish(null);
    expect((await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse)).cache).toBe('miss');
    expect((await post(t.graphqlUrl, figures(ORGS.hospital.id), hospitalNurse)).cache).toBe('miss');
  });

  it('a nurse adding a queue entry invalidates the cached figures: the next request by id is a miss with the new count', async () => {
    const nurse = await bearer('nurse');
    const total = (answer: Answer): number => (answer.json.data?.['nurseDashboard'] as { byUrgency: Array<{ count: number }> }).byUrgency.reduce((sum, u) => sum + u.count, 0);
    await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse);
    const before = await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse);
    expect(before.cache).toBe('hit');

    const created = await post(t.graphqlUrl, {
      query: 'mutation AddToQueue($input: ManualQueueEntryInput!) { createQueueEntry(input: $input) { id status } }',
      variables: { input: { patientId: PATIENTS.amaraNorth.id, urgency: 'HIGH', reason: 'cache invalidation test' } },
    }, nurse);
    expect(created.json.errors).toBeUndefined();

    // The relay publishes the committed event within its poll interval (250 ms); until then the entry may still be served.
    const after = await until(() => post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse), (answer) => answer.cache === 'miss', 'the cached figures to be invalidated');
    expect(after.json.errors).toBeUndefined();
    expect(total(after)).toBe(total(before) + 1);
    const again = await post(t.graphqlUrl, figures(ORGS.clinicNorth.id), nurse);
    expect(again.cache).toBe('hit');
    expect(total(again)).toBe(total(before) + 1);
  });
});
