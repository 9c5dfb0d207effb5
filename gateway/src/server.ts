import type { Server } from 'node:http';
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { closeServer, listen } from '../../subgraphs/kit/http.js';
import type { PlatformKeys } from '../../subgraphs/kit/keys.js';
import type { Logger } from '../../subgraphs/kit/logger.js';
import type { PubSub } from '../../subgraphs/kit/pubsub.js';
import type { PublicRoute } from '../../subgraphs/kit/routes.js';
import { startApollo } from './apollo.js';
import { Authenticator, type OidcIssuerConfig } from './auth/authenticate.js';
import { subgraphCredentials } from './auth/credentials.js';
import { GatewayMetrics } from './metrics.js';
import { biExportModule } from './persisted/bi.js';
import { openPersistedQueries, type PersistedQueryOptions } from './persisted/setup.js';
import { REST_ALIASES } from './rest/aliases.js';
import { restAliasModule } from './rest/router.js';
import { createExplorer } from './routes/explorer.js';
import { graphqlModule } from './routes/graphql.js';
import { healthModule } from './routes/health.js';
import { jwksModule } from './routes/jwks.js';
import { metricsModule } from './routes/metrics.js';
import { proxyModule } from './routes/proxy.js';
import { Callers } from './runtime/callers.js';
import { createGatewayServer } from './runtime/http.js';
import { InflightQueries } from './runtime/inflight.js';
import { scopedLogger } from './runtime/request.js';
import { RouteTable, type GatewayModule } from './runtime/router.js';
import { IdentitySigner } from './runtime/signer.js';
import { Subgraphs } from './runtime/subgraphs.js';
import { subscriptionsModule } from './subscriptions/module.js';

export type { PersistedQueryOptions } from './persisted/setup.js';

export interface GatewayLimits {
  maxDepth: number;
  maxAliases: number;
  maxBodyBytes: number;
  /** Open subscriptions on one WebSocket (TOO_MANY_SUBSCRIPTIONS). */
  maxSubscriptionsPerConnection: number;
  /** Open subscriptions of one identity across its connections, per gateway instance (TOO_MANY_SUBSCRIPTIONS). */
  maxSubscriptionsPerIdentity: number;
  /** Open WebSockets plus SSE streams from one client address, per gateway instance (TOO_MANY_CONNECTIONS). */
  maxConnectionsPerAddress: number;
  /** Results buffered for one subscriber before its stream ends with SLOW_CONSUMER. */
  subscriptionBuffer: number;
}

export interface GatewayOptions {
  supergraphSdl: string;
  /** Where each subgraph listens, by name; overrides the URLs recorded in the supergraph. */
  subgraphUrls: Record<string, string>;
  /** Subgraph HTTP routes served at the gateway's address too (webhooks, REST aliases). */
  publicRoutes: PublicRoute[];
  keys: PlatformKeys;
  oidcIssuers: OidcIssuerConfig[];
  /** The HTTP limits are required; the streaming ones default to DEFAULT_LIMITS. */
  limits: Pick<GatewayLimits, 'maxDepth' | 'maxAliases' | 'maxBodyBytes'> & Partial<GatewayLimits>;
  /** How long one subgraph call may take (fetches, per-event entity fetches, credential checks); DEFAULT_SUBGRAPH_TIMEOUT_MS. */
  subgraphTimeoutMs?: number;
  /** Where /metrics is served: never on the public port. Loopback and a free port (0) by default. */
  metrics?: { port?: number; host?: string };
  production: boolean;
  log: Logger;
  port?: number;
  host?: string;
  /** Redis for the gateway's shared caches (APQ, persisted responses); in memory, per instance, without it. */
  redisUrl?: string;
  /** Prefix of the gateway's Redis keys, so deployments (and test runs) sharing a server stay apart. */
  redisPrefix?: string;
  persisted?: PersistedQueryOptions;
  /**
   * Share the answer of a query already running, byte-identical and for the same identity, with
   * the callers that send it meanwhile (runtime/inflight.ts); on by default (`GATEWAY_DEDUPLICATE_INFLIGHT`).
   */
  deduplicateInflight?: boolean;
  /** Serve the explorer (GraphiQL) at /graphql to browsers; defaults to on outside production (`GATEWAY_EXPLORER`). */
  explorer?: boolean;
  /**
   * Where domain events arrive (the outbox relay publishes them), to invalidate cached persisted
   * responses. Without it cached responses only expire by their TTL; a gateway in its own
   * process hears the subgraphs' events only through a Redis pubsub.
   */
  pubsub?: PubSub;
}

export interface RunningGateway {
  url: string;
  /** The Prometheus endpoint, on the metrics listener (`http://127.0.0.1:PORT/metrics` by default). */
  metricsUrl: string;
  metrics: GatewayMetrics;
  /**
   * Serves a new supergraph: HTTP operations plan against it at once (ApolloGateway's update
   * hook), new subscriptions too, and open subscriptions end with SUBSCRIPTION_SCHEMA_RELOAD.
   * `subgraphUrls` adds or replaces subgraph addresses. Throws, changing nothing, when the
   * SDL is not a valid supergraph.
   */
  reloadSupergraph(supergraphSdl: string, subgraphUrls?: Record<string, string>): void;
  close(): Promise<void>;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxDepth: 12,
  maxAliases: 30,
  maxBodyBytes: 1_000_000,
  // A dashboard opens tens of subscriptions; a hundred on one socket is a bug or abuse.
  maxSubscriptionsPerConnection: 100,
  // Generous enough for a service identity fanning out (and the 1,000-subscriber bench), bounded against abuse.
  maxSubscriptionsPerIdentity: 2_000,
  // A clinic behind one NAT address may hold hundreds of tabs; the cap is against exhaustion.
  maxConnectionsPerAddress: 2_000,
  subscriptionBuffer: 256,
};

