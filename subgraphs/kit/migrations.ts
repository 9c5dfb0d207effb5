// Migration runner for Prisma-format migration folders, on PostgreSQL (pg) and on PGlite.
//
// `prisma migrate deploy` cannot run on these machines (its schema-engine binary cannot be
// downloaded), so migrations are applied here instead. The bookkeeping is Prisma's own:
// the same `_prisma_migrations` table, the same checksum (sha256 hex of migration.sql) and
// the same advisory lock key, so `prisma migrate deploy` can take over the same database.
//
// Differences from `prisma migrate deploy`, all deliberate:
// - each migration runs in an explicit transaction together with its bookkeeping row, so a
//   failed migration leaves no trace (Prisma records a failed row that blocks later deploys);
// - a migration whose applied checksum no longer matches the file is refused (deploy only
//   warns about this in `migrate dev`);
// - migrations recorded in the database but missing from the folder are reported through
//   `onWarning` and otherwise ignored (as deploy does).
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';

/** Rows as plain objects keyed by column name. */
export type SqlRow = Record<string, unknown>;

/** Something that runs SQL: a connection, or a transaction on one. */
export interface SqlRunner {
  /** Runs a script of one or more statements, without parameters. */
  exec(sql: string): Promise<void>;
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<Row extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** A database the migration runner can work on. */
export interface SqlExecutor extends SqlRunner {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in a transaction (BEGIN/COMMIT, ROLLBACK when it throws). */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` on one dedicated connection while holding the session-level advisory lock
   * `key` (waiting at most `timeoutMs` for it). On PGlite (one connection, one process)
   * this only serialises callers on the same instance.
   */
  withAdvisoryLock<T>(key: number, timeoutMs: number, fn: (conn: SqlExecutor) => Promise<T>): Promise<T>;
}

/** The advisory lock key Prisma Migrate uses on PostgreSQL ("72707369 ... to identify Migrate"). */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export const MIGRATIONS_TABLE = '_prisma_migrations';

/** Prisma's DDL for the migrations table (sql-schema-connector, postgres flavour), created if missing. */
export function migrationsTableDdl(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.${MIGRATIONS_TABLE} (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;
}

export interface MigrationFile {
  /** Folder name, e.g. `20250101120000_init`; this is what `_prisma_migrations.migration_name` holds. */
  readonly name: string;
  readonly path: string;
  readonly sql: string;
  /** sha256 of migration.sql, lower-case hex (Prisma's checksum). */
  readonly checksum: string;
}

export type AppliedMigrationRow = {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
};

export interface ApplyMigrationsOptions {
  /** Schema holding `_prisma_migrations`; Prisma uses the URL's `schema` parameter, default `public`. */
  migrationsSchema?: string;
  /** How long to wait for another process's migration lock (PostgreSQL). Prisma waits 10 s. */
  lockTimeoutMs?: number;
  /** Called for each migration just applied. */
  onApplied?: (name: string, ms: number) => void;
  /** Non-fatal findings, e.g. applied migrations missing from the folder. */
  onWarning?: (message: string) => void;
}

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** Prisma's checksum of a migration script: sha256, lower-case hex. */
export function migrationChecksum(sql: string | Uint8Array): string {
  return createHash('sha256').update(sql).digest('hex');
}

/**
 * Whether `sql` matches a recorded checksum, as Prisma decides it: line endings may have
 * been converted (git on Windows), and checksums written by very old Prisma versions
 * lack zero-padding.
 */
export function checksumMatches(sql: string, recorded: string): boolean {
  const variants = [sql, sql.replaceAll('\r\n', '\n'), sql.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant).digest();
    const hex =
      recorded.length !== 0 && recorded.length !== 64
        ? Array.from(digest, (byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return hex === recorded;
  });
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, in name order. */
export async function readMigrations(dir = 'prisma/migrations'): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return [];
    throw error;
  }
  await checkLockfile(dir);
  const names = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const path = join(dir, name, 'migration.sql');
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (isErrnoException(error) && error.code === 'ENOENT') {
        throw new MigrationError(`Migration folder ${join(dir, name)} has no migration.sql`);
      }
      throw error;
    }
    migrations.push({ name, path, sql: bytes.toString('utf8'), checksum: migrationChecksum(bytes) });
  }
  return migrations;
}

async function checkLockfile(dir: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(dir, 'migration_lock.toml'), 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return;
    throw error;
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
  if (provider !== undefined && provider !== 'postgresql') {
    throw new MigrationError(`${join(dir, 'migration_lock.toml')} is for provider "${provider}", not "postgresql"`);
  }
}

/** The rows of `_prisma_migrations` (empty when the table does not exist yet), oldest first. */
export async function listAppliedMigrations(
  db: SqlRunner,
  migrationsSchema = 'public',
): Promise<AppliedMigrationRow[]> {
  const exists = await db.query<{ exists: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2) AS "exists"`,
    [migrationsSchema, MIGRATIONS_TABLE],
  );
  if (exists[0]?.exists !== true) return [];
  return db.query<AppliedMigrationRow>(
    `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
       FROM ${quoteIdent(migrationsSchema)}.${MIGRATIONS_TABLE}
      ORDER BY started_at, migration_name`,
  );
}

