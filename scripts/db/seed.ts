/** `npm run db:seed`: migrates, then loads the synthetic demo data (idempotent) into DATABASE_URL or the embedded database. */
import { readSharedConfig } from '../../subgraphs/kit/config.js';
import { openDatabase } from '../../subgraphs/kit/database.js';
import { seed } from '../../prisma/seed.js';

const config = readSharedConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pglite`, migrate: true });
try {
  await seed(database.prisma);
  process.stdout.write(`seeded ${config.databaseUrl ? 'DATABASE_URL' : `${config.dataDir}/pglite`}\n`);
} finally {
  await database.close();
}
