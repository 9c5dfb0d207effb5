/**
 * `tsx bench/subscriptions.ts` — subscription delivery through the gateway (issue 5).
 *
 * Runs the identity subgraph, the test visits subgraph and the gateway as separate OS
 * processes on loopback (PostgreSQL / Redis when DATABASE_URL / REDIS_URL are set, embedded
 * PGlite and in-memory pubsub otherwise), then measures from this process:
 *
 * 1. Fan-out: BENCH_SUBSCRIBERS (1,000) clients, each on its own WebSocket (as browsers would
 *    be), events published at BENCH_RATE per second for BENCH_SECONDS. Each population gets a
 *    fresh gateway process, so its memory figures start from the same baseline.
 *    - `visitRecorded { id reason }` (delivery through the gateway, no entity fetch) for two
 *      populations, because the gateway may come to share one upstream between identical
 *      subscriptions of one identity scope: 1,000 distinct users (nothing to share: the
 *      realistic worst case) and 1,000 connections of one user (everything shareable).
 *    - `visitRecorded { id reason patient { name } }` for BENCH_FEDERATED_SUBSCRIBERS (100)
 *      distinct users: Patient lives in the identity subgraph, so every event costs one entity
 *      fetch per subscription; fewer subscribers and a lower rate keep the run bounded.
 * 2. Streamed reply: BENCH_CHUNKS small chunks published back to back, received side by side
 *    through the gateway and directly from the subgraph (graphql-ws with a signed internal
 *    identity); the gateway's added latency per chunk, absolute and as a ratio.
 *
 * Latency is receive time here minus the publish time stamped into the event by the
 * publishing process at `pubsub.publish` (bench/visits-subgraph.ts), so it is delivery only,
 * not a mutation's round trip. Both clocks are this machine's wall clock. The client process
 * shares the machine's cores with the servers; its own event-loop delay is in every figure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { generatePlatformKeys } from '../subgraphs/kit/keys.js';
import { signPlatformToken } from '../subgraphs/kit/tokens.js';
import { createScratchPostgresDatabase } from '../subgraphs/kit/database.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity } from '../subgraphs/kit/identity.js';
import { ORGS, USERS } from '../prisma/seed-data.js';
import { identitySubgraph } from '../subgraphs/identity/index.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { openRuntime, seedSubgraphs } from '../subgraphs/kit/runtime.js';
import type { PlatformKeys } from '../subgraphs/kit/keys.js';
import { wallClock, type BenchStamp } from './stamp.js';

const intEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const SUBSCRIBERS = Math.floor(intEnv('BENCH_SUBSCRIBERS', 1000));
const RATE = intEnv('BENCH_RATE', 5);
const SECONDS = intEnv('BENCH_SECONDS', 10);
/**
 * The federated population is smaller: each event costs one entity fetch per subscription
 * (the gateway does not batch them across subscribers), and at 1,000 subscribers that alone
 * would outlast the run's two-minute budget on two cores.
 */
const FEDERATED_SUBSCRIBERS = Math.floor(intEnv('BENCH_FEDERATED_SUBSCRIBERS', 100));
const FEDERATED_RATE = intEnv('BENCH_FEDERATED_RATE', 1);
const FEDERATED_SECONDS = intEnv('BENCH_FEDERATED_SECONDS', 5);
const CHUNKS = Math.floor(intEnv('BENCH_CHUNKS', 200));
const STREAM_ROUNDS = Math.floor(intEnv('BENCH_STREAM_ROUNDS', 3));
/** Connections opened at once while subscribing: bounded, so setup does not turn into a SYN flood. */
const CONNECT_BATCH = 50;
/** A phase that makes no progress for this long gives up (and reports what it has). */
const STALL_MS = 15_000;

const PRIMARY_QUERY = 'subscription BenchPrimary { visitRecorded { id reason } }';
const FEDERATED_QUERY = 'subscription BenchFederated { visitRecorded { id reason patient { name } } }';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);


