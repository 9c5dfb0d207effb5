/**
 * `npm run analytics:rebuild`: drops the analytics read models and replays the retained domain
 * events into them (DATABASE_URL, or the embedded database under DATA_DIR: stop `npm start`
 * first, PGlite is single-process). Safe while analytics instances run on PostgreSQL: they
 * wait for the rebuild, then carry on after the replayed events.
 */
import { readSharedConfig } from '../subgraphs/kit/config.js';
import { openDatabase } from '../subgraphs/kit/database.js';
import { createLogger } from '../subgraphs/kit/logger.js';
import { rebuildReadModels } from '../subgraphs/analytics/projections.js';

const config = readSharedConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pglite`, migrate: true });
try {
  const started = performance.now();
  const result = await rebuildReadModels(database.prisma, createLogger('analytics-rebuild'));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`rebuilt the analytics read models from ${result.events} events in ${seconds} s (training ${result.byArea.training}, nurse ${result.byArea.nurse}, billing ${result.byArea.billing})\n`);
} finally {
  await database.close();
}
