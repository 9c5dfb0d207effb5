import { createScratchPostgresDatabase, openDatabase, type Database } from '../../subgraphs/kit/database.js';

/**
 * A migrated database for one test file: a scratch database on the PostgreSQL server when
 * DATABASE_URL is set, an in-memory PGlite otherwise. `close()` drops what it created.
 */
export async function openTestDatabase(options: { countStatements?: boolean } = {}): Promise<Database & { closeAll(): Promise<void> }> {
  const scratch = process.env['DATABASE_URL'] ? await createScratchPostgresDatabase(process.env['DATABASE_URL']) : undefined;
  const database = await openDatabase({ databaseUrl: scratch?.url, migrate: true, countStatements: options.countStatements });
  return Object.assign(database, {
    async closeAll() {
      await database.close();
      await scratch?.drop();
    },
  });
}
