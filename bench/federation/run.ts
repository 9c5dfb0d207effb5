/**
 * `npm run bench:federation`: the public graphql-gateways-benchmark workload (TestQuery over the
 * four subgraphs accounts, inventory, products and reviews; workload/) against, in interleaved
 * rounds on this machine and the same subgraphs:
 *
 * - stock `@apollo/gateway` + `@apollo/server` (stock-gateway.ts);
 * - Hive Gateway with default settings, and with inbound in-flight deduplication and `--jit`
 *   as the upstream benchmark configures it (installed apart, in competitors/);
 * - CareGraph's gateway as production runs it (compiled, `node dist/gateway/src/start-gateway.js`,
 *   NODE_ENV=production), with in-flight sharing off and on (its default);
 * - the monolith: one process executing the same query over the same data (the ceiling).
 *
 * Each contender is started fresh for each round, its answer checked against
 * expected-response.json (JSON-equal; then every answer under load must be byte-equal to that
 * checked one, or it counts as an error), warmed up, then loaded by autocannon with 50
 * connections. Reports the median over rounds of rps and p50/p99 latency, errors, peak RSS and
 * the ratios. ROUNDS (3), SECONDS (20), WARMUP (5), CONNECTIONS (50), ONLY (comma-separated names).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';

import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generatePlatformKeys } from '../../subgraphs/kit/keys.js';
import { until } from '../../test/support/wait.js';
import { EXPECTED_RESPONSE, REQUEST_BODY, supergraphAt } from './workload.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const SECONDS = Number(process.env['SECONDS'] ?? 20);
const WARMUP = Number(process.env['WARMUP'] ?? 5);
const CONNECTIONS = Number(process.env['CONNECTIONS'] ?? 50);
const ONLY = process.env['ONLY']?.split(',').map((name) => name.trim());
const COMPETITORS = resolve('bench/federation/competitors');
const DIST = resolve('dist/bench/federation');

interface Contender {
  name: string;
  label: string;
  port: number;
  path: string;
  start(port: number): ChildProcess;
}

interface RoundResult { rps: number; p50: number; p99: number; errors: number; rssMiB: number }

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const work = mkdtempSync(join(tmpdir(), 'caregraph-federation-bench-'));
const background = new Set<ChildProcess>();

function run(command: string, args: string[], env: Record<string, string> = {}, cwd = process.cwd()): ChildProcess {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4_000); });
  child.once('exit', (code, signal) => {
    if (background.has(child) && code !== 0 && signal === null) process.stderr.write(`${command} ${args.join(' ')} exited ${code}:\n${stderr}\n`);
  });
  background.add(child);
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  background.delete(child);
  const exited = new Promise((done) => child.once('exit', done));
  try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* already gone */ }
  await exited;
}