/** A subgraph that has not answered in 10 s is failing, not slow: its fields are answered as errors. */
export const DEFAULT_SUBGRAPH_TIMEOUT_MS = 10_000;

/**
 * The gateway: a small runtime (route table, request scope, one identity signer, subgraph calls
 * with a timeout) and the modules that register its routes — GraphQL over HTTP, subscriptions
 * (graphql-ws, graphql-sse), health and readiness, JWKS, REST aliases, BI exports, the
 * subgraphs' public routes — plus /metrics on a listener of its own.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  // Apollo's hooks, the federation executor and error masking log through this: within a request, with its id.
  const log = scopedLogger(options.log);
  // Older callers pass only the HTTP limits; the streaming ones then take their defaults.
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new GatewayMetrics();
  const subgraphs = new Subgraphs(options.subgraphUrls, options.subgraphTimeoutMs ?? DEFAULT_SUBGRAPH_TIMEOUT_MS);
  const signer = new IdentitySigner(options.keys.internalIdentitySecret);
  const authenticator = new Authenticator(options.keys, options.oidcIssuers, subgraphCredentials({ subgraphs, signer, log }));
  const callers = new Callers(authenticator, signer);
  const persisted = openPersistedQueries(options.persisted ?? {}, { redisUrl: options.redisUrl, redisPrefix: options.redisPrefix, metrics, log });
  const { apollo, serve } = await startApollo({
    supergraphSdl: options.supergraphSdl,
    production: options.production,
    limits,
    log,
    dataSource: (name) => subgraphs.dataSource(name, metrics),
    persistedQueries: persisted.apolloOptions.persistedQueries,
    plugins: [metrics.apolloPlugin(), ...persisted.plugins],
  });
  if (options.pubsub) await persisted.listen(options.pubsub);

  // The public API schema of the served supergraph, for laying out BI exports; rebuilt lazily after a reload.
  let servedSdl = options.supergraphSdl;
  let apiSchema: GraphQLSchema | undefined;
  const currentApiSchema = (): GraphQLSchema => (apiSchema ??= Supergraph.build(servedSdl).apiSchema().toGraphQLJSSchema());

  const subscriptions = subscriptionsModule({
    apollo, supergraphSdl: options.supergraphSdl, subgraphs, signer, authenticator, limits, metrics, log,
    production: options.production, trusted: { policy: persisted.safelist, operations: persisted.operations },
  });
  // In priority order: a REST alias wins over a subgraph's public route on the same path.
  // The explorer lists the schema's fields and types: on exactly when introspection is, unless configured off.
  const explorer = (options.explorer ?? !options.production) ? createExplorer({ operations: persisted.operations }) : undefined;
  const modules: GatewayModule[] = [
    graphqlModule({
      apollo, callers, persistedMaxAgeSeconds: persisted.maxAgeSeconds, explorer,
      inflight: (options.deduplicateInflight ?? true) ? new InflightQueries({ shared: () => metrics.inflightShared.inc(), waiting: (count) => metrics.inflightWaiting.set(count) }) : undefined,
    }),
    ...(explorer ? [explorer.module] : []),
    subscriptions,
    healthModule({ subgraphs }),
    jwksModule({ keys: options.keys }),
    restAliasModule({ apollo, aliases: REST_ALIASES, operations: persisted.operations, callers }),
    biExportModule({ apollo, operations: persisted.operations, apiSchema: currentApiSchema, callers, maxAgeSeconds: persisted.maxAgeSeconds }),
    proxyModule({ routes: options.publicRoutes, subgraphs, callers }),
  ];
  const server: Server = createGatewayServer(new RouteTable().add(...modules.flatMap((m) => m.routes)), {
    log,
    bodyLimitBytes: limits.maxBodyBytes,
    onResponse: (route, status) => metrics.httpResponses.inc({ route, status: String(status) }),
  });
  for (const module of modules) module.attach?.(server);
  const metricsServer = createGatewayServer(new RouteTable().add(...metricsModule({ metrics }).routes), { log, bodyLimitBytes: 0 });

  const url = await listen(server, options.port ?? 0, options.host);
  const metricsUrl = `${await listen(metricsServer, options.metrics?.port ?? 0, options.metrics?.host ?? '127.0.0.1')}/metrics`;
  log.info({ url, metricsUrl }, 'gateway listening');
  return {
    url,
    metricsUrl,
    metrics,
    reloadSupergraph(supergraphSdl, newUrls = {}) {
      // Planned first: an SDL that is not a valid supergraph throws here, before anything changes.
      const reload = subscriptions.prepareReload(supergraphSdl);
      subgraphs.update(newUrls);
      // Synchronous: the next HTTP request is planned against the new supergraph.
      serve(supergraphSdl);
      servedSdl = supergraphSdl;
      apiSchema = undefined;
      reload.apply();
      // Cached answers were computed by the old supergraph's subgraphs and rules.
      void persisted.responseCache.clear();
      log.info({ subgraphs: reload.subgraphNames }, 'supergraph reloaded');
    },
    async close() {
      for (const module of modules) await module.close?.();
      await closeServer(server);
      await closeServer(metricsServer);
      await apollo.stop();
      await persisted.close();
      await subgraphs.close();
    },
  };
}
