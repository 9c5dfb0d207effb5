import type { SealingKey } from '../../subgraphs/kit/sealing.js';
import { randomUUID } from 'node:crypto';
import { GraphQLClient } from 'graphql-request';
import { generatePlatformKeys, type PlatformKeys } from '../../subgraphs/kit/keys.js';
import { signPlatformToken } from '../../subgraphs/kit/tokens.js';
import type { OidcIssuerConfig } from '../../gateway/src/auth/authenticate.js';
import { startPlatform, type Platform } from '../../scripts/platform.js';
import { readFileSync } from 'node:fs';
import { DEFAULT_LIMITS, startGateway, type GatewayLimits, type PersistedQueryOptions, type RunningGateway } from '../../gateway/src/server.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { createScratchPostgresDatabase } from '../../subgraphs/kit/database.js';
import type { LlmConfig } from '../../subgraphs/kit/responder.js';
import type { DevicesSettings, InsuranceSettings, StripeSettings, TelemedicineSettings, MessagingSettings } from '../../subgraphs/kit/config.js';
import type { SubgraphDefinition } from '../../subgraphs/kit/subgraph.js';
import { USERS, type SeedUser } from '../../prisma/seed-data.js';

export interface TestPlatform {
  platform: Platform;
  keys: PlatformKeys;
  /** http://127.0.0.1:PORT (no path) */
  baseUrl: string;
  graphqlUrl: string;
  /** A platform token for a seeded user (key of USERS) or any user description. */
  tokenFor(user: keyof typeof USERS | SeedUser): Promise<string>;
  /** A graphql-request client for a seeded user, or anonymous without one. */
  client(user?: keyof typeof USERS | SeedUser, headers?: Record<string, string>): Promise<GraphQLClient>;
  close(): Promise<void>;
}

export interface TestPlatformOptions {
  subgraphs?: readonly SubgraphDefinition[];
  supergraphSdl?: string;
  oidcIssuers?: OidcIssuerConfig[];
  limits?: Partial<GatewayLimits>;
  production?: boolean;
  /** The explorer at /graphql (on outside production by default). */
  explorer?: boolean;
  /** Point the conversational subgraphs at an OpenAI-compatible server (a local fake in tests). */
  llm?: LlmConfig;
  /** Point billing at a Stripe API (the local fake in tests). */
  stripe?: StripeSettings;
  /** Point insurance at payers (local fakes in tests). */
  insurance?: InsuranceSettings;
  /** An MLLP listener and wearables (the local Google fake) for devices. */
  devices?: DevicesSettings;
  /** Twilio for telemedicine (the local fake in tests). */
  telemedicine?: TelemedicineSettings;
  /** SMS, WhatsApp and email to patients (local fakes in tests). */
  messaging?: MessagingSettings;
  /** Sealing keys, newest first (rotation tests). */
  sealingKeys?: SealingKey[];
  countStatements?: boolean;
  /** Rewrites the scratch database's URL (a fault proxy in front of PostgreSQL). */
  databaseUrlFor?: (url: string) => string;
  /** Redis to use instead of REDIS_URL (a fault proxy in front of it). */
  redisUrl?: string;
  /** PostgreSQL connect and statement timeouts (fault tests shorten them). */
  databaseTimeouts?: { connectTimeoutMs?: number; queryTimeoutMs?: number };
}

/**
 * Starts the whole platform for one test file: the real PostgreSQL (a scratch database) and
 * Redis when DATABASE_URL / REDIS_URL are set, embedded PGlite and in-memory pubsub otherwise.
 */
export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const keys = await generatePlatformKeys();
  const scratch = process.env['DATABASE_URL'] ? await createScratchPostgresDatabase(process.env['DATABASE_URL']) : undefined;
  let platform: Platform;
  try {
    platform = await startPlatform({
      ...options,
      databaseUrl: scratch ? (options.databaseUrlFor?.(scratch.url) ?? scratch.url) : undefined,
      redisUrl: options.redisUrl ?? (process.env['REDIS_URL'] || undefined),
      redisPrefix: `caregraph-test:${randomUUID()}:`,
      keys,
      seed: true,
      // Retries in milliseconds, not minutes: delivery tests wait for them.
      webhookDelivery: { baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 6, pollIntervalMs: 50 },
    });
  } catch (error) {
    await scratch?.drop();
    throw error;
  }
  const baseUrl = platform.gateway.url;
  const tokenFor = async (user: keyof typeof USERS | SeedUser): Promise<string> => {
    const u = typeof user === 'string' ? USERS[user] : user;
    return signPlatformToken(keys, { userId: u.id, role: u.role, organizationId: u.organizationId, patientId: u.patientId ?? null });
  };
  return {
    platform,
    keys,
    baseUrl,
    graphqlUrl: `${baseUrl}/graphql`,
    tokenFor,
    async client(user, headers = {}) {
      const auth: Record<string, string> = user ? { authorization: `Bearer ${await tokenFor(user)}` } : {};
      return new GraphQLClient(`${baseUrl}/graphql`, { headers: { ...auth, ...headers } });
    },
    async close() {
      await platform.close();
      await scratch?.drop();
    },
  };
}

/** POSTs a GraphQL request with plain fetch, for asserting on HTTP status and raw errors. */
export async function postGraphQL(
  url: string,
  body: { query?: string; variables?: Record<string, unknown>; operationName?: string; extensions?: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<{ status: number; json: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }> } }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as never };
}

export const errorCodes = (json: { errors?: Array<{ extensions?: Record<string, unknown> }> }): unknown[] =>
  (json.errors ?? []).map((e) => e.extensions?.['code']);

/** A second gateway in front of the test platform's subgraphs, with persisted-query options of its own. */
export function startGatewayInFront(t: TestPlatform, name: string, persisted: PersistedQueryOptions): Promise<RunningGateway> {
  return startGateway({
    supergraphSdl: readFileSync('schema/supergraph.graphql', 'utf8'),
    subgraphUrls: Object.fromEntries(t.platform.subgraphs.map((s) => [s.name, s.url])),
    publicRoutes: [],
    keys: t.keys,
    oidcIssuers: [],
    limits: DEFAULT_LIMITS,
    production: false,
    log: createLogger(name),
    persisted,
  });
}

/** The GraphQL error code a graphql-request call was refused with; throws when it was not refused. */
export async function refusalCode(request: Promise<unknown>): Promise<string | undefined> {
  try {
    await request;
  } catch (error) {
    return (error as { response?: { errors?: Array<{ extensions?: { code?: string } }> } }).response?.errors?.[0]?.extensions?.code;
  }
  throw new Error('the request was not refused');
}
