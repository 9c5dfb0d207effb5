/**
 * `npm run bench:persisted` — one BI operation through the gateway, two ways, side by side:
 *
 *   (a) POST /graphql with the operation's full text: parsed, validated, planned and executed
 *       against the subgraphs every time (text is never served from the response cache);
 *   (b) GET /graphql?extensions=…&variables=… by manifest id: answered from the persisted
 *       response cache once warm (checked by its `caregraph-cache: hit` header).
 *
 * Both as the same bearer-token user with role BI (people are not held to the safelist, so (a)
 * is allowed). The platform runs in this process (as the tests run it): embedded PGlite, or a
 * scratch database on DATABASE_URL; Redis for the cache and pubsub when REDIS_URL is set. The
 * client shares the process and its event loop with the servers, so the absolute figures
 * include the client's own cost; the ratio is the point.
 *
 * Rounds are interleaved (a, b, b, a, a, b, …) so that drift (JIT warm-up, GC, a noisy
 * neighbour) lands on both modes alike.
 *
 * Environment: BENCH_OPERATION (default BiOrganizationMetrics), BENCH_VARIABLES (JSON; for the
 * default operation, the BI user's organization over the last 30 days), BENCH_CONCURRENCY
 * (16), BENCH_SECONDS (40: total measuring time, split over BENCH_ROUNDS (5) × 2 modes).
 */
import { randomUUID } from 'node:crypto';
import { generatePlatformKeys } from '../subgraphs/kit/keys.js';
import { signPlatformToken } from '../subgraphs/kit/tokens.js';
import { CACHE_HEADER } from '../gateway/src/persisted/cache-plugin.js';
import { CachePolicies } from '../gateway/src/persisted/cache-policy.js';
import { PersistedOperations } from '../gateway/src/persisted/manifest.js';
import { canonicalJson } from '../gateway/src/persisted/response-cache.js';
import { startPlatform, type Platform } from '../scripts/platform.js';
import { createScratchPostgresDatabase } from '../subgraphs/kit/database.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { USERS } from '../prisma/seed-data.js';

const numberEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const OPERATION = process.env['BENCH_OPERATION'] || 'BiOrganizationMetrics';
const CONCURRENCY = Math.floor(numberEnv('BENCH_CONCURRENCY', 16));
const ROUNDS = Math.floor(numberEnv('BENCH_ROUNDS', 5));
const SECONDS = numberEnv('BENCH_SECONDS', 40);
const SLOT_MS = (SECONDS * 1000) / (ROUNDS * 2);
const WARMUP_MS = Math.min(3_000, SLOT_MS);

const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

/** The variables: BENCH_VARIABLES, else a fixed range for the default operation (fixed, so every request is the same entry). */
function variablesFor(operation: string): Record<string, unknown> {
  const given = process.env['BENCH_VARIABLES'];
  if (given) {
    const parsed: unknown = JSON.parse(given);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('BENCH_VARIABLES must be a JSON object');
    return parsed as Record<string, unknown>;
  }
  if (operation !== 'BiOrganizationMetrics') return {};
  const to = new Date();
  return { organizationId: USERS.bi.organizationId, from: new Date(to.getTime() - 30 * 86_400_000).toISOString(), to: to.toISOString() };
}

interface Sample {
  status: number;
  cache: string | null;
  body: string;
}

interface Tally {
  requests: number;
  failures: number;
  cacheHits: number;
  elapsedMs: number;
  latencies: number[];
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;

/** CONCURRENCY workers sending `send` back to back for `ms`; latency per request. */
async function measure(send: () => Promise<Sample>, ms: number, into: Tally): Promise<void> {
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const sample = await send();
      into.latencies.push(performance.now() - t0);
      into.requests += 1;
      if (sample.status !== 200) into.failures += 1;
      if (sample.cache === 'hit') into.cacheHits += 1;
    }
  }));
  into.elapsedMs += performance.now() - started;
}

/** The answer's data as canonical JSON; an answer with errors (a refusal is never cached) ends the bench. */
const dataOf = (mode: string, body: string): string => {
  const parsed = JSON.parse(body) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (parsed.errors?.length) throw new Error(`${mode} failed for the BI user: ${parsed.errors.map((e) => e.extensions?.code ?? e.message).join(', ')}`);
  return canonicalJson(parsed.data);
};