/**
 * Applies the migrations in `dir` that are not applied yet, in name order, each in its own
 * transaction together with its `_prisma_migrations` row. Returns the names just applied
 * (empty when the database was up to date). Throws, before applying anything, when an
 * applied migration's file changed, or when Prisma recorded a failed migration.
 */
export async function applyMigrations(
  executor: SqlExecutor,
  dir = 'prisma/migrations',
  options: ApplyMigrationsOptions = {},
): Promise<string[]> {
  const schema = options.migrationsSchema ?? 'public';
  const table = `${quoteIdent(schema)}.${MIGRATIONS_TABLE}`;
  const migrations = await readMigrations(dir);

  return executor.withAdvisoryLock(PRISMA_MIGRATE_LOCK_KEY, options.lockTimeoutMs ?? 30_000, async (conn) => {
    let rows = await listAppliedMigrations(conn, schema);
    if (rows.length === 0) {
      if (schema !== 'public') await conn.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await conn.exec(migrationsTableDdl(schema));
      rows = await listAppliedMigrations(conn, schema);
    }
    const live = rows.filter((row) => row.rolled_back_at === null);

    const failed = live.filter((row) => row.finished_at === null);
    if (failed.length > 0) {
      const names = failed.map((row) => row.migration_name).join(', ');
      throw new MigrationError(
        `Migration(s) ${names} failed earlier and are recorded as unfinished in ${table}. ` +
          `Fix the database, then mark them rolled back (UPDATE ${table} SET rolled_back_at = now() WHERE ...) ` +
          `or run \`prisma migrate resolve\`.`,
      );
    }

    const byName = new Map(live.map((row) => [row.migration_name, row]));
    const edited = migrations.filter((m) => {
      const row = byName.get(m.name);
      return row !== undefined && !checksumMatches(m.sql, row.checksum);
    });
    if (edited.length > 0) {
      throw new MigrationError(
        `Refusing to migrate: applied migration(s) were modified after being applied: ` +
          `${edited.map((m) => m.name).join(', ')}. Restore the original migration.sql and put the change in a new migration.`,
      );
    }

    const known = new Set(migrations.map((m) => m.name));
    for (const row of live) {
      if (!known.has(row.migration_name)) {
        options.onWarning?.(`Migration ${row.migration_name} is applied to the database but missing from ${dir}`);
      }
    }

    const applied: string[] = [];
    for (const migration of migrations) {
      if (byName.has(migration.name)) continue;
      const started = Date.now();
      const didApply = managesOwnTransaction(migration.sql)
        ? await applyUnwrapped(conn, table, migration)
        : await applyInTransaction(conn, table, migration);
      if (didApply) {
        applied.push(migration.name);
        options.onApplied?.(migration.name, Date.now() - started);
      }
    }
    return applied;
  });
}

/**
 * Whether a script has its own top-level BEGIN/COMMIT (Prisma writes them, e.g., around the
 * rename-and-recreate steps that remove an enum value). Such a script cannot be nested in
 * our transaction (its COMMIT would end ours half-way), so it runs as Prisma runs it.
 * PL/pgSQL blocks write `BEGIN` without a semicolon, so they do not match.
 */
export function managesOwnTransaction(sql: string): boolean {
  return /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK)(\s+(WORK|TRANSACTION))?\s*;/im.test(sql);
}

