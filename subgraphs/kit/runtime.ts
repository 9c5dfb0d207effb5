import { BackgroundTasks } from './background.js';
import { createCache } from './cache.js';
import { readSharedConfig, type DevicesSettings, type InsuranceSettings, type MessagingSettings, type StripeSettings, type TelemedicineSettings } from './config.js';
import type { SubgraphDeps } from './context.js';
import { identifierKeyFrom } from './identifiers.js';
import { openDatabase, type Database } from './database.js';
import type { PlatformKeys } from './keys.js';
import type { Logger } from './logger.js';
import { startOutboxWorkers, type DispatcherOptions, type OutboxWorkers } from './outbox.js';
import { createPubSub } from './pubsub.js';
import { createRateLimiter } from './rate-limit.js';
import type { LlmConfig } from './responder.js';
import type { SubgraphDefinition } from './subgraph.js';
import { documentSigner, tokenIssuer } from './tokens.js';
import { Sealer, sealingKeysFrom, type SealingKey } from './sealing.js';

/**
 * What every subgraph process shares, opened in one place: the database (migrated), the pubsub,
 * rate limits, background work, and the outbox relay and webhook dispatcher. `npm start` opens
 * one for all subgraphs; `npm run start:subgraph` one per process.
 */
export interface RuntimeOptions {
  /** PostgreSQL; without it, an embedded PGlite (in `pgliteDir`, or in memory). */
  databaseUrl?: string;
  pgliteDir?: string;
  redisUrl?: string;
  /** Prefix of Redis channels and keys, so deployments (and test runs) sharing a server stay apart. */
  redisPrefix?: string;
  keys: PlatformKeys;
  llm?: LlmConfig;
  stripe?: StripeSettings;
  insurance?: InsuranceSettings;
  devices?: DevicesSettings;
  telemedicine?: TelemedicineSettings;
  messaging?: MessagingSettings;
  /** Keys sealing secrets held for users (newest first); SEALING_KEYS, or derived locally, without it. */
  sealingKeys?: SealingKey[];
  publicUrl?: string;
  /** Retry timing of webhook deliveries (tests shorten it). */
  webhookDelivery?: Partial<DispatcherOptions>;
  /** Count SQL statements (database.statements), for tests that guard against N+1. */
  countStatements?: boolean;
  /** PostgreSQL connect and statement timeouts (ms). */
  databaseTimeouts?: { connectTimeoutMs?: number; queryTimeoutMs?: number };
  log: Logger;
}

export interface Runtime {
  database: Database;
  deps: SubgraphDeps;
  workers: OutboxWorkers;
  /** Stops background work and the workers, then closes pubsub, rate limits and the database. */
  close(): Promise<void>;
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { log } = options;
  const database = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.pgliteDir, migrate: true, countStatements: options.countStatements, ...options.databaseTimeouts });
  const pubsub = createPubSub({ redisUrl: options.redisUrl, prefix: options.redisPrefix, log });
  const rateLimiter = createRateLimiter({ redisUrl: options.redisUrl, prefix: options.redisPrefix, log });
  const cache = createCache({ redisUrl: options.redisUrl, prefix: options.redisPrefix, log });
  const background = new BackgroundTasks(log);
  const deps: SubgraphDeps = {
    prisma: database.prisma,
    pubsub,
    log,
    issueToken: tokenIssuer(options.keys),
    documents: documentSigner(options.keys),
    llm: options.llm,
    stripe: options.stripe,
    insurance: options.insurance,
    devices: options.devices,
    telemedicine: options.telemedicine,
    messaging: options.messaging,
    publicUrl: options.publicUrl,
    rateLimiter,
    cache,
    background,
    identifierKey: identifierKeyFrom(options.keys.internalIdentitySecret),
    sealer: new Sealer(options.sealingKeys ?? sealingKeysFrom(process.env, options.keys.internalIdentitySecret, readSharedConfig().production)),
  };
  const workers = startOutboxWorkers({ prisma: database.prisma, pubsub, log, dispatcher: options.webhookDelivery });
  let closing: Promise<void> | undefined;
  return {
    database,
    deps,
    workers,
    close() {
      closing ??= (async () => {
        await background.drain();
        await workers.stop();
        await pubsub.close();
        await rateLimiter.close();
        await cache.close();
        await database.close();
      })();
      return closing;
    },
  };
}

/**
 * Loads every subgraph's synthetic demo data, in registry order (identity first: the others
 * refer to its organizations and people). Idempotent.
 */
export async function seedSubgraphs(definitions: readonly SubgraphDefinition[], deps: SubgraphDeps): Promise<void> {
  for (const definition of definitions) await definition.seed?.(deps);
}
