import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { PubSub } from '../../../subgraphs/kit/pubsub.js';
import type { GatewayContext } from '../context.js';
import type { GatewayMetrics } from '../metrics.js';
import { createApqStore, type ApqStore } from './apq-store.js';
import { PersistedResponseCache } from './cache-plugin.js';
import { CachePolicies } from './cache-policy.js';
import { defaultPersistedOperations, type PersistedOperations } from './manifest.js';
import { persistedQueriesPlugin, persistedQueryCache } from './plugin.js';
import { DEFAULT_SAFELIST, type SafelistPolicy } from './policy.js';
import { createResponseCacheStore, type ResponseCacheStore } from './response-cache.js';

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

/** Persisted queries as the gateway runs them: the manifest, the safelist, APQ and the response cache. */
export interface PersistedQueries {
  operations: PersistedOperations;
  safelist: SafelistPolicy;
  /** Short: persisted answers are per caller and the figures behind them move within minutes. */
  maxAgeSeconds: number;
  responseCache: PersistedResponseCache;
  apolloOptions: Pick<ApolloServerOptions<GatewayContext>, 'persistedQueries'>;
  plugins: Array<ApolloServerPlugin<GatewayContext>>;
  /** Before serving: an event published once the gateway is up must reach the cache. */
  listen(pubsub: PubSub): Promise<void>;
  close(): Promise<void>;
}

export function openPersistedQueries(options: PersistedQueryOptions, deps: { redisUrl?: string; redisPrefix?: string; metrics: GatewayMetrics; log: Logger }): PersistedQueries {
  const { log } = deps;
  const redis = { redisUrl: deps.redisUrl, redisPrefix: deps.redisPrefix, log };
  const operations = options.operations ?? defaultPersistedOperations();
  const safelist = options.safelist ?? DEFAULT_SAFELIST;
  const apqStore = options.apqStore ?? createApqStore(redis);
  const policies = options.cachePolicies ?? CachePolicies.load(operations);
  if (policies.skipped.length > 0) log.warn({ operations: policies.skipped }, 'cache policies that do not match the manifest are not applied; run `npm run persisted`');
  const responseCache = new PersistedResponseCache({ operations, policies, store: options.cache ?? createResponseCacheStore(redis), metrics: deps.metrics, log });
  return {
    operations,
    safelist,
    maxAgeSeconds: options.maxAgeSeconds ?? 30,
    responseCache,
    // Manifest ids resolve without registration; other ids are APQ (registered with their text).
    apolloOptions: { persistedQueries: { cache: persistedQueryCache(operations, apqStore, log) } },
    plugins: [persistedQueriesPlugin(operations, safelist), responseCache.plugin()],
    listen: (pubsub) => responseCache.listen(pubsub),
    async close() {
      await apqStore.close();
      await responseCache.close();
    },
  };
}