/** The normal path: the script and its bookkeeping row commit or roll back together. */
async function applyInTransaction(conn: SqlExecutor, table: string, migration: MigrationFile): Promise<boolean> {
  return conn.transaction(async (tx) => {
    // Re-check inside the transaction: another caller on the same PGlite may have won.
    const again = await tx.query(`SELECT 1 FROM ${table} WHERE migration_name = $1 AND rolled_back_at IS NULL`, [
      migration.name,
    ]);
    if (again.length > 0) return false;
    const id = randomUUID();
    await tx.query(
      `INSERT INTO ${table} (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, migration.checksum, migration.name],
    );
    try {
      await tx.exec(migration.sql);
    } catch (error) {
      throw new MigrationError(`Migration ${migration.name} failed (rolled back): ${errorMessage(error)}`, {
        cause: error,
      });
    }
    await tx.query(
      `UPDATE ${table} SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE id = $1`,
      [id],
    );
    return true;
  });
}

/**
 * Prisma's path, for scripts with their own transaction control: record the start, run the
 * script, record the end. A failure is recorded (finished_at NULL, logs = the error), which
 * blocks later runs until someone resolves it, exactly as with `prisma migrate deploy`.
 */
async function applyUnwrapped(conn: SqlExecutor, table: string, migration: MigrationFile): Promise<boolean> {
  const id = randomUUID();
  await conn.query(
    `INSERT INTO ${table} (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, clock_timestamp(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    await conn.exec(migration.sql);
  } catch (error) {
    // A failed explicit transaction leaves the session aborted until ROLLBACK.
    await conn.exec('ROLLBACK').catch(() => undefined);
    await conn
      .query(`UPDATE ${table} SET logs = $2 WHERE id = $1`, [id, errorMessage(error)])
      .catch(() => undefined);
    throw new MigrationError(
      `Migration ${migration.name} failed and may be partly applied (it manages its own transactions); ` +
        `it is recorded as failed in ${table}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  await conn.query(
    `UPDATE ${table} SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1 WHERE id = $1`,
    [id],
  );
  return true;
}

// ---------------------------------------------------------------------------------------
// Executors

type PgQueryable = pg.Pool | pg.Client | pg.PoolClient;

/**
 * An executor over node-postgres. With a Pool, transactions and the advisory lock each
 * check out one client; with a Client, everything runs on that client (do not share it
 * with concurrent work while migrating).
 */
export function pgExecutor(db: PgQueryable): SqlExecutor {
  const onClient = async <T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> => {
    if (!(db instanceof pg.Pool)) return fn(db);
    const client = await db.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  };
  const runner = (client: pg.ClientBase | pg.Pool): SqlRunner => ({
    async exec(sql) {
      await client.query(sql);
    },
    async query<Row extends SqlRow = SqlRow>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      const result = await client.query<Row>(sql, [...params]);
      return result.rows;
    },
  });
  const transactionOn = async <T>(client: pg.ClientBase, fn: (tx: SqlRunner) => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    try {
      const result = await fn(runner(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };
  return {
    kind: 'postgres',
    ...runner(db),
    transaction: (fn) => onClient((client) => transactionOn(client, fn)),
    withAdvisoryLock: (key, timeoutMs, fn) =>
      onClient(async (client) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const rows = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [key]);
          if (rows.rows[0]?.locked === true) break;
          if (Date.now() >= deadline) {
            throw new MigrationError(
              `Timed out after ${timeoutMs} ms waiting for the migration lock (pg_advisory_lock(${key})); another process is migrating`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        try {
          const pinned: SqlExecutor = {
            kind: 'postgres',
            ...runner(client),
            transaction: (inner) => transactionOn(client, inner),
            // Re-entrant: session-level advisory locks stack on the same connection.
            withAdvisoryLock: async (_key, _timeout, inner) => inner(pinned),
          };
          return await fn(pinned);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        }
      }),
  };
}

/** An executor over an embedded PGlite instance (single connection, in-process). */
export function pgliteExecutor(db: PGlite): SqlExecutor {
  const runner = (target: PGlite | PGliteTransaction): SqlRunner => ({
    async exec(sql) {
      await target.exec(sql);
    },
    async query<Row extends SqlRow = SqlRow>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
      const result = await target.query<Row>(sql, [...params]);
      return result.rows;
    },
  });
  // PGlite serialises transactions itself; this queue serialises whole migration runs
  // on one instance, which the advisory lock does across processes on PostgreSQL.
  let queue: Promise<unknown> = Promise.resolve();
  const self: SqlExecutor = {
    kind: 'pglite',
    ...runner(db),
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    withAdvisoryLock: <T>(_key: number, _timeoutMs: number, fn: (conn: SqlExecutor) => Promise<T>): Promise<T> => {
      const run = queue.then(() => fn(pinned));
      queue = run.catch(() => undefined);
      return run;
    },
  };
  // Handed to the lock holder: re-entrant, so nested use does not wait on itself.
  const pinned: SqlExecutor = { ...self, withAdvisoryLock: async (_key, _timeout, inner) => inner(pinned) };
  return self;
}

// ---------------------------------------------------------------------------------------

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}
