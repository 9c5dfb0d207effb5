import type { ApolloServerPlugin, GraphQLRequest } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { GatewayContext } from '../context.js';
import { refuseRequest } from '../limits/input.js';
import type { ApqStore } from './apq-store.js';
import { sha256Hex, type PersistedOperations } from './manifest.js';
import { isSafelisted, type SafelistPolicy } from './policy.js';

/** The prefix Apollo Server puts before the hash in its persisted-query cache keys. */
const APQ_PREFIX = 'apq:';

/**
 * The persisted-query cache Apollo Server consults for `extensions.persistedQuery`: manifest
 * operations first (they need no registration and never expire), then the APQ store. Apollo
 * itself verifies that registered text hashes to the id before it calls `set`.
 */
export function persistedQueryCache(operations: PersistedOperations, apq: ApqStore, log: Logger) {
  const hashOf = (key: string): string => (key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key);
  return {
    async get(key: string): Promise<string | undefined> {
      const hash = hashOf(key);
      const trusted = operations.byId(hash)?.body;
      if (trusted !== undefined) return trusted;
      try {
        return await apq.get(hash);
      } catch (error) {
        // The store (Redis) is down: a miss, so the client sends the text again (PERSISTED_QUERY_NOT_FOUND), never a 500.
        log.warn({ err: error }, 'APQ store read failed; answering as a miss');
        return undefined;
      }
    },
    async set(key: string, value: string): Promise<void> {
      const hash = hashOf(key);
      if (operations.byId(hash)) return;
      try {
        await apq.set(hash, value);
      } catch (error) {
        // The text came with the request: it runs anyway, only the registration is lost.
        log.warn({ err: error }, 'APQ store write failed; the query runs unregistered');
      }
    },
    async delete(): Promise<void> {
      // Entries are content-addressed and age out; nothing in the gateway removes one.
    },
  };
}

export function persistedHashOf(request: Pick<GraphQLRequest, 'extensions'>): string | undefined {
  const persisted = request.extensions?.['persistedQuery'];
  if (typeof persisted !== 'object' || persisted === null) return undefined;
  const hash = (persisted as Record<string, unknown>)['sha256Hash'];
  return typeof hash === 'string' ? hash : undefined;
}

/**
 * Enforces the safelist for every way an operation reaches Apollo (POST and GET /graphql, REST
 * aliases, BI exports, queries over WebSocket and SSE): a manifest id runs the manifest's text;
 * a safelisted caller sending anything else is refused before anything of it runs (refuseRequest).
 */
export function persistedQueriesPlugin(operations: PersistedOperations, policy: SafelistPolicy): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const hash = persistedHashOf(request);
      if (hash && operations.byId(hash)) {
        // The id names a trusted document: its text is the manifest's, whatever text came with it.
        request.query = undefined;
        return;
      }
      let refusal: GraphQLError | undefined;
      if (isSafelisted(policy, contextValue.identity)) {
        refusal = hash !== undefined && request.query === undefined
          // Status 200, as Apollo answers an unknown APQ id: clients look at the code.
          ? new GraphQLError('PersistedQueryNotFound', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 200, headers: new HeaderMap([['cache-control', 'private, no-cache, must-revalidate']]) } } })
          : new GraphQLError('This caller may run only operations of the persisted-query manifest, sent by id', { extensions: { code: 'OPERATION_NOT_ALLOWED', http: { status: 403, headers: new HeaderMap() } } });
      } else if (hash !== undefined && typeof request.query === 'string' && sha256Hex(request.query) !== hash) {
        // Apollo refuses this too, but without a code, which the gateway's error masking would hide.
        refusal = new GraphQLError('provided sha does not match query', { extensions: { code: 'BAD_REQUEST', http: { status: 400, headers: new HeaderMap() } } });
      }
      if (refusal) return refuseRequest(request, refusal);
    },
  };
}
