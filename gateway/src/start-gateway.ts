/** `npm run start:gateway`: the gateway alone, in front of subgraphs running as their own processes. */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { readSharedConfig } from '../../subgraphs/kit/config.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { createPubSub } from '../../subgraphs/kit/pubsub.js';
import { readPublicRoutes } from '../../subgraphs/kit/routes.js';
import { loadPlatformKeys } from '../../subgraphs/kit/keys.js';
import { readGatewayConfig, subgraphUrlsFromSupergraph } from './config.js';
import { startGateway } from './server.js';

const shared = readSharedConfig();
const config = readGatewayConfig();
const log = createLogger('gateway');
const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
// Domain events reach a separate gateway process only through Redis (the subgraphs' relays
// publish there). Without REDIS_URL this pubsub hears nothing, and cached persisted responses
// expire only by their TTL.
const pubsub = createPubSub({ redisUrl: shared.redisUrl, log });
const gateway = await startGateway({
  supergraphSdl,
  subgraphUrls: { ...subgraphUrlsFromSupergraph(supergraphSdl), ...config.subgraphUrls },
  // Declared by the subgraphs, written at compose time next to the supergraph.
  publicRoutes: readPublicRoutes(config.publicRoutesPath),
  keys: await loadPlatformKeys(process.env, shared.dataDir),
  oidcIssuers: config.oidcIssuers,
  limits: config.limits,
  subgraphTimeoutMs: config.subgraphTimeoutMs,
  metrics: config.metrics,
  explorer: config.explorer,
  deduplicateInflight: config.deduplicateInflight,
  production: shared.production,
  log,
  redisUrl: shared.redisUrl,
  pubsub,
  port: config.port,
  host: config.host,
});
process.stdout.write(`gateway ready at ${gateway.url}/graphql\ngateway metrics at ${gateway.metricsUrl}\n`);

// A new supergraph at SUPERGRAPH_PATH (a deploy writing the composed file) is served without a
// restart. Polling rather than fs.watch: it also sees a file replaced by rename, and on every
// filesystem. A file that is not a valid supergraph is logged and the current one kept.
let servedSdl = supergraphSdl;
watchFile(config.supergraphPath, { interval: 2_000 }, () => {
  let next: string;
  try {
    next = readFileSync(config.supergraphPath, 'utf8');
  } catch (error) {
    log.error({ err: error, path: config.supergraphPath }, 'supergraph file unreadable; keeping the current one');
    return;
  }
  if (next === servedSdl) return;
  try {
    gateway.reloadSupergraph(next, { ...subgraphUrlsFromSupergraph(next), ...config.subgraphUrls });
    servedSdl = next;
  } catch (error) {
    log.error({ err: error, path: config.supergraphPath }, 'new supergraph rejected; keeping the current one');
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    unwatchFile(config.supergraphPath);
    void gateway.close().then(() => pubsub.close()).then(() => process.exit(0));
  });
}