/** A server process started from the compiled build (as the npm scripts do); `url` (and `metricsUrl`, for the gateway) parsed from its ready line. */
interface ServerProcess {
  url: string;
  metricsUrl?: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

const benchNurseId = (i: number): string => `bench-nurse-${i}`;

/** `count` nurses of Clinic North in the identity database, before its process opens it (PGlite is single-process). */
async function seedBenchUsers(count: number, database: { databaseUrl?: string; pgliteDir?: string; keys: PlatformKeys }): Promise<void> {
  const runtime = await openRuntime({ ...database, log: createLogger('bench', 'warn') });
  try {
    await seedSubgraphs([identitySubgraph], runtime.deps);
    const ids = Array.from({ length: count }, (_, i) => benchNurseId(i));
    const { prisma } = runtime.deps;
    await prisma.user.createMany({ data: ids.map((id) => ({ id, email: `${id}@bench.invalid`, displayName: id })), skipDuplicates: true });
    await prisma.membership.createMany({ data: ids.map((userId) => ({ userId, organizationId: ORGS.clinicNorth.id, role: 'NURSE' as const })), skipDuplicates: true });
  } finally {
    await runtime.close();
  }
}

/** Servers run compiled, as production runs them (`npm run build` first): `bench/gateway.ts` → `dist/bench/gateway.js`. */
function startServer(script: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<ServerProcess> {
  const child = spawn(process.execPath, [`dist/${script.replace(/\.ts$/, '.js')}`, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    children.delete(child);
  };
  return new Promise((resolve, reject) => {
    // Only the start-up output is kept (for the error message); later output is dropped.
    let output = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      if (started) return;
      output += chunk.toString();
      const match = ready.exec(output);
      if (match?.[1]) {
        started = true;
        clearTimeout(timer);
        resolve({ url: match[1], metricsUrl: match[2], stop });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      if (!started) reject(new Error(`${script} exited with ${String(child.exitCode)}:\n${output}`));
    });
  });
}

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** One subscriber: what it received of the measured run, and whether a readiness probe arrived. */
interface Subscriber {
  client: Client;
  probed: boolean;
  seen: Set<number>;
  latencies: number[];
  duplicates: number;
  /** Events with errors, without a stamp, or without the Patient fields asked for. */
  bad: number;
  streamErrors: number;
}

function subscriber(client: Client, query: string, measuredRun: () => string, requirePatient: boolean): Subscriber {
  const s: Subscriber = { client, probed: false, seen: new Set(), latencies: [], duplicates: 0, bad: 0, streamErrors: 0 };
  client.subscribe<Record<string, unknown>, unknown>(
    { query },
    {
      next: (event: Result) => {
        const now = wallClock();
        const visit = event.data?.['visitRecorded'] as { reason?: string; patient?: { name?: string } | null } | null | undefined;
        if (event.errors?.length || typeof visit?.reason !== 'string') return void (s.bad += 1);
        const stamp = JSON.parse(visit.reason) as BenchStamp;
        if (stamp.run.startsWith('probe')) return void (s.probed = true);
        if (stamp.run !== measuredRun()) return;
        if (requirePatient && typeof visit.patient?.name !== 'string') s.bad += 1;
        if (s.seen.has(stamp.seq)) return void (s.duplicates += 1);
        s.seen.add(stamp.seq);
        s.latencies.push(now - stamp.t);
      },
      error: () => void (s.streamErrors += 1),
      complete: () => undefined,
    },
  );
  return s;
}

function connect(url: string, connectionParams: Record<string, unknown>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams, onNonLazyError: reject });
    const timer = setTimeout(() => reject(new Error(`no connection_ack from ${url} within 15 s`)), 15_000);
    client.on('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
  });
}

const percentile = (sorted: number[], q: number): number => (sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number));
const mean = (values: number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);
const ms = (value: number): string => `${value.toFixed(2)} ms`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

interface GatewayMemory {
  rss: number;
  heapUsed: number;
}

/** From the gateway's metrics listener (never on its public port). */
async function gatewayMemory(gateway: ServerProcess): Promise<GatewayMemory> {
  if (!gateway.metricsUrl) throw new Error('the gateway did not say where its metrics are');
  const text = await (await fetch(gateway.metricsUrl)).text();
  const read = (name: string): number => {
    const match = new RegExp(`^${name} (\\S+)`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`gateway /metrics has no ${name}`);
    return Number(match[1]);
  };
  return { rss: read('caregraph_gateway_process_resident_memory_bytes'), heapUsed: read('caregraph_gateway_nodejs_heap_size_used_bytes') };
}

interface FanoutResult {
  label: string;
  query: string;
  rate: number;
  seconds: number;
  subscribers: number;
  events: number;
  publishLagMs: number;
  setupMs: number;
  drainMs: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  bad: number;
  streamErrors: number;
  p50: number;
  p99: number;
  max: number;
  memoryBefore: GatewayMemory;
  memorySubscribed: GatewayMemory;
  memoryAfter: GatewayMemory;
}

