/**
 * Bench-only entry: the gateway alone (as `npm run start:gateway`), in front of the identity
 * subgraph and the test visits subgraph, composed in memory (the committed supergraph has
 * the real registry, and no visits).
 */
import { identitySubgraph } from '../subgraphs/identity/index.js';
import { jsonFromEnv, readSharedConfig } from '../subgraphs/kit/config.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { loadPlatformKeys } from '../subgraphs/kit/keys.js';
import { DEFAULT_LIMITS, startGateway } from '../gateway/src/server.js';
import { composeSupergraph } from '../scripts/composition.js';
import { visitsSubgraph } from '../test/support/visits-subgraph.js';

const shared = readSharedConfig();
const log = createLogger('gateway');
// Only what the bench starts: identity for the entity fetches, visits for the events.
const subgraphs = [identitySubgraph, visitsSubgraph];
const gateway = await startGateway({
  supergraphSdl: composeSupergraph(subgraphs).supergraphSdl,
  subgraphUrls: jsonFromEnv<Record<string, string>>(process.env, 'SUBGRAPH_URLS', {}),
  publicRoutes: [],
  keys: await loadPlatformKeys(process.env, shared.dataDir),
  oidcIssuers: [],
  limits: DEFAULT_LIMITS,
  production: false,
  log,
  port: Number(process.env['PORT'] ?? 0),
  host: '127.0.0.1',
  metrics: { port: 0 },
});
process.stdout.write(`gateway ready at ${gateway.url}/graphql, metrics at ${gateway.metricsUrl}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void gateway.close().then(() => process.exit(0)));
