import { readFileSync } from 'node:fs';
import { SUBGRAPHS } from '../../subgraphs/index.js';
import type { SubgraphDeps } from '../../subgraphs/kit/context.js';
import { openDatabase, type Database } from '../../subgraphs/kit/database.js';
import { createLogger, type Logger } from '../../subgraphs/kit/logger.js';
import { createPubSub } from '../../subgraphs/kit/pubsub.js';
import { startOutboxWorkers, type DispatcherOptions, type OutboxWorkers } from '../../subgraphs/kit/outbox.js';
import type { LlmConfig } from '../../subgraphs/kit/responder.js';
import type { StripeSettings } from '../../subgraphs/kit/config.js';
import { BackgroundTasks } from '../../subgraphs/kit/background.js';
import { createRateLimiter, type RateLimiter } from '../../subgraphs/kit/rate-limit.js';
import { startSubgraph, type RunningSubgraph, type SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { seed } from '../../prisma/seed.js';
import type { OidcIssuerConfig } from './auth/authenticate.js';
import type { PlatformKeys } from './auth/keys.js';
import { tokenIssuer } from './auth/tokens.js';
import { DEFAULT_LIMITS, startGateway, type GatewayLimits, type RunningGateway } from './server.js';

export interface PlatformOptions {
  subgraphs?: readonly SubgraphDefinition[];
  /** Defaults to schema/supergraph.graphql. */
  supergraphSdl?: string;
  databaseUrl?: string;
  /** Embedded PGlite data folder; in memory when absent. */
  dataDir?: string;
  redisUrl?: string;
  /** Prefix for Redis channels and keys, so test runs sharing a server stay apart. */
  redisPrefix?: string;
  keys: PlatformKeys;
  oidcIssuers?: OidcIssuerConfig[];
  limits?: Partial<GatewayLimits>;
  seed?: boolean;
  /** Count SQL statements (database.statements), for tests that guard against N+1. */
  countStatements?: boolean;
  /** An OpenAI-compatible model server for the conversational subgraphs; embedded responders without one. */
  llm?: LlmConfig;
  /** Stripe for billing (a local fake in tests); billing reads STRIPE_* from the environment without it. */
  stripe?: StripeSettings;
  /** Retry timing of webhook deliveries (tests shorten it). */
  webhookDelivery?: Partial<DispatcherOptions>;
  /** The platform's public base URL for deep links; the gateway's own URL by default. */
  publicUrl?: string;
  port?: number;
  host?: string;
  production?: boolean;
  log?: Logger;
}

export interface Platform {
  gateway: RunningGateway;
  subgraphs: RunningSubgraph[];
  database: Database;
  deps: SubgraphDeps;
  close(): Promise<void>;
}

/**
 * The whole supergraph in one process: one database (migrated, optionally seeded), each
 * subgraph on its own loopback port, and the gateway in front. `npm start` and the
 * end-to-end tests run this; production runs the same pieces as separate processes.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? createLogger('caregraph');
  const database = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, migrate: true, countStatements: options.countStatements });
  const pubsub = createPubSub({ redisUrl: options.redisUrl, prefix: options.redisPrefix, log });
  const started: RunningSubgraph[] = [];
  let workers: OutboxWorkers | undefined;
  let rateLimiter: RateLimiter | undefined;
  const background = new BackgroundTasks(log);
  try {
    if (options.seed) await seed(database.prisma);
    rateLimiter = createRateLimiter({ redisUrl: options.redisUrl, prefix: options.redisPrefix });
    const deps: SubgraphDeps = { prisma: database.prisma, pubsub, log, issueToken: tokenIssuer(options.keys), llm: options.llm, stripe: options.stripe, rateLimiter, background };
    workers = startOutboxWorkers({ prisma: database.prisma, pubsub, log, dispatcher: options.webhookDelivery });
    const definitions = options.subgraphs ?? SUBGRAPHS;
    for (const definition of definitions) {
      started.push(await startSubgraph(definition, { deps, internalIdentitySecret: options.keys.internalIdentitySecret, host: options.host }));
    }
    const gateway = await startGateway({
      supergraphSdl: options.supergraphSdl ?? readFileSync('schema/supergraph.graphql', 'utf8'),
      subgraphUrls: Object.fromEntries(started.map((s) => [s.name, s.url])),
      publicRoutes: definitions.flatMap((d) => d.routes.filter((r) => r.public).map((r) => ({ subgraph: d.name, method: r.method, path: r.path }))),
      keys: options.keys,
      oidcIssuers: options.oidcIssuers ?? [],
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      production: options.production ?? false,
      log,
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
      // The relay publishes every committed event here: cached persisted responses are invalidated by them.
      pubsub,
      port: options.port,
      host: options.host,
    });
    // Subgraphs read deps per request, so the link base can be filled in once the gateway listens.
    deps.publicUrl = options.publicUrl ?? gateway.url;
    return {
      gateway,
      subgraphs: started,
      database,
      deps,
      async close() {
        await gateway.close();
        await background.drain();
        await workers?.stop();
        for (const subgraph of started) await subgraph.close();
        await pubsub.close();
        await rateLimiter?.close();
        await database.close();
      },
    };
  } catch (error) {
    await workers?.stop();
    for (const subgraph of started) await subgraph.close().catch(() => undefined);
    await pubsub.close();
    await database.close();
    throw error;
  }
}
