// `npm run db:migrate`: applies pending migrations to DATABASE_URL when set, otherwise to
// the embedded PGlite at DATA_DIR/pglite (DATA_DIR defaults to .caregraph), the one `npm start` uses.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { readSharedConfig } from '../../subgraphs/kit/config.js';
import { applyMigrations, pgExecutor, pgliteExecutor, type ApplyMigrationsOptions } from '../../subgraphs/kit/migrations.js';

const migrationsDir = 'prisma/migrations';
const options: ApplyMigrationsOptions = {
  onApplied: (name, ms) => console.log(`applied ${name} (${ms} ms)`),
  onWarning: (message) => console.warn(`warning: ${message}`),
};

async function main(): Promise<void> {
  const databaseUrl = process.env['DATABASE_URL'];
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const applied = await applyMigrations(pgExecutor(client), migrationsDir, options);
      report(applied, redact(databaseUrl));
    } finally {
      await client.end();
    }
    return;
  }
  const dataDir = `${readSharedConfig().dataDir}/pglite`;
  await mkdir(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  try {
    await pglite.waitReady;
    const applied = await applyMigrations(pgliteExecutor(pglite), migrationsDir, options);
    report(applied, `PGlite at ${dataDir}`);
  } finally {
    await pglite.close();
  }
}

function report(applied: readonly string[], target: string): void {
  console.log(applied.length === 0 ? `${target} is up to date` : `${target}: applied ${applied.length} migration(s)`);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
