import type { SealingKey } from '../subgraphs/kit/sealing.js';
import { readFileSync } from 'node:fs';
import { SUBGRAPHS } from '../subgraphs/index.js';
import type { SubgraphDeps } from '../subgraphs/kit/context.js';
import type { Database } from '../subgraphs/kit/database.js';
import type { PlatformKeys } from '../subgraphs/kit/keys.js';
import { createLogger, type Logger } from '../subgraphs/kit/logger.js';
import type { DispatcherOptions } from '../subgraphs/kit/outbox.js';
import type { LlmConfig } from '../subgraphs/kit/responder.js';
import type { DevicesSettings, InsuranceSettings, StripeSettings, TelemedicineSettings, MessagingSettings } from '../subgraphs/kit/config.js';
import { openRuntime, seedSubgraphs } from '../subgraphs/kit/runtime.js';
import { publicRoutesOf } from '../subgraphs/kit/routes.js';
import { startSubgraph, type RunningSubgraph, type SubgraphDefinition } from '../subgraphs/kit/subgraph.js';
import type { OidcIssuerConfig } from '../gateway/src/auth/authenticate.js';
import { DEFAULT_LIMITS, startGateway, type GatewayLimits, type RunningGateway } from '../gateway/src/server.js';

export interface PlatformOptions {
  subgraphs?: readonly SubgraphDefinition[];
  /** Defaults to schema/supergraph.graphql. */
  supergraphSdl?: string;
  databaseUrl?: string;
  /** Embedded PGlite data folder; in memory when absent. */
  dataDir?: string;
  redisUrl?: string;
  /** PostgreSQL connect and statement timeouts (ms). */
  databaseTimeouts?: { connectTimeoutMs?: number; queryTimeoutMs?: number };
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
  /** Payer endpoints for insurance (local fakes in tests); insurance reads INSURANCE_PAYERS without it. */
  insurance?: InsuranceSettings;
  /** Lab listeners and wearables for devices (local fakes in tests); devices reads DEVICES_MLLP_* and WEARABLES_* without it. */
  devices?: DevicesSettings;
  /** Twilio for telemedicine (a local fake in tests); telemedicine reads TWILIO_* without it. */
  telemedicine?: TelemedicineSettings;
  /** SMS, WhatsApp and email to patients (local fakes in tests). */
  messaging?: MessagingSettings;
  /** Keys sealing secrets held for users (newest first); SEALING_KEYS without it. */
  sealingKeys?: SealingKey[];
  /** Retry timing of webhook deliveries (tests shorten it). */
  webhookDelivery?: Partial<DispatcherOptions>;
  /** The platform's public base URL for deep links; the gateway's own URL by default. */
  publicUrl?: string;
  port?: number;
  host?: string;
  production?: boolean;
  /** The explorer at /graphql (GATEWAY_EXPLORER); on outside production by default. */
  explorer?: boolean;
  /** Identical queries of one identity running at once share one execution (GATEWAY_DEDUPLICATE_INFLIGHT); on by default. */
  deduplicateInflight?: boolean;
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
 * The whole supergraph in one process: one runtime (database, pubsub, outbox workers), each
 * subgraph on its own loopback port, and the gateway in front. `npm start` and the end-to-end
 * tests run this; production runs the same pieces as separate processes.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? createLogger('caregraph');
  const definitions = options.subgraphs ?? SUBGRAPHS;
  const runtime = await openRuntime({ ...options, pgliteDir: options.dataDir, log });
  const { deps } = runtime;
  const started: RunningSubgraph[] = [];
  try {
    if (options.seed) await seedSubgraphs(definitions, deps);
    for (const definition of definitions) {
      started.push(await startSubgraph(definition, { deps, internalIdentitySecret: options.keys.internalIdentitySecret, host: options.host }));
    }
    const gateway = await startGateway({
      supergraphSdl: options.supergraphSdl ?? readFileSync('schema/supergraph.graphql', 'utf8'),
      subgraphUrls: Object.fromEntries(started.map((s) => [s.name, s.url])),
      publicRoutes: publicRoutesOf(definitions),
      keys: options.keys,
      oidcIssuers: options.oidcIssuers ?? [],
      limits: { ...DEFAULT_LIMITS, ...options.limits },
      production: options.production ?? false,
      explorer: options.explorer,
      deduplicateInflight: options.deduplicateInflight,
      log,
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
      // The relay publishes every committed event here: cached persisted responses are invalidated by them.
      pubsub: deps.pubsub,
      port: options.port,
      host: options.host,
    });
    // Subgraphs read deps per request, so the link base can be filled in once the gateway listens.
    deps.publicUrl = options.publicUrl ?? gateway.url;
    return {
      gateway,
      subgraphs: started,
      database: runtime.database,
      deps,
      async close() {
        await gateway.close();
        for (const subgraph of started) await subgraph.close();
        await runtime.close();
      },
    };
  } catch (error) {
    for (const subgraph of started) await subgraph.close().catch(() => undefined);
    await runtime.close();
    throw error;
  }
}
