// `npm run db:check`: fails (exit 1), printing the pending SQL, when prisma/schema/*.prisma
// and prisma/migrations disagree, i.e. when `npm run db:diff -- <name>` would write a migration.
import { computePendingDiff, DEFAULT_MIGRATIONS_DIR, DEFAULT_SCHEMA_DIR } from './diff.js';

try {
  const diff = await computePendingDiff();
  if (diff.sql === null) {
    console.log(`migrations match the schema (${diff.migrations.length} migration(s) in ${DEFAULT_MIGRATIONS_DIR})`);
  } else {
    console.error(
      `${DEFAULT_SCHEMA_DIR} and ${DEFAULT_MIGRATIONS_DIR} disagree; create a migration with ` +
        '`npm run db:diff -- <name>`. Pending SQL:\n',
    );
    console.error(diff.sql);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error);
  process.exitCode = 1;
}
