/**
 * `npm start`: gateway and every subgraph in one process on embedded defaults (PGlite under
 * DATA_DIR, in-memory pubsub), migrated and seeded. DATABASE_URL / REDIS_URL switch to servers.
 */
import { readSharedConfig } from '../subgraphs/kit/config.js';
import { loadPlatformKeys } from '../subgraphs/kit/keys.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { llmConfigFromEnv } from '../subgraphs/kit/responder.js';
import { readGatewayConfig } from '../gateway/src/config.js';
import { startPlatform } from './platform.js';

const started = Date.now();
const shared = readSharedConfig();
const gatewayConfig = readGatewayConfig();
const log = createLogger('caregraph');
const platform = await startPlatform({
  databaseUrl: shared.databaseUrl,
  dataDir: shared.databaseUrl ? undefined : `${shared.dataDir}/pglite`,
  redisUrl: shared.redisUrl,
  databaseTimeouts: shared.databaseTimeouts,
  keys: await loadPlatformKeys(process.env, shared.dataDir),
  oidcIssuers: gatewayConfig.oidcIssuers,
  limits: gatewayConfig.limits,
  seed: true,
  llm: llmConfigFromEnv(),
  publicUrl: process.env['PUBLIC_URL'] || undefined,
  port: gatewayConfig.port,
  host: gatewayConfig.host,
  production: shared.production,
  explorer: gatewayConfig.explorer,
  deduplicateInflight: gatewayConfig.deduplicateInflight,
  log,
});
log.info({ url: `${platform.gateway.url}/graphql`, seconds: (Date.now() - started) / 1000 }, 'CareGraph ready');
process.stdout.write(`CareGraph ready at ${platform.gateway.url}/graphql (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void platform.close().then(() => process.exit(0));
  });
}
