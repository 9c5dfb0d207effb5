import type { ApolloServer } from '@apollo/server';
import { serveGraphQL } from '../../../subgraphs/kit/http.js';
import type { GatewayContext } from '../context.js';
import { isPersistedGet, servePersistedGet } from '../persisted/get.js';
import type { Callers } from '../runtime/callers.js';
import { wantsExplorer, type Explorer } from './explorer.js';
import type { GatewayModule, RouteHandler } from '../runtime/router.js';

/**
 * GraphQL over HTTP at /graphql: POST, and GET (persisted queries by id with ETag and a short
 * private Cache-Control; other GETs as Apollo answers them; a browser's page request gets the
 * explorer when it is on). The caller is verified before anything runs.
 */
export function graphqlModule(deps: { apollo: ApolloServer<GatewayContext>; callers: Callers; persistedMaxAgeSeconds: number; explorer?: Explorer }): GatewayModule {
  const { apollo, callers, explorer } = deps;
  const handle: RouteHandler = async (request, res) => {
    // A browser opening /graphql gets the explorer (when it is on), before any credential check: the page holds none.
    if (explorer && request.method === 'GET' && wantsExplorer(request)) return explorer.page(request);
    const context = await callers.of(request);
    if (isPersistedGet(request)) return servePersistedGet(apollo, request, res, async () => context, deps.persistedMaxAgeSeconds);
    return serveGraphQL(apollo, request, res, async () => context);
  };
  return {
    name: 'graphql',
    routes: [
      { method: 'POST', path: '/graphql', handle },
      { method: 'GET', path: '/graphql', handle },
    ],
  };
}
