import { intFromEnv, jsonFromEnv } from '../../subgraphs/kit/config.js';
import { PUBLIC_ROUTES_PATH } from '../../subgraphs/kit/routes.js';
import type { OidcIssuerConfig } from './auth/authenticate.js';
import { DEFAULT_LIMITS, DEFAULT_SUBGRAPH_TIMEOUT_MS, type GatewayLimits } from './server.js';

export interface GatewayConfig {
  port: number;
  host: string;
  supergraphPath: string;
  /** The subgraphs' public routes (webhooks, REST integrations), from `npm run compose`. */
  publicRoutesPath: string;
  /** `{"identity":"http://10.0.0.5:4101"}`; subgraphs not listed use the URL in the supergraph. */
  subgraphUrls: Record<string, string>;
  oidcIssuers: OidcIssuerConfig[];
  limits: GatewayLimits;
  /** `GATEWAY_SUBGRAPH_TIMEOUT_MS`: how long one subgraph call may take. */
  subgraphTimeoutMs: number;
  /**
   * `METRICS_PORT` / `METRICS_HOST`: the listener /metrics is served on, never the public port.
   * Loopback by default, on a free port (printed at start) unless METRICS_PORT names one for
   * the scraper: a fixed default could collide with another process on the host.
   */
  metrics: { port: number; host: string };
  /** `GATEWAY_DEDUPLICATE_INFLIGHT=on|off`: identical queries of one identity running at once share one execution; on by default. */
  deduplicateInflight: boolean | undefined;
  /** `GATEWAY_EXPLORER=on|off`: the explorer at /graphql for browsers; on outside production by default. */
  explorer: boolean | undefined;
}

export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    port: intFromEnv(env, 'PORT', 4000),
    host: env['HOST'] || '127.0.0.1',
    supergraphPath: env['SUPERGRAPH_PATH'] || 'schema/supergraph.graphql',
    publicRoutesPath: env['PUBLIC_ROUTES_PATH'] || PUBLIC_ROUTES_PATH,
    subgraphUrls: jsonFromEnv<Record<string, string>>(env, 'SUBGRAPH_URLS', {}),
    oidcIssuers: jsonFromEnv<OidcIssuerConfig[]>(env, 'OIDC_ISSUERS', []),
    subgraphTimeoutMs: positive(intFromEnv(env, 'GATEWAY_SUBGRAPH_TIMEOUT_MS', DEFAULT_SUBGRAPH_TIMEOUT_MS), 'GATEWAY_SUBGRAPH_TIMEOUT_MS'),
    metrics: { port: intFromEnv(env, 'METRICS_PORT', 0), host: env['METRICS_HOST'] || '127.0.0.1' },
    explorer: onOff(env, 'GATEWAY_EXPLORER'),
    deduplicateInflight: onOff(env, 'GATEWAY_DEDUPLICATE_INFLIGHT'),
    limits: {
      maxDepth: intFromEnv(env, 'GATEWAY_MAX_DEPTH', DEFAULT_LIMITS.maxDepth),
      maxAliases: intFromEnv(env, 'GATEWAY_MAX_ALIASES', DEFAULT_LIMITS.maxAliases),
      maxBodyBytes: intFromEnv(env, 'GATEWAY_MAX_BODY_BYTES', DEFAULT_LIMITS.maxBodyBytes),
      maxSubscriptionsPerConnection: intFromEnv(env, 'GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION', DEFAULT_LIMITS.maxSubscriptionsPerConnection),
      maxSubscriptionsPerIdentity: intFromEnv(env, 'GATEWAY_MAX_SUBSCRIPTIONS_PER_IDENTITY', DEFAULT_LIMITS.maxSubscriptionsPerIdentity),
      maxConnectionsPerAddress: intFromEnv(env, 'GATEWAY_MAX_CONNECTIONS_PER_ADDRESS', DEFAULT_LIMITS.maxConnectionsPerAddress),
      subscriptionBuffer: positive(intFromEnv(env, 'GATEWAY_SUBSCRIPTION_BUFFER', DEFAULT_LIMITS.subscriptionBuffer), 'GATEWAY_SUBSCRIPTION_BUFFER'),
    },
  };
}

function onOff(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return undefined;
  if (value === 'on' || value === 'true' || value === '1') return true;
  if (value === 'off' || value === 'false' || value === '0') return false;
  throw new Error(`${name} must be on or off, not ${env[name]}`);
}

/** A buffer of 0 would end every subscriber at its first event; a timeout of 0 every fetch. */
function positive(value: number, name: string): number {
  if (value < 1) throw new Error(`${name} must be at least 1`);
  return value;
}

/** The subgraph URLs recorded in a supergraph (`@join__graph(name:, url:)`), without the /graphql path. */
export function subgraphUrlsFromSupergraph(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)) {
    urls[match[1] as string] = (match[2] as string).replace(/\/graphql$/, '');
  }
  return urls;
}
