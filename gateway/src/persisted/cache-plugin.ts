import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import { eventTopic } from '../../../subgraphs/kit/outbox.js';
import type { PubSub } from '../../../subgraphs/kit/pubsub.js';
import type { GatewayContext } from '../context.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CachePolicies } from './cache-policy.js';
import type { PersistedOperations } from './manifest.js';
import { persistedHashOf } from './plugin.js';
import { cacheKeyOf, cacheScopeOf, type CacheGroup, type ResponseCacheStore } from './response-cache.js';

/** Response header saying whether a cacheable persisted query was answered from the cache. */
export const CACHE_HEADER = 'caregraph-cache';

/** Buffered invalidation events per topic before the listener counts as fallen behind. */
const EVENT_BUFFER = 10_000;

export interface PersistedResponseCacheOptions {
  operations: PersistedOperations;
  policies: CachePolicies;
  store: ResponseCacheStore;
  metrics: GatewayMetrics;
  log: Logger;
}

/**
 * Serves persisted queries with a cache policy from the response cache, and drops entries when
 * a domain event says the figures behind them changed.
 *
 * Only requests by manifest id are cached: the id names exactly one trusted text, so the entry
 * key needs no text, and text requests stay the uncached path. On a miss Apollo executes as
 * usual (the subgraphs decide access) and only a complete answer (data, no errors) is stored,
 * so a refusal is never replayed. A hit is only possible within the caller's own scope
 * (cacheScopeOf), so it can never show anyone what the subgraphs would not.
 */
export class PersistedResponseCache {
  /**
   * Bumped per operation on every invalidation: a response computed while an event arrived
   * may predate the change, so it is not stored.
   */
  private readonly epochs = new Map<string, number>();
  private readonly listeners = new Set<AsyncIterableIterator<unknown>>();
  private readonly loops: Array<Promise<void>> = [];
  private closed = false;

  constructor(private readonly options: PersistedResponseCacheOptions) {}

  plugin(): ApolloServerPlugin<GatewayContext> {
    const { operations, policies, store, metrics, log } = this.options;
    return {
      requestDidStart: async ({ request, contextValue }) => {
        const hash = persistedHashOf(request);
        const operation = hash === undefined ? undefined : operations.byId(hash);
        const policy = operation ? policies.forId(operation.id) : undefined;
        const scope = policy ? cacheScopeOf(contextValue.identity) : undefined;
        if (!operation || !policy || !scope) return;
        // Entries are grouped by the caller's organization, which is whose events invalidate
        // them; figures asked for another organization would never be invalidated, so they are
        // not cached (the subgraphs refuse most such requests anyway).
        const asked = request.variables?.['organizationId'];
        if (asked !== undefined && asked !== null && asked !== scope.organizationId) return;
        const group: CacheGroup = { operation: operation.name, organizationId: scope.organizationId };
        const key = cacheKeyOf(scope, request.variables);
        const epoch = this.epochOf(operation.name);
        let looked = false;
        let hit = false;
        return {
          // After parsing, validation and the safelist's refusals: a hit skips only execution.
          responseForOperation: async () => {
            looked = true;
            let data: string | undefined;
            try {
              data = await store.get(group, key, policy.ttlSeconds);
            } catch (error) {
              // The cache is an optimisation: an unreachable store means executing, not failing.
              log.warn({ err: error, operation: operation.name }, 'response cache read failed');
            }
            if (data === undefined) return null;
            hit = true;
            metrics.persistedCache.inc({ operation: operation.name, result: 'hit' });
            return {
              http: { status: undefined, headers: new HeaderMap([[CACHE_HEADER, 'hit']]) },
              body: { kind: 'single', singleResult: { data: JSON.parse(data) as Record<string, unknown> } },
            };
          },
          willSendResponse: async ({ response }) => {
            if (!looked || hit) return;
            response.http.headers.set(CACHE_HEADER, 'miss');
            metrics.persistedCache.inc({ operation: operation.name, result: 'miss' });
            if (response.body.kind !== 'single') return;
            const { data, errors } = response.body.singleResult;
            if ((errors && errors.length > 0) || data === undefined || data === null) return;
            if (this.epochOf(operation.name) !== epoch) return;
            try {
              await store.set(group, key, JSON.stringify(data), policy.ttlSeconds);
              metrics.persistedCache.inc({ operation: operation.name, result: 'store' });
            } catch (error) {
              log.warn({ err: error, operation: operation.name }, 'response cache write failed');
            }
          },
        };
      },
    };
  }

  private epochOf(operation: string): number {
    return this.epochs.get(operation) ?? 0;
  }

  /** Drops the entries an event of `eventType` for `organizationId` (null: every organization) makes stale. */
  async invalidate(eventType: string, organizationId: string | null): Promise<void> {
    for (const operation of this.options.policies.invalidatedBy(eventType)) await this.drop(operation, organizationId);
  }

  /** Drops every entry (a new supergraph may answer the same operation differently). */
  async clear(): Promise<void> {
    for (const operation of this.options.policies.operationNames()) await this.drop(operation, null);
  }

  private async drop(operation: string, organizationId: string | null): Promise<void> {
    // First, synchronously: a response being computed now must not be stored afterwards.
    this.epochs.set(operation, this.epochOf(operation) + 1);
    try {
      await this.options.store.invalidate(operation, organizationId);
      this.options.metrics.persistedCache.inc({ operation, result: 'invalidated' });
    } catch (error) {
      // Entries still expire by their TTL; nothing more can be done from here.
      this.options.log.error({ err: error, operation }, 'response cache invalidation failed');
    }
  }

  /**
   * Listens for every event type a policy names (RelayedEvent payloads on `eventTopic(type)`).
   * Resolves once the subscriptions are confirmed, so no event published afterwards is missed.
   */
  async listen(pubsub: PubSub): Promise<void> {
    await Promise.all(this.options.policies.eventTypes().map(async (type) => {
      const first = await this.subscribe(pubsub, type);
      this.loops.push(this.consume(pubsub, type, first));
    }));
  }

  private async subscribe(pubsub: PubSub, type: string): Promise<AsyncIterableIterator<unknown>> {
    const events = pubsub.subscribe<unknown>(eventTopic(type), { bufferLimit: EVENT_BUFFER });
    this.listeners.add(events);
    await pubsub.ready(eventTopic(type));
    return events;
  }

  private async consume(pubsub: PubSub, type: string, first: AsyncIterableIterator<unknown>): Promise<void> {
    let events = first;
    while (!this.closed) {
      try {
        for await (const event of events) await this.invalidate(type, organizationOf(event));
        return;
      } catch (error) {
        if (this.closed) return;
        // Fallen behind (SlowConsumerError): events were lost, so every organization's entries
        // of these operations may be stale. Drop them all and listen again.
        this.options.log.warn({ err: error, eventType: type }, 'cache invalidation listener fell behind; dropping the affected entries');
        this.listeners.delete(events);
        events = await this.subscribe(pubsub, type);
        await this.invalidate(type, null);
      }
    }
  }

  /** Ends the event listeners and closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.listeners].map((events) => events.return?.()));
    this.listeners.clear();
    await Promise.all(this.loops);
    await this.options.store.close();
  }
}

/** The event's organization; anything but a string id counts as "every organization", erring on the side of dropping. */
function organizationOf(event: unknown): string | null {
  if (typeof event !== 'object' || event === null) return null;
  const organizationId = (event as Record<string, unknown>)['organizationId'];
  return typeof organizationId === 'string' && organizationId !== '' ? organizationId : null;
}
