// Migration runner and data layer, on an in-memory PGlite and, when DATABASE_URL is set, on a
// scratch database of that PostgreSQL server.
import { cp, mkdtemp, readFile, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  applyMigrations,
  checksumMatches,
  listAppliedMigrations,
  migrationChecksum,
  MigrationError,
  pgExecutor,
  pgliteExecutor,
  readMigrations,
  type SqlExecutor,
} from '../../subgraphs/kit/migrations.js';
import { createScratchPostgresDatabase, openDatabase } from '../../subgraphs/kit/database.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
const DATABASE_URL = process.env['DATABASE_URL'];

/** Prisma's `_prisma_migrations` columns, in order, as information_schema reports them. */
const PRISMA_MIGRATIONS_COLUMNS = [
  ['id', 'character varying', 'NO'],
  ['checksum', 'character varying', 'NO'],
  ['finished_at', 'timestamp with time zone', 'YES'],
  ['migration_name', 'character varying', 'NO'],
  ['logs', 'text', 'YES'],
  ['rolled_back_at', 'timestamp with time zone', 'YES'],
  ['started_at', 'timestamp with time zone', 'NO'],
  ['applied_steps_count', 'integer', 'NO'],
];

interface Backend {
  readonly name: string;
  open(): Promise<{ executor: SqlExecutor; databaseUrl?: string; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'PGlite (in-memory)',
    async open() {
      const pglite = new PGlite();
      await pglite.waitReady;
      return { executor: pgliteExecutor(pglite), close: () => pglite.close() };
    },
  },
];
if (DATABASE_URL) {
  backends.push({
    name: 'PostgreSQL (scratch database)',
    async open() {
      const scratch = await createScratchPostgresDatabase(DATABASE_URL);
      const pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
      return {
        executor: pgExecutor(pool),
        databaseUrl: scratch.url,
        async close() {
          await pool.end();
          await scratch.drop();
        },
      };
    },
  });
}

test('checksums are Prisma-compatible (sha256 hex, line-ending agnostic)', () => {
  expect(migrationChecksum('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  const sql = 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n';
  expect(checksumMatches(sql.replaceAll('\n', '\r\n'), migrationChecksum(sql))).toBe(true);
  expect(checksumMatches(`${sql}-- edited\n`, migrationChecksum(sql))).toBe(false);
});

describe.each(backends)('migrations on $name', (backend) => {
  let db: Awaited<ReturnType<Backend['open']>>;
  let tamperedDir: string | undefined;

  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(async () => {
    await db?.close();
    if (tamperedDir) await rm(tamperedDir, { recursive: true, force: true });
  });

  test('applies every migration once and records it like Prisma', async () => {
    const files = await readMigrations(MIGRATIONS_DIR);
    expect(files.length).toBeGreaterThan(0);

    const applied = await applyMigrations(db.executor, MIGRATIONS_DIR);
    expect(applied).toEqual(files.map((file) => file.name));

    const rows = await listAppliedMigrations(db.executor);
    expect(rows.map((row) => row.migration_name)).toEqual(files.map((file) => file.name));
    for (const [index, row] of rows.entries()) {
      const file = files[index];
      const bytes = await readFile(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(migrationChecksum(bytes));
      expect(row.checksum).toBe(file?.checksum);
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.started_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }

    const columns = await db.executor.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual(PRISMA_MIGRATIONS_COLUMNS);

    const tables = await db.executor.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'identity' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toContain('Organization');
  });

  test('applying again is a no-op', async () => {
    const before = await listAppliedMigrations(db.executor);
    expect(await applyMigrations(db.executor, MIGRATIONS_DIR)).toEqual([]);
    expect(await listAppliedMigrations(db.executor)).toEqual(before);
  });

  test('refuses when an applied migration was modified', async () => {
    tamperedDir = await mkdtemp(join(tmpdir(), 'caregraph-migrations-'));
    await cp(MIGRATIONS_DIR, tamperedDir, { recursive: true });
    const [first] = await readMigrations(tamperedDir);
    if (!first) throw new Error('no migrations');
    await appendFile(first.path, '\n-- an edit after the fact\n');

    const before = await listAppliedMigrations(db.executor);
    await expect(applyMigrations(db.executor, tamperedDir)).rejects.toThrow(MigrationError);
    await expect(applyMigrations(db.executor, tamperedDir)).rejects.toThrow(/modified after being applied/);
    expect(await listAppliedMigrations(db.executor)).toEqual(before);
  });

  test('openDatabase: Prisma create/read of an Organization in the identity schema', async () => {
    // PGlite: openDatabase starts its own in-memory instance (and migrates it);
    // PostgreSQL: it migrates the scratch database again, which must be a no-op.
    const database = await openDatabase({ databaseUrl: db.databaseUrl, migrate: true });
    try {
      expect(database.kind).toBe(db.databaseUrl ? 'postgres' : 'pglite');
      const created = await database.prisma.organization.create({ data: { name: 'Northwind Clinic', kind: 'CLINIC' } });
      const read = await database.prisma.organization.findUniqueOrThrow({ where: { id: created.id } });
      expect(read).toMatchObject({ name: 'Northwind Clinic', kind: 'CLINIC', parentId: null });
      expect(read.createdAt).toBeInstanceOf(Date);
    } finally {
      await database.close();
    }
  });
});