async function main(): Promise<void> {
  const began = Date.now();
  const keys = await generatePlatformKeys();
  const dataDir = mkdtempSync(join(tmpdir(), 'caregraph-bench-'));
  const scratch = process.env['DATABASE_URL'] ? await createScratchPostgresDatabase(process.env['DATABASE_URL']) : undefined;
  const redisUrl = process.env['REDIS_URL'] || '';
  const env = {
    DATA_DIR: dataDir,
    INTERNAL_IDENTITY_SECRET: keys.internalIdentitySecret,
    AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey),
    DATABASE_URL: scratch?.url ?? '',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `caregraph-bench:${randomUUID()}:`,
    PORT: '0',
    HOST: '127.0.0.1',
  };
  try {
    // The gateway refuses platform tokens of users identity does not know: the distinct users must exist.
    await seedBenchUsers(SUBSCRIBERS, { databaseUrl: scratch?.url, pgliteDir: scratch ? undefined : join(dataDir, 'pglite-identity'), keys });
    log(`starting identity and visits subgraphs (${scratch ? 'PostgreSQL' : 'embedded PGlite'}, ${redisUrl ? 'Redis' : 'in-memory'} pubsub)`);
    const [identity, visits] = await Promise.all([
      startServer('subgraphs/start-subgraph.ts', ['identity', '--seed'], env, /identity subgraph ready at (http:\/\/[\d.:]+)\/graphql/),
      startServer('bench/visits-subgraph.ts', [], env, /visits subgraph ready at (http:\/\/[\d.:]+)\/graphql/),
    ]);
    const startGatewayProcess = (): Promise<ServerProcess> =>
      startServer('bench/gateway.ts', [], { ...env, SUBGRAPH_URLS: JSON.stringify({ identity: identity.url, visits: visits.url }) }, /gateway ready at (http:\/\/[\d.:]+)\/graphql, metrics at (http:\/\/[\d.:]+\/metrics)/);
    const wsOf = (base: string): string => `${base.replace(/^http/, 'ws')}/graphql`;

    const serviceIdentity: Identity = { kind: 'service', subject: 'bench', role: 'SERVICE', organizationId: null };
    const publish = async (run: string, count: number, intervalMs: number): Promise<{ published: number; durationMs: number; maxLagMs: number }> => {
      const response = await fetch(`${visits.url}/bench/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(serviceIdentity, keys.internalIdentitySecret) },
        body: JSON.stringify({ run, count, intervalMs }),
      });
      if (!response.ok) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { published: number; durationMs: number; maxLagMs: number };
    };

    /** Waits until `received()` reaches `expected`, or stops moving for STALL_MS. */
    const drain = async (received: () => number, expected: number): Promise<void> => {
      let last = -1;
      let lastChange = Date.now();
      while (received() < expected && Date.now() - lastChange < STALL_MS) {
        const now = received();
        if (now !== last) {
          last = now;
          lastChange = Date.now();
        }
        await sleep(50);
      }
    };

    /**
     * Publishes probes until every subscriber has received one: only then is each upstream
     * subscription live. A probe is sent again only after the previous one stopped spreading
     * (each costs a delivery, and an entity fetch, per subscriber).
     */
    const untilAllProbed = async (subs: Subscriber[], label: string): Promise<void> => {
      const deadline = Date.now() + 60_000;
      const probed = (): number => subs.filter((s) => s.probed).length;
      for (let k = 0; probed() < subs.length; k += 1) {
        if (Date.now() > deadline) throw new Error(`${label}: ${subs.length - probed()} subscribers never became live`);
        await publish(`probe-${label}-${k}`, 1, 0);
        let last = probed();
        let lastChange = Date.now();
        while (probed() < subs.length && Date.now() - lastChange < 2_000) {
          await sleep(50);
          if (probed() !== last) {
            last = probed();
            lastChange = Date.now();
          }
        }
      }
    };

    // ---------------------------------------------------------------- fan-out
    const fanout = async (label: string, tokens: string[], query: string, rate: number, seconds: number): Promise<FanoutResult> => {
      const gateway = await startGatewayProcess();
      try {
        const run = `${label}-${randomUUID()}`;
        const memoryBefore = await gatewayMemory(gateway);
        const subs: Subscriber[] = [];
        const setupStarted = Date.now();
        for (let i = 0; i < tokens.length; i += CONNECT_BATCH) {
          const batch = await Promise.all(tokens.slice(i, i + CONNECT_BATCH).map((token) => connect(wsOf(gateway.url), { authorization: `Bearer ${token}` })));
          for (const client of batch) subs.push(subscriber(client, query, () => run, query === FEDERATED_QUERY));
        }
        await untilAllProbed(subs, label);
        const setupMs = Date.now() - setupStarted;
        const memorySubscribed = await gatewayMemory(gateway);

        const count = Math.max(1, Math.round(rate * seconds));
        log(`${label}: ${subs.length} subscribers live after ${setupMs} ms; publishing ${count} events at ${rate}/s`);
        const published = await publish(run, count, 1000 / rate);
        const expected = published.published * subs.length;
        const received = (): number => subs.reduce((n, s) => n + s.seen.size, 0);
        const drainStarted = Date.now();
        await drain(received, expected);
        const drainMs = Date.now() - drainStarted;
        const memoryAfter = await gatewayMemory(gateway);
        await Promise.all(subs.map((s) => s.client.dispose()));

        const latencies = subs.flatMap((s) => s.latencies).sort((a, b) => a - b);
        return {
          label, query, rate, seconds, subscribers: subs.length, events: published.published, publishLagMs: published.maxLagMs, setupMs, drainMs,
          expected, received: received(), lost: expected - received(),
          duplicates: subs.reduce((n, s) => n + s.duplicates, 0),
          bad: subs.reduce((n, s) => n + s.bad, 0),
          streamErrors: subs.reduce((n, s) => n + s.streamErrors, 0),
          p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? Number.NaN,
          memoryBefore, memorySubscribed, memoryAfter,
        };
      } finally {
        await gateway.stop();
      }
    };

    const distinctTokens = await Promise.all(
      Array.from({ length: SUBSCRIBERS }, (_, i) => signPlatformToken(keys, { userId: benchNurseId(i), role: 'NURSE', organizationId: ORGS.clinicNorth.id })),
    );
    const nurseToken = await signPlatformToken(keys, { userId: USERS.nurse.id, role: 'NURSE', organizationId: USERS.nurse.organizationId });
    const results: FanoutResult[] = [];
    results.push(await fanout('distinct users', distinctTokens, PRIMARY_QUERY, RATE, SECONDS));
    results.push(await fanout('one user, identical subscriptions', Array.from({ length: SUBSCRIBERS }, () => nurseToken), PRIMARY_QUERY, RATE, SECONDS));
    results.push(await fanout('distinct users, Patient from identity', distinctTokens.slice(0, FEDERATED_SUBSCRIBERS), FEDERATED_QUERY, FEDERATED_RATE, FEDERATED_SECONDS));

    // ---------------------------------------------------------------- streamed reply
    log(`stream: ${STREAM_ROUNDS} rounds of ${CHUNKS} chunks, gateway and direct side by side`);
    const gateway = await startGatewayProcess();
    const nurseIdentity: Identity = { kind: 'user', subject: USERS.nurse.id, role: 'NURSE', organizationId: USERS.nurse.organizationId };
    let streamRun = '';
    const gatewayLatencies: number[] = [];
    const directLatencies: number[] = [];
    const lastChunk = { gateway: [] as number[], direct: [] as number[] };
    let streamLost = 0;
    try {
      const viaGateway = subscriber(await connect(wsOf(gateway.url), { authorization: `Bearer ${nurseToken}` }), PRIMARY_QUERY, () => streamRun, false);
      const direct = subscriber(
        await connect(wsOf(visits.url), { [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(nurseIdentity, keys.internalIdentitySecret) }),
        PRIMARY_QUERY, () => streamRun, false,
      );
      await untilAllProbed([viaGateway, direct], 'stream');
      // Round 0 warms both paths up (JIT, connections) and is not counted.
      for (let round = 0; round <= STREAM_ROUNDS; round += 1) {
        streamRun = `stream-${round}-${randomUUID()}`;
        for (const s of [viaGateway, direct]) {
          s.seen.clear();
          s.latencies.length = 0;
        }
        await publish(streamRun, CHUNKS, 0);
        await drain(() => viaGateway.seen.size + direct.seen.size, 2 * CHUNKS);
        if (round === 0) continue;
        streamLost += 2 * CHUNKS - viaGateway.seen.size - direct.seen.size;
        gatewayLatencies.push(...viaGateway.latencies);
        directLatencies.push(...direct.latencies);
        lastChunk.gateway.push(Math.max(...viaGateway.latencies));
        lastChunk.direct.push(Math.max(...direct.latencies));
      }
      await viaGateway.client.dispose();
      await direct.client.dispose();
    } finally {
      await gateway.stop();
    }
    const g = [...gatewayLatencies].sort((a, b) => a - b);
    const d = [...directLatencies].sort((a, b) => a - b);

    // ---------------------------------------------------------------- summary
    const lines: string[] = [];
    lines.push('');
    lines.push('CareGraph subscription bench');
    lines.push(`  setup: gateway, identity and visits subgraphs as separate processes on 127.0.0.1; ${scratch ? 'PostgreSQL' : 'embedded PGlite'}; ${redisUrl ? 'Redis' : 'in-memory'} pubsub; ${cpus().length} CPUs; node ${process.version}`);
    lines.push('  latency = receive time in the client process - publish time stamped at pubsub.publish in the visits process');
    for (const r of results) {
      lines.push('');
      lines.push(`  [fan-out: ${r.subscribers} subscribers, ${r.label}; one WebSocket each; \`${r.query.replace(/^subscription \w+ /, '')}\`; ${r.rate} events/s for ${r.seconds} s]`);
      lines.push(`    events published          ${r.events} (max schedule lag ${ms(r.publishLagMs)})`);
      lines.push(`    deliveries expected/got   ${r.expected} / ${r.received}`);
      lines.push(`    messages lost             ${r.lost}${r.duplicates ? ` (duplicates ${r.duplicates})` : ''}${r.bad ? ` (events with errors or missing fields: ${r.bad})` : ''}${r.streamErrors ? ` (streams ended with an error: ${r.streamErrors})` : ''}`);
      lines.push(`    delivery latency          p50 ${ms(r.p50)}   p99 ${ms(r.p99)}   max ${ms(r.max)}`);
      lines.push(`    gateway RSS               ${mib(r.memoryBefore.rss)} before subscribing -> ${mib(r.memorySubscribed.rss)} with ${r.subscribers} subscribed (+${mib(r.memorySubscribed.rss - r.memoryBefore.rss)}) -> ${mib(r.memoryAfter.rss)} after the events`);
      lines.push(`    gateway heap used         ${mib(r.memoryBefore.heapUsed)} before subscribing -> ${mib(r.memorySubscribed.heapUsed)} with ${r.subscribers} subscribed (+${mib(r.memorySubscribed.heapUsed - r.memoryBefore.heapUsed)}) -> ${mib(r.memoryAfter.heapUsed)} after the events`);
      lines.push(`    time to subscribe all     ${(r.setupMs / 1000).toFixed(1)} s; last delivery ${(r.drainMs / 1000).toFixed(2)} s after the last publish`);
    }
    const gMean = mean(g);
    const dMean = mean(d);
    lines.push('');
    lines.push(`  [streamed reply: ${STREAM_ROUNDS} rounds of ${CHUNKS} chunks published back to back; \`${PRIMARY_QUERY.replace(/^subscription \w+ /, '')}\`; one subscriber through the gateway and one directly on the subgraph, same events]`);
    lines.push(`    per chunk via gateway     mean ${ms(gMean)}   p50 ${ms(percentile(g, 0.5))}   p99 ${ms(percentile(g, 0.99))}   last chunk ${ms(mean(lastChunk.gateway))}`);
    lines.push(`    per chunk direct          mean ${ms(dMean)}   p50 ${ms(percentile(d, 0.5))}   p99 ${ms(percentile(d, 0.99))}   last chunk ${ms(mean(lastChunk.direct))}`);
    lines.push(`    added by the gateway      ${ms(gMean - dMean)} per chunk (mean), ${ms(percentile(g, 0.5) - percentile(d, 0.5))} (p50)`);
    lines.push(`    ratio gateway / direct    ${(gMean / dMean).toFixed(2)}x (mean), ${(percentile(g, 0.5) / percentile(d, 0.5)).toFixed(2)}x (p50)`);
    lines.push(`    chunks lost               ${streamLost}`);
    lines.push('');
    const totalLost = results.reduce((n, r) => n + r.lost, 0) + streamLost;
    lines.push(`  result: ${totalLost === 0 ? 'no messages lost' : `${totalLost} MESSAGES LOST`}; whole run ${((Date.now() - began) / 1000).toFixed(1)} s`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (totalLost !== 0) process.exitCode = 1;
  } finally {
    await Promise.all([...children].map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      child.kill('SIGTERM');
      return new Promise((resolve) => child.once('exit', resolve));
    }));
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
