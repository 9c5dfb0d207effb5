/**
 * `npm run start:subgraph -- <name> [--seed]`: one subgraph as its own process, on PostgreSQL and
 * Redis from the environment (DATABASE_URL, REDIS_URL), PORT defaulting to the subgraph's own.
 */
import { findSubgraph, SUBGRAPHS } from './index.js';
import { intFromEnv, readSharedConfig } from './kit/config.js';
import { loadPlatformKeys } from './kit/keys.js';
import { createLogger } from './kit/logger.js';
import { llmConfigFromEnv } from './kit/responder.js';
import { openRuntime, seedSubgraphs } from './kit/runtime.js';
import { startSubgraph } from './kit/subgraph.js';

const name = process.argv[2];
const definition = name ? findSubgraph(name) : undefined;
if (!definition) {
  process.stderr.write(`usage: npm run start:subgraph -- <${SUBGRAPHS.map((s) => s.name).join('|')}>\n`);
  process.exit(2);
}
const shared = readSharedConfig();
const log = createLogger(definition.name);
const keys = await loadPlatformKeys(process.env, shared.dataDir);
const runtime = await openRuntime({
  databaseUrl: shared.databaseUrl,
  // Without DATABASE_URL the subgraph keeps its own embedded database (PGlite is single-process).
  pgliteDir: shared.databaseUrl ? undefined : `${shared.dataDir}/pglite-${definition.name}`,
  redisUrl: shared.redisUrl,
  databaseTimeouts: shared.databaseTimeouts,
  keys,
  llm: llmConfigFromEnv(),
  publicUrl: process.env['PUBLIC_URL'] || undefined,
  log,
});
// All domains' demo data: on a shared database one process seeds for everyone.
if (process.argv.includes('--seed')) await seedSubgraphs(SUBGRAPHS, runtime.deps);
const running = await startSubgraph(definition, {
  deps: runtime.deps,
  internalIdentitySecret: keys.internalIdentitySecret,
  port: intFromEnv(process.env, 'PORT', definition.defaultPort),
  host: process.env['HOST'] || '127.0.0.1',
});
process.stdout.write(`${definition.name} subgraph ready at ${running.url}/graphql\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void running.close().then(() => runtime.close()).then(() => process.exit(0)));
}
