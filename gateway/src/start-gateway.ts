/** `npm run start:gateway`: the gateway alone, in front of subgraphs running as their own processes. */
import { readFileSync } from 'node:fs';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { readSharedConfig } from '../../subgraphs/kit/config.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { loadPlatformKeys } from './auth/keys.js';
import { readGatewayConfig, subgraphUrlsFromSupergraph } from './config.js';
import { startGateway } from './server.js';

const shared = readSharedConfig();
const config = readGatewayConfig();
const log = createLogger('gateway');
const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
const gateway = await startGateway({
  supergraphSdl,
  subgraphUrls: { ...subgraphUrlsFromSupergraph(supergraphSdl), ...config.subgraphUrls },
  publicRoutes: SUBGRAPHS.flatMap((d) => d.routes.filter((r) => r.public).map((r) => ({ subgraph: d.name, method: r.method, path: r.path }))),
  keys: await loadPlatformKeys(process.env, shared.dataDir),
  oidcIssuers: config.oidcIssuers,
  limits: config.limits,
  production: shared.production,
  log,
  port: config.port,
  host: config.host,
});
process.stdout.write(`gateway ready at ${gateway.url}/graphql\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void gateway.close().then(() => process.exit(0)));
