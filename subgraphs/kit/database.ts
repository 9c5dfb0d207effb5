// The runtime data layer: a PrismaClient on PostgreSQL (DATABASE_URL, through
// @prisma/adapter-pg) or on an embedded PGlite (in-memory, or persisted under dataDir).
//
// Models live in per-domain PostgreSQL schemas (@@schema); Prisma 7 qualifies every table
// with its schema ("identity"."Organization"), so no search_path setup is needed on either
// backend.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../../prisma/generated/client/client.js';
import { applyMigrations, pgExecutor, pgliteExecutor, quoteIdent } from './migrations.js';

export interface Database {
  readonly prisma: PrismaClient;
  readonly kind: 'pglite' | 'postgres';
  /** SQL statements sent so far, when opened with `countStatements` (tests that guard against N+1). */
  readonly statements: string[];
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; without it, an embedded PGlite is used. */
  databaseUrl?: string;
  /** PGlite data directory (created if missing); in-memory when absent. Ignored with databaseUrl. */
  dataDir?: string;
  /** Apply pending migrations from prisma/migrations before returning. */
  migrate?: boolean;
  /** Count every SQL statement Prisma sends (costs a little per query: for tests). */
  countStatements?: boolean;
  /** PostgreSQL: how long opening a connection may take (ms); a database that does not answer fails fast. */
  connectTimeoutMs?: number;
  /** PostgreSQL: how long one statement may take (ms), enforced by the client (a black-holed link) and the server. */
  queryTimeoutMs?: number;
}

/** Defaults: generous for real work, short enough that a dead database is an error, not a hang. */
export const DATABASE_TIMEOUTS = { connectTimeoutMs: 5_000, queryTimeoutMs: 15_000 } as const;

/** prisma/migrations of this repository, independent of the working directory. */
const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.migrate === true, options.countStatements === true, { ...DATABASE_TIMEOUTS, ...definedOnly({ connectTimeoutMs: options.connectTimeoutMs, queryTimeoutMs: options.queryTimeoutMs }) });
  return openPglite(options.dataDir, options.migrate === true, options.countStatements === true);
}

/** Migrations on a pool of their own, without the statement timeouts (a migration may take long). */
async function migratePostgres(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on('error', () => undefined);
  try {
    await applyMigrations(pgExecutor(pool), MIGRATIONS_DIR);
  } finally {
    await pool.end();
  }
}

function createClient(adapter: PrismaPg | PrismaPGlite, countStatements: boolean): { prisma: PrismaClient; statements: string[] } {
  const statements: string[] = [];
  if (!countStatements) return { prisma: new PrismaClient({ adapter }), statements };
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', (event) => {
    statements.push(event.query);
  });
  return { prisma: prisma as unknown as PrismaClient, statements };
}

/** A Prisma client over an open driver; the driver is closed with it, or at once when the client cannot be made. */
async function openOver(adapter: PrismaPg | PrismaPGlite, kind: Database['kind'], countStatements: boolean, closeDriver: () => Promise<void>): Promise<Database> {
  try {
    const { prisma, statements } = createClient(adapter, countStatements);
    return {
      prisma,
      kind,
      statements,
      close: once(async () => {
        await prisma.$disconnect();
        await closeDriver();
      }),
    };
  } catch (error) {
    await closeDriver().catch(() => undefined);
    throw error;
  }
}

const definedOnly = <T extends object>(values: T): Partial<T> => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;

async function openPostgres(databaseUrl: string, migrate: boolean, countStatements: boolean, timeouts: { connectTimeoutMs: number; queryTimeoutMs: number }): Promise<Database> {
  if (migrate) await migratePostgres(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    // The client gives up on a statement whose answer never comes (a black-holed link)...
    query_timeout: timeouts.queryTimeoutMs,
    // ...and the server cancels one that runs too long.
    statement_timeout: timeouts.queryTimeoutMs,
    keepAlive: true,
  });
  // An idle connection the server closes (a restart, an admin terminating backends) is
  // reported here; without a listener Node would crash the process. The pool drops that
  // client and opens a new one on the next query, so there is nothing else to do.
  pool.on('error', () => undefined);
  return openOver(new PrismaPg(pool), 'postgres', countStatements, () => pool.end());
}

async function openPglite(dataDir: string | undefined, migrate: boolean, countStatements: boolean): Promise<Database> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir);
  try {
    await pglite.waitReady;
    if (migrate) await applyMigrations(pgliteExecutor(pglite), MIGRATIONS_DIR);
  } catch (error) {
    await pglite.close().catch(() => undefined);
    throw error;
  }
  return openOver(new PrismaPGlite(pglite), 'pglite', countStatements, () => pglite.close());
}

/** Whether the database answers a trivial query within `timeoutMs` (health checks). */
export async function databaseAnswers(prisma: PrismaClient, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      prisma.$queryRaw`SELECT 1`.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/**
 * Creates a uniquely named database on the server of `baseUrl` (for test isolation) and
 * returns its URL; `drop()` terminates its connections and drops it.
 */
export async function createScratchPostgresDatabase(
  baseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `caregraph_scratch_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withAdminClient(baseUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: once(() =>
      withAdminClient(baseUrl, async (client) => {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      }),
    ),
  };
}

async function withAdminClient<T>(baseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
