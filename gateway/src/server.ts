import { randomUUID } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import { ApolloGateway, type SupergraphSdlUpdateFunction } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { maskUnexpectedErrors } from '../../subgraphs/kit/errors-format.js';
import {
  closeServer, createHttpServer, errorResponse, listen, matchPath, send, serveGraphQL,
  type HttpMethod, type RouteRequest,
} from '../../subgraphs/kit/http.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity } from '../../subgraphs/kit/identity.js';
import type { Logger } from '../../subgraphs/kit/logger.js';
import type { PubSub } from '../../subgraphs/kit/pubsub.js';
import { AuthenticationError, Authenticator, type CredentialResolver, type OidcIssuerConfig } from './auth/authenticate.js';
import type { PlatformKeys } from './auth/keys.js';
import type { GatewayContext } from './context.js';
import { SignedIdentityDataSource } from './datasource.js';
import { aliasLimit, depthLimit } from './limits/rules.js';
import { GatewayMetrics } from './metrics.js';
import { createApqStore, type ApqStore } from './persisted/apq-store.js';
import { BI_ROUTE, createBiExports } from './persisted/bi.js';
import { PersistedResponseCache } from './persisted/cache-plugin.js';
import { CachePolicies } from './persisted/cache-policy.js';
import { isPersistedGet, servePersistedGet } from './persisted/get.js';
import { defaultPersistedOperations, type PersistedOperations } from './persisted/manifest.js';
import { persistedQueriesPlugin, persistedQueryCache } from './persisted/plugin.js';
import { DEFAULT_SAFELIST, type SafelistPolicy } from './persisted/policy.js';
import { createResponseCacheStore, type ResponseCacheStore } from './persisted/response-cache.js';
import { REST_ALIASES } from './rest/aliases.js';
import { createRestAliasRouter, type RestAliasRouter } from './rest/router.js';
import { FederatedOperations } from './subscriptions/operations.js';
import { SubscriptionPlanner } from './subscriptions/planner.js';
import { createSseHandler } from './subscriptions/sse.js';
import { serveGatewaySockets } from './subscriptions/ws.js';

export interface PublicRoute {
  subgraph: string;
  method: HttpMethod;
  path: string;
}

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
   * Where domain events arrive (the outbox relay publishes them), to invalidate cached persisted
   * responses. Without it cached responses only expire by their TTL; a gateway in its own
   * process hears the subgraphs' events only through a Redis pubsub.
   */
  pubsub?: PubSub;
}

export interface PersistedQueryOptions {
  /** The trusted documents; schema/persisted-queries.json by default. */
  operations?: PersistedOperations;
  /** Who may run only manifest operations; DEFAULT_SAFELIST by default. */
  safelist?: SafelistPolicy;
  /** An APQ store of the caller's choosing (tests); otherwise Redis with redisUrl, else memory. */
  apqStore?: ApqStore;
  /** max-age of persisted GET answers and BI exports, in seconds (default 30). */
  maxAgeSeconds?: number;
  /** A response cache store of the caller's choosing (tests); otherwise Redis with redisUrl, else memory. Closed with the gateway. */
  cache?: ResponseCacheStore;
  /** The cache policies; schema/persisted-query-cache.json (for `operations`) by default. */
  cachePolicies?: CachePolicies;
}