async function main(): Promise<void> {
  const operations = PersistedOperations.load();
  const operation = operations.require(OPERATION);
  if (operation.type !== 'query') throw new Error(`${OPERATION} is a ${operation.type}; the bench compares queries`);
  const policy = CachePolicies.load(operations).forId(operation.id);
  if (!policy) throw new Error(`${OPERATION} has no cache policy (# @cache ttl=… above it in schema/operations/); nothing would be cached`);
  const variables = variablesFor(OPERATION);

  const databaseUrl = process.env['DATABASE_URL'] || undefined;
  const redisUrl = process.env['REDIS_URL'] || undefined;
  const scratch = databaseUrl ? await createScratchPostgresDatabase(databaseUrl) : undefined;
  const keys = await generatePlatformKeys();
  let platform: Platform | undefined;
  try {
    log(`starting the platform (${scratch ? 'PostgreSQL' : 'embedded PGlite'}, ${redisUrl ? 'Redis' : 'in-memory'} cache and pubsub)`);
    platform = await startPlatform({
      databaseUrl: scratch?.url,
      redisUrl,
      redisPrefix: `caregraph-bench:${randomUUID()}:`,
      keys,
      seed: true,
      log: createLogger('bench', process.env['LOG_LEVEL'] ?? 'warn'),
    });
    const graphqlUrl = `${platform.gateway.url}/graphql`;
    const { prisma } = platform.database;
    // Seeding records events whose invalidations would otherwise land in the measurement.
    for (const deadline = Date.now() + 60_000; (await prisma.outboxEvent.count({ where: { relayedAt: null } })) > 0;) {
      if (Date.now() > deadline) throw new Error('the seed events were not relayed within a minute');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const user = USERS.bi;
    const authorization = `Bearer ${await signPlatformToken(keys, { userId: user.id, role: user.role, organizationId: user.organizationId, patientId: null }, 3_600)}`;
    const textBody = JSON.stringify({ query: operation.body, operationName: operation.name, variables });
    const byIdUrl = `${graphqlUrl}?${new URLSearchParams({
      operationName: operation.name,
      variables: JSON.stringify(variables),
      extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: operation.id } }),
    })}`;
    const asText = async (): Promise<Sample> => {
      const response = await fetch(graphqlUrl, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: textBody });
      return { status: response.status, cache: response.headers.get(CACHE_HEADER), body: await response.text() };
    };
    const byId = async (): Promise<Sample> => {
      const response = await fetch(byIdUrl, { headers: { authorization } });
      return { status: response.status, cache: response.headers.get(CACHE_HEADER), body: await response.text() };
    };

    // Both must answer the same data, and (b) must come from the cache, or the comparison means nothing.
    const text = await asText();
    if (text.status !== 200) throw new Error(`(a) answered ${text.status}: ${text.body.slice(0, 300)}`);
    if (text.cache !== null) throw new Error('(a) carried a cache header: text must never be cached');
    const textData = dataOf('(a)', text.body);
    let cached = await byId();
    for (let tries = 0; cached.cache !== 'hit' && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      cached = await byId();
    }
    if (cached.cache !== 'hit') throw new Error(`(b) is not served from the cache (header: ${cached.cache ?? 'none'}, status ${cached.status})`);
    if (textData !== dataOf('(b)', cached.body)) throw new Error('(a) and (b) returned different data');
    log(`verified: identical data (${cached.body.length} bytes), (b) from the cache; warming up ${WARMUP_MS} ms per mode`);

    await measure(asText, WARMUP_MS, { requests: 0, failures: 0, cacheHits: 0, elapsedMs: 0, latencies: [] });
    await measure(byId, WARMUP_MS, { requests: 0, failures: 0, cacheHits: 0, elapsedMs: 0, latencies: [] });

    const tallies = { text: { requests: 0, failures: 0, cacheHits: 0, elapsedMs: 0, latencies: [] as number[] }, id: { requests: 0, failures: 0, cacheHits: 0, elapsedMs: 0, latencies: [] as number[] } };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Array<'text' | 'id'> = round % 2 === 0 ? ['text', 'id'] : ['id', 'text'];
      for (const mode of order) await measure(mode === 'text' ? asText : byId, SLOT_MS, tallies[mode]);
      log(`round ${round + 1}/${ROUNDS} done`);
    }

    const row = (label: string, tally: Tally): { label: string; rps: number; line: string } => {
      const sorted = [...tally.latencies].sort((a, b) => a - b);
      const rps = tally.requests / (tally.elapsedMs / 1000);
      const line = [label.padEnd(34), String(tally.requests).padStart(9), rps.toFixed(0).padStart(8), percentile(sorted, 50).toFixed(2).padStart(8), percentile(sorted, 99).toFixed(2).padStart(8), String(tally.failures).padStart(8)].join(' ');
      return { label, rps, line };
    };
    const a = row('(a) POST /graphql, text', tallies.text);
    const b = row('(b) GET /graphql by id, cached', tallies.id);
    const lines = [
      `operation ${OPERATION} (cache ttl ${policy.ttlSeconds} s), concurrency ${CONCURRENCY}, ${ROUNDS} interleaved rounds × ${(SLOT_MS / 1000).toFixed(1)} s per mode, ${scratch ? 'PostgreSQL' : 'PGlite'}, ${redisUrl ? 'Redis' : 'memory'} cache`,
      `${'mode'.padEnd(34)} ${'requests'.padStart(9)} ${'rps'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-200'.padStart(8)}`,
      a.line,
      b.line,
      `(b) served from the cache: ${((tallies.id.cacheHits / Math.max(1, tallies.id.requests)) * 100).toFixed(1)}% of requests`,
      `ratio (b)/(a): ${(b.rps / a.rps).toFixed(1)}×`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await platform?.close();
    await scratch?.drop();
  }
}

await main();
// PGlite and pooled sockets may keep the loop alive after close; the bench is done.
process.exit(0);