/** Resident memory of a process and its descendants (a gateway that forks workers), in MiB. */
function rssMiB(pid: number): number {
  let kib = 0;
  const visit = (id: number) => {
    try {
      kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, 'utf8'))?.[1] ?? 0);
      for (const task of readdirSync(`/proc/${id}/task`)) {
        for (const child of readFileSync(`/proc/${id}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child));
      }
    } catch { /* exited */ }
  };
  visit(pid);
  return kib / 1024;
}

/** POSTs the workload until the contender answers it correctly; returns the exact bytes it answers. */
async function answerOf(url: string): Promise<string> {
  const deadline = Date.now() + 90_000;
  let last = '';
  while (Date.now() < deadline) {
    // Only the request may fail while the contender starts; a wrong answer fails the bench at once.
    const answer = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST_BODY })
      .then(async (response) => ({ status: response.status, text: await response.text() }))
      .catch((error: unknown) => ({ status: 0, text: String(error) }));
    if (answer.status === 200) {
      if (JSON.stringify(JSON.parse(answer.text)) !== EXPECTED_RESPONSE) throw new Error(`${url} answered a response that differs from expected-response.json: ${answer.text.slice(0, 300)}`);
      return answer.text;
    }
    last = `${answer.status} ${answer.text.slice(0, 200)}`;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${url} did not answer in time: ${last}`);
}

async function main(): Promise<void> {
  if (!existsSync(join(COMPETITORS, 'node_modules/.bin/hive-gateway'))) {
    process.stdout.write('installing the competitors (Hive Gateway, autocannon) into bench/federation/competitors…\n');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: COMPETITORS, stdio: 'inherit' });
  }
  const autocannon = ((await import(pathToFileURL(join(COMPETITORS, 'node_modules/autocannon/autocannon.js')).href)) as { default: Autocannon }).default;

  const subgraphPort = 4200;
  const subgraphs = run(process.execPath, [join(DIST, 'subgraphs.js')], { PORT: String(subgraphPort) });
  const subgraphsBase = `http://127.0.0.1:${subgraphPort}`;
  const supergraphPath = join(work, 'supergraph.graphql');
  writeFileSync(supergraphPath, supergraphAt(subgraphsBase));
  writeFileSync(join(work, 'routes.json'), '[]');
  const hiveDedupDir = mkdtempSync(join(work, 'hive-dedup-'));
  writeFileSync(join(hiveDedupDir, 'gateway.config.mjs'), 'export const gatewayConfig = { inboundInflightRequestDeduplication: true };\n');
  const hiveDefaultDir = mkdtempSync(join(work, 'hive-default-'));
  const keys = await generatePlatformKeys();
  const hive = join(COMPETITORS, 'node_modules/.bin/hive-gateway');
  const careGraph = (inflight: 'on' | 'off') => (port: number) => run(process.execPath, [resolve('dist/gateway/src/start-gateway.js')], {
    NODE_ENV: 'production', PORT: String(port), SUPERGRAPH_PATH: supergraphPath, PUBLIC_ROUTES_PATH: join(work, 'routes.json'),
    DATA_DIR: join(work, 'caregraph'), AUTH_SIGNING_KEY: JSON.stringify(keys.signingKey), INTERNAL_IDENTITY_SECRET: keys.internalIdentitySecret,
    GATEWAY_DEDUPLICATE_INFLIGHT: inflight, LOG_LEVEL: 'warn',
  });

  const all: Contender[] = [
    { name: 'stock', label: 'stock @apollo/gateway + @apollo/server', port: 4001, path: '/', start: (port) => run(process.execPath, [join(DIST, 'stock-gateway.js')], { NODE_ENV: 'production', PORT: String(port), SUBGRAPHS_BASE: subgraphsBase }) },
    { name: 'hive', label: 'Hive Gateway, default settings', port: 4002, path: '/graphql', start: (port) => run(hive, ['supergraph', supergraphPath, '--port', String(port)], { NODE_ENV: 'production' }, hiveDefaultDir) },
    { name: 'caregraph', label: 'CareGraph gateway, in-flight sharing off', port: 4003, path: '/graphql', start: careGraph('off') },
    { name: 'caregraph-shared', label: 'CareGraph gateway as production runs it (in-flight sharing on)', port: 4004, path: '/graphql', start: careGraph('on') },
    { name: 'hive-dedup', label: 'Hive Gateway, inbound in-flight deduplication + --jit (upstream config)', port: 4005, path: '/graphql', start: (port) => run(hive, ['supergraph', supergraphPath, '--port', String(port), '--jit'], { NODE_ENV: 'production' }, hiveDedupDir) },
    { name: 'monolith', label: 'monolith: one process, no federation (the ceiling)', port: 4300, path: '/graphql', start: (port) => run(process.execPath, [join(DIST, 'monolith.js')], { PORT: String(port) }) },
  ];
  const contenders = all.filter((c) => !ONLY || ONLY.includes(c.name));

  await until(() => fetch(`${subgraphsBase}/health`).then((r) => r.ok, () => false), (ok) => ok, 'the subgraphs to start', 30_000);
  const results = new Map<string, RoundResult[]>(contenders.map((c) => [c.name, []]));
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const contender of contenders) {
      const child = contender.start(contender.port);
      const url = `http://127.0.0.1:${contender.port}${contender.path}`;
      try {
        const expected = await answerOf(url);
        const load = (duration: number) => autocannon({
          url, connections: CONNECTIONS, duration, method: 'POST', headers: { 'content-type': 'application/json' }, body: REQUEST_BODY, expectBody: expected,
        });
        await load(WARMUP);
        let peak = 0;
        const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(child.pid ?? 0)); }, 200);
        const result = await load(SECONDS);
        clearInterval(sampler);
        const errors = result.errors + result.timeouts + result.non2xx + result.mismatches;
        results.get(contender.name)?.push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors, rssMiB: peak });
        process.stdout.write(`round ${round} ${contender.name.padEnd(17)} ${result.requests.average.toFixed(1).padStart(8)} rps  p50 ${String(result.latency.p50).padStart(5)} ms  p99 ${String(result.latency.p99).padStart(5)} ms  errors ${errors}  RSS ${peak.toFixed(0)} MiB\n`);
      } finally {
        await stop(child);
      }
    }
  }
  await stop(subgraphs);
  report(contenders, results);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

function report(contenders: Contender[], results: Map<string, RoundResult[]>): void {
  const summary = new Map(contenders.map((c) => {
    const rounds = results.get(c.name) ?? [];
    return [c.name, {
      rps: median(rounds.map((r) => r.rps)), p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0), rss: Math.max(...rounds.map((r) => r.rssMiB)),
    }];
  }));
  const ratio = (name: string, base: string) => {
    const of = summary.get(name)?.rps;
    const to = summary.get(base)?.rps;
    return of && to ? `${(of / to).toFixed(2)}×` : '–';
  };
  process.stdout.write(`\nTestQuery, ${CONNECTIONS} connections, median of ${ROUNDS} interleaved rounds of ${SECONDS} s (after ${WARMUP} s warm-up)\n\n`);
  process.stdout.write('| gateway | rps | p50 ms | p99 ms | errors | peak RSS MiB | vs stock | vs Hive default | vs monolith |\n|---|---|---|---|---|---|---|---|---|\n');
  for (const contender of contenders) {
    const s = summary.get(contender.name);
    if (!s) continue;
    process.stdout.write(`| ${contender.label} | ${s.rps.toFixed(1)} | ${s.p50} | ${s.p99} | ${s.errors} | ${s.rss.toFixed(0)} | ${ratio(contender.name, 'stock')} | ${ratio(contender.name, 'hive')} | ${ratio(contender.name, 'monolith')} |\n`);
  }
  process.stdout.write(`\nCareGraph (sharing on) vs Hive with deduplication: ${ratio('caregraph-shared', 'hive-dedup')}\n`);
}

const cleanup = () => { for (const child of background) try { process.kill(-(child.pid ?? 0), 'SIGKILL'); } catch { /* gone */ } };
process.once('SIGINT', () => { cleanup(); process.exit(130); });
try {
  await main();
} finally {
  cleanup();
}

