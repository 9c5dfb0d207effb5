import type { ApolloServer } from '@apollo/server';
import { executeGraphQL, writeGraphQLAnswer } from '../../../subgraphs/kit/http.js';
import type { GatewayContext } from '../context.js';
import { isPersistedGet, servePersistedGet } from '../persisted/get.js';
import type { Callers } from '../runtime/callers.js';
import type { InflightQueries } from '../runtime/inflight.js';
import { wantsExplorer, type Explorer } from './explorer.js';
import type { GatewayModule, RouteHandler } from '../runtime/router.js';

/**
 * GraphQL over HTTP at /graphql: POST, and GET (persisted queries by id with ETag and a short
 * private Cache-Control; other GETs as Apollo answers them; a browser's page request gets the
 * explorer when it is on). The caller is verified before anything runs; a query identical to
 * one running for the same identity shares its answer (`inflight`, when on).
 */
export function graphqlModule(deps: { apollo: ApolloServer<GatewayContext>; callers: Callers; persistedMaxAgeSeconds: number; explorer?: Explorer; inflight?: InflightQueries }): GatewayModule {
  const { apollo, callers, explorer, inflight } = deps;
  const handle: RouteHandler = async (request, res) => {
    // A browser opening /graphql gets the explorer (when it is on), before any credential check: the page holds none.
    if (explorer && request.method === 'GET' && wantsExplorer(request)) return explorer.page(request);
    const context = await callers.of(request);
    if (isPersistedGet(request)) return servePersistedGet(apollo, request, res, async () => context, deps.persistedMaxAgeSeconds);
    const execute = () => executeGraphQL(apollo, request, async () => context);
    const key = inflight?.keyOf(request, context.identity);
    if (inflight && key) return inflight.answer(key, res, execute, writeGraphQLAnswer);
    return writeGraphQLAnswer(res, await execute());
  };
  return {
    name: 'graphql',
    routes: [
      { method: 'POST', path: '/graphql', handle },
      { method: 'GET', path: '/graphql', handle },
    ],
  };
}
