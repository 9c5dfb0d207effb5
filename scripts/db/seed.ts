/** `npm run db:seed`: migrates, then loads the synthetic demo data (idempotent) into DATABASE_URL or the embedded database. */
import { SUBGRAPHS } from '../../subgraphs/index.js';
import { readSharedConfig } from '../../subgraphs/kit/config.js';
import { loadPlatformKeys } from '../../subgraphs/kit/keys.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { openRuntime, seedSubgraphs } from '../../subgraphs/kit/runtime.js';

const config = readSharedConfig();
const runtime = await openRuntime({
  databaseUrl: config.databaseUrl,
  pgliteDir: config.databaseUrl ? undefined : `${config.dataDir}/pglite`,
  redisUrl: config.redisUrl,
  keys: await loadPlatformKeys(process.env, config.dataDir),
  log: createLogger('seed'),
});
try {
  await seedSubgraphs(SUBGRAPHS, runtime.deps);
  process.stdout.write(`seeded ${config.databaseUrl ? 'DATABASE_URL' : `${config.dataDir}/pglite`}\n`);
} finally {
  await runtime.close();
}