export interface RunningGateway {
  url: string;
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

const GATEWAY_IDENTITY: Identity = { kind: 'service', subject: 'gateway', role: 'SERVICE', organizationId: null };
/** Headers that describe one hop, or carry credentials the gateway has already replaced. */
const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'authorization', 'x-api-key', 'cookie', INTERNAL_IDENTITY_HEADER]);

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

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { log, keys } = options;
  // Older callers pass only the HTTP limits; the streaming ones then take their defaults.
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new GatewayMetrics();
  const subgraphUrls: Record<string, string> = { ...options.subgraphUrls };
  const subgraphUrl = (name: string): string => {
    const url = subgraphUrls[name];
    if (!url) throw new Error(`no URL configured for subgraph ${name}`);
    return url;
  };

  const internalFetch = async (subgraph: string, path: string, body: unknown): Promise<Response> =>
    fetch(`${subgraphUrl(subgraph)}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(GATEWAY_IDENTITY, keys.internalIdentitySecret) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });

  const resolver: CredentialResolver = {
    async apiKey(key) {
      const response = await internalFetch('identity', '/internal/credentials/api-key', { key });
      if (response.status === 401) return null;
      if (!response.ok) throw new Error(`identity subgraph answered ${response.status}`);
      return ((await response.json()) as { identity: Identity }).identity;
    },
    async oidc(signIn) {
      const response = await internalFetch('identity', '/internal/credentials/oidc', signIn);
      if (!response.ok) throw new Error(`identity subgraph answered ${response.status}`);
      return ((await response.json()) as { identity: Identity }).identity;
    },
  };
  const authenticator = new Authenticator(keys, options.oidcIssuers, resolver);

  const persistedOperations = options.persisted?.operations ?? defaultPersistedOperations();
  const apqStore = options.persisted?.apqStore ?? createApqStore({ redisUrl: options.redisUrl, redisPrefix: options.redisPrefix });
  const cachePolicies = options.persisted?.cachePolicies ?? CachePolicies.load(persistedOperations);
  if (cachePolicies.skipped.length > 0) log.warn({ operations: cachePolicies.skipped }, 'cache policies that do not match the manifest are not applied; run `npm run persisted`');
  const responseCache = new PersistedResponseCache({
    operations: persistedOperations,
    policies: cachePolicies,
    store: options.persisted?.cache ?? createResponseCacheStore({ redisUrl: options.redisUrl, redisPrefix: options.redisPrefix }),
    metrics,
    log,
  });
  // Short: persisted answers are per caller and the figures behind them move within minutes.
  const persistedMaxAge = options.persisted?.maxAgeSeconds ?? 30;
  // The public API schema of the served supergraph, for laying out BI exports; rebuilt lazily after a reload.
  let servedSupergraphSdl = options.supergraphSdl;
  let apiSchema: GraphQLSchema | undefined;
  const currentApiSchema = (): GraphQLSchema => {
    apiSchema ??= Supergraph.build(servedSupergraphSdl).apiSchema().toGraphQLJSSchema();
    return apiSchema;
  };

  // The SDL hook (rather than a static string) hands back `update`, through which
  // reloadSupergraph swaps the schema and query planner of the running gateway.
  let updateSupergraph: SupergraphSdlUpdateFunction | undefined;
  const gateway = new ApolloGateway({
    supergraphSdl: async ({ update }) => {
      updateSupergraph = update;
      return { supergraphSdl: options.supergraphSdl };
    },
    logger: log,
    buildService: ({ name }) => new SignedIdentityDataSource(name, `${subgraphUrl(name)}/graphql`, metrics),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !options.production,
    includeStacktraceInErrorResponses: false,
    formatError: maskUnexpectedErrors(log),
    validationRules: [depthLimit(limits.maxDepth), aliasLimit(limits.maxAliases)],
    // Manifest ids resolve without registration; other ids are APQ (registered with their text).
    persistedQueries: { cache: persistedQueryCache(persistedOperations, apqStore) },
    plugins: [metrics.apolloPlugin<GatewayContext>(), persistedQueriesPlugin(persistedOperations, options.persisted?.safelist ?? DEFAULT_SAFELIST), responseCache.plugin()],
  });
  await apollo.start();
  // Before serving: an event published once the gateway is up must reach the cache.
  if (options.pubsub) await responseCache.listen(options.pubsub);

  /** Verifies the caller; on a bad credential answers 401 and returns nothing. */
  const identify = async (request: RouteRequest, res: ServerResponse): Promise<Identity | undefined> => {
    try {
      return await authenticator.authenticate(request.headers);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      send(res, errorResponse(401, 'UNAUTHENTICATED', error.message, { 'www-authenticate': 'Bearer' }));
      return undefined;
    }
  };

  const requestIdOf = (request: RouteRequest): string => {
    const given = request.headers['x-request-id'];
    return typeof given === 'string' && /^[\w-]{8,64}$/.test(given) ? given : randomUUID();
  };

  /** What an operation runs with, over /graphql and REST aliases alike. */
  const contextFor = async (identity: Identity, request: RouteRequest): Promise<GatewayContext> => ({
    identity,
    internalIdentityToken: await signInternalIdentity(identity, keys.internalIdentitySecret),
    requestId: requestIdOf(request),
  });

  // REST aliases run their operation through `apollo` as the caller, so the subgraphs' rules,
  // the limits, metrics and error masking are those of /graphql; nothing is authorized here.
  const restAliases: RestAliasRouter = createRestAliasRouter({
    apollo,
    aliases: REST_ALIASES,
    operations: persistedOperations,
    authenticate: (headers) => authenticator.authenticate(headers),
    context: contextFor,
    log,
  });

  const biExports = createBiExports({
    apollo,
    operations: persistedOperations,
    apiSchema: currentApiSchema,
    authenticate: (headers) => authenticator.authenticate(headers),
    context: contextFor,
    maxAgeSeconds: persistedMaxAge,
    log,
  });

  const proxy = async (route: PublicRoute, request: RouteRequest, res: ServerResponse, identity: Identity): Promise<void> => {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers)) {
      if (value !== undefined && !NOT_FORWARDED.has(key)) headers[key] = Array.isArray(value) ? value.join(', ') : value;
    }
    headers[INTERNAL_IDENTITY_HEADER] = await signInternalIdentity(identity, keys.internalIdentitySecret);
    headers['x-request-id'] = requestIdOf(request);
    const upstream = await fetch(`${subgraphUrl(route.subgraph)}${request.url.pathname}${request.url.search}`, {
      method: request.method,
      headers,
      body: request.method === 'GET' ? undefined : request.body,
      signal: AbortSignal.timeout(30_000),
    });
    const responseHeaders: Record<string, string> = {};
    upstream.headers.forEach((value, key) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(key)) responseHeaders[key] = value;
    });
    send(res, { status: upstream.status, body: Buffer.from(await upstream.arrayBuffer()), headers: responseHeaders });
  };

  const ready = async (): Promise<{ ok: boolean; subgraphs: Record<string, string> }> => {
    const results = await Promise.all(
      Object.entries(subgraphUrls).map(async ([name, url]) => {
        try {
          const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
          return [name, response.ok ? 'ok' : `status ${response.status}`] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
    return { ok: results.every(([, status]) => status === 'ok'), subgraphs: Object.fromEntries(results) };
  };

  /** HTTP data sources for the entity fetches of subscription events, by subgraph name. */
  const dataSources = (planner: SubscriptionPlanner) =>
    Object.fromEntries(planner.subgraphNames.map((name) => [name, new SignedIdentityDataSource(name, `${subgraphUrl(name)}/graphql`, metrics)]));
  const planner = new SubscriptionPlanner(options.supergraphSdl);
  const operations = new FederatedOperations({
    apollo,
    planner,
    services: dataSources(planner),
    subgraphUrl,
    internalIdentitySecret: keys.internalIdentitySecret,
    limits,
    metrics,
    log,
    trusted: { policy: options.persisted?.safelist ?? DEFAULT_SAFELIST, operations: persistedOperations },
  });
  const serveSse = createSseHandler({ operations, authenticator });

  const server: Server = createHttpServer(
    async (request, res) => {
      const path = request.url.pathname;
      res.on('finish', () => metrics.httpResponses.inc({ route: restAliases.routeOf(path) ?? routeLabel(path, options.publicRoutes), status: String(res.statusCode) }));
      // GraphQL over SSE (graphql-sse, distinct connections): a path of its own, so that a
      // plain GET or POST to /graphql stays exactly GraphQL over HTTP.
      if (path === '/graphql/stream') return serveSse(request, res);
      if (path === '/graphql' && (request.method === 'POST' || request.method === 'GET')) {
        const identity = await identify(request, res);
        if (!identity) return;
        const context = await contextFor(identity, request);
        if (isPersistedGet(request)) return servePersistedGet(apollo, request, res, async () => context, persistedMaxAge);
        return serveGraphQL(apollo, request, res, async () => context);
      }
      if (path === '/health' && request.method === 'GET') return send(res, { status: 200, body: { status: 'ok' } });
      if (path === '/ready' && request.method === 'GET') {
        const state = await ready();
        return send(res, { status: state.ok ? 200 : 503, body: state });
      }
      if (path === '/metrics' && request.method === 'GET') {
        return send(res, { status: 200, body: await metrics.registry.metrics(), headers: { 'content-type': metrics.registry.contentType } });
      }
      if (path === '/.well-known/jwks.json' && request.method === 'GET') {
        return send(res, { status: 200, body: { keys: keys.publicKeys }, headers: { 'cache-control': 'public, max-age=300' } });
      }
      // Before the proxied subgraph routes: the gateway's alias wins over a subgraph route on the same path.
      if (await restAliases.handle(request, res)) return;
      if (await biExports.handle(request, res)) return;
      const route = options.publicRoutes.find((r) => r.method === request.method && matchPath(r.path, path));
      if (route) {
        const identity = await identify(request, res);
        if (!identity) return;
        return proxy(route, request, res, identity);
      }
      send(res, errorResponse(404, 'NOT_FOUND', 'no such route'));
    },
    { bodyLimitBytes: limits.maxBodyBytes, onError: (error) => log.error({ err: error }, 'gateway request failed') },
  );
  const sockets = serveGatewaySockets({ server, operations, authenticator, log });

  const url = await listen(server, options.port ?? 0, options.host);
  log.info({ url }, 'gateway listening');
  return {
    url,
    metrics,
    reloadSupergraph(supergraphSdl, newUrls = {}) {
      // Built first: an SDL that is not a valid supergraph throws here, before anything changes.
      const nextPlanner = new SubscriptionPlanner(supergraphSdl);
      if (!updateSupergraph) throw new Error('the gateway has not loaded its first supergraph yet');
      Object.assign(subgraphUrls, newUrls);
      // Synchronous: the next HTTP request is planned against the new supergraph.
      updateSupergraph(supergraphSdl);
      servedSupergraphSdl = supergraphSdl;
      apiSchema = undefined;
      operations.reload(nextPlanner, dataSources(nextPlanner));
      // Cached answers were computed by the old supergraph's subgraphs and rules.
      void responseCache.clear();
      log.info({ subgraphs: nextPlanner.subgraphNames }, 'supergraph reloaded');
    },
    async close() {
      // Open sockets first: an upgraded connection would keep the HTTP server from closing.
      await sockets.close();
      await operations.close();
      await closeServer(server);
      await apollo.stop();
      await apqStore.close();
      await responseCache.close();
    },
  };
}

function routeLabel(path: string, routes: PublicRoute[]): string {
  if (path.startsWith('/bi/')) return BI_ROUTE;
  if (['/graphql', '/graphql/stream', '/health', '/ready', '/metrics', '/.well-known/jwks.json'].includes(path)) return path;
  return routes.find((r) => matchPath(r.path, path))?.path ?? 'unmatched';
}
