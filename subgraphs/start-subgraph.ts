/**
 * `npm run start:subgraph -- <name> [--seed]`: one subgraph as its own process, on PostgreSQL and
 * Redis from the environment (DATABASE_URL, REDIS_URL), PORT defaulting to the subgraph's own.
 */
import { loadPlatformKeys } from '../gateway/src/auth/keys.js';
import { tokenIssuer } from '../gateway/src/auth/tokens.js';
import { findSubgraph, SUBGRAPHS } from './index.js';
import { intFromEnv, readSharedConfig } from './kit/config.js';
import { openDatabase } from './kit/database.js';
import { createLogger } from './kit/logger.js';
import { startOutboxWorkers } from './kit/outbox.js';
import { createPubSub } from './kit/pubsub.js';
import { BackgroundTasks } from './kit/background.js';
import { createRateLimiter } from './kit/rate-limit.js';
import { llmConfigFromEnv } from './kit/responder.js';
import { startSubgraph } from './kit/subgraph.js';
import { seed } from '../prisma/seed.js';

const name = process.argv[2];
const definition = name ? findSubgraph(name) : undefined;
if (!definition) {
  process.stderr.write(`usage: npm run start:subgraph -- <${SUBGRAPHS.map((s) => s.name).join('|')}>\n`);
  process.exit(2);
}
const shared = readSharedConfig();
const log = createLogger(definition.name);
// Without DATABASE_URL the subgraph keeps its own embedded database (PGlite is single-process).
const database = await openDatabase({ databaseUrl: shared.databaseUrl, dataDir: shared.databaseUrl ? undefined : `${shared.dataDir}/pglite-${definition.name}`, migrate: true });
if (process.argv.includes('--seed')) await seed(database.prisma);
const pubsub = createPubSub({ redisUrl: shared.redisUrl, log });
const keys = await loadPlatformKeys(process.env, shared.dataDir);
const workers = startOutboxWorkers({ prisma: database.prisma, pubsub, log });
const background = new BackgroundTasks(log);
const running = await startSubgraph(definition, {
  deps: { prisma: database.prisma, pubsub, log, issueToken: tokenIssuer(keys), llm: llmConfigFromEnv(), publicUrl: process.env['PUBLIC_URL'] || undefined, rateLimiter: createRateLimiter({ redisUrl: shared.redisUrl }), background },
  internalIdentitySecret: keys.internalIdentitySecret,
  port: intFromEnv(process.env, 'PORT', definition.defaultPort),
  host: process.env['HOST'] || '127.0.0.1',
});
process.stdout.write(`${definition.name} subgraph ready at ${running.url}/graphql\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void running.close().then(() => background.drain()).then(() => workers.stop()).then(() => Promise.all([pubsub.close(), database.close()])).then(() => process.exit(0)));
}
