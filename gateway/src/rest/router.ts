import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { print, type GraphQLFormattedError } from 'graphql';
import { matchPath, send, type RouteRequest, type RouteResponse } from '../../../subgraphs/kit/http.js';
import type { Identity } from '../../../subgraphs/kit/identity.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import { AuthenticationError } from '../auth/authenticate.js';
import type { GatewayContext } from '../context.js';
import { CACHE_HEADER } from '../persisted/cache-plugin.js';
import type { PersistedOperations } from '../persisted/manifest.js';
import { compileAliases, type CompiledAlias, type RestAlias } from './alias.js';

export interface RestAliasRouterOptions {
  apollo: ApolloServer<GatewayContext>;
  aliases: readonly RestAlias[];
  /**
   * The persisted-query manifest. When given, every alias must run one of its operations
   * (checked at start), and runs it by id: partner keys held to the safelist can use the
   * aliases, and the manifest lists everything the gateway runs on a partner's behalf.
   */
  operations?: PersistedOperations;
  /** The gateway's credential check, the one /graphql uses; throws AuthenticationError on a bad credential. */
  authenticate(headers: IncomingHttpHeaders): Promise<Identity>;
  /** The per-request context /graphql builds (signed internal identity, request id). */
  context(identity: Identity, request: RouteRequest): Promise<GatewayContext>;
  log: Logger;
}

export interface RestAliasRouter {
  /** The path pattern of the alias serving `path`, for metric labels; undefined when none does. */
  routeOf(path: string): string | undefined;
  /** Answers the request when an alias serves its path and returns true; false otherwise. */
  handle(request: RouteRequest, res: ServerResponse): Promise<boolean>;
}

/**
 * Client mistakes and refusals, most telling first: when an operation fails in several ways
 * the status reports the one the caller must act on first (sign in before asking again, say).
 */
const CLIENT_STATUS: ReadonlyArray<readonly [string, number]> = [
  ['UNAUTHENTICATED', 401],
  ['FORBIDDEN', 403],
  ['NOT_FOUND', 404],
  ['BAD_USER_INPUT', 400],
  ['CONFLICT', 409],
  ['RATE_LIMITED', 429],
];
/** Codes that mean the alias's own document no longer fits the served supergraph: a gateway bug, not the caller's. */
const DOCUMENT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'QUERY_TOO_COMPLEX', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_NOT_ALLOWED']);

/** Per-user data: never stored by a browser, proxy or CDN. */
const NO_STORE = { 'cache-control': 'no-store' };

const codeOf = (error: GraphQLFormattedError): string => {
  const code = error.extensions?.['code'];
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
};

/** The HTTP status for a failed operation: the first client status that applies, else 502 for a failing subgraph, else 500. */
export function statusForErrors(errors: readonly GraphQLFormattedError[]): number {
  const codes = new Set(errors.map(codeOf));
  for (const [code, status] of CLIENT_STATUS) if (codes.has(code)) return status;
  return codes.has('DOWNSTREAM_SERVICE_ERROR') ? 502 : 500;
}

const failure = (status: number, errors: ReadonlyArray<{ message: string; code: string }>, headers: Record<string, string> = {}): RouteResponse => ({
  status,
  body: { errors: errors.map((e) => ({ message: e.message, extensions: { code: e.code } })) },
  // A 401 says how to authenticate (RFC 9110), as the gateway's own credential refusals do.
  headers: { ...NO_STORE, ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}), ...headers },
});

function headerMapFrom(headers: IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

export function createRestAliasRouter(options: RestAliasRouterOptions): RestAliasRouter {
  // Compiled here so that a broken table stops the gateway at start, not on the first call.
  const aliases = compileAliases(options.aliases);
  const { apollo, log } = options;
  /** Alias operation name → manifest id. */
  const persistedIds = new Map<string, string>();
  if (options.operations) {
    for (const alias of aliases) {
      const persisted = options.operations.byName(alias.operationName);
      if (!persisted || persisted.body !== print(alias.document)) {
        throw new Error(`REST alias ${alias.method} ${alias.path}: ${alias.operationName} is not the manifest's operation of that name; take its body from schema/persisted-queries.json`);
      }
      persistedIds.set(alias.operationName, persisted.id);
    }
  }

  /** The alias for the path and its params; a malformed %-escape in the path is the caller's 400. */
  const find = (path: string): { matches: Array<{ alias: CompiledAlias; params: Record<string, string> }> } | { refusal: RouteResponse } => {
    try {
      return {
        matches: aliases.flatMap((alias) => {
          const params = matchPath(alias.path, path);
          return params ? [{ alias, params }] : [];
        }),
      };
    } catch (error) {
      if (!(error instanceof URIError)) throw error;
      return { refusal: failure(400, [{ message: 'the path is not validly encoded', code: 'BAD_USER_INPUT' }]) };
    }
  };

  /** Variables from path and query; a missing required query parameter is answered 400 before anything runs. */
  const variablesFor = (alias: CompiledAlias, params: Record<string, string>, url: URL): { variables: Record<string, string> } | { refusal: RouteResponse } => {
    const variables: Record<string, string> = {};
    const missing: string[] = [];
    for (const [variable, source] of Object.entries(alias.variables)) {
      const value = source.from === 'path' ? params[source.name] : url.searchParams.get(source.name);
      if (value === undefined || value === null || value === '') {
        if (source.from === 'query' && source.required) missing.push(source.name);
        continue;
      }
      variables[variable] = value;
    }
    if (missing.length > 0) return { refusal: failure(400, missing.map((name) => ({ message: `query parameter ${name} is required`, code: 'BAD_USER_INPUT' }))) };
    return { variables };
  };

  const execute = async (alias: CompiledAlias, request: RouteRequest, identity: Identity, variables: Record<string, string>): Promise<RouteResponse> => {
    const response = await apollo.executeOperation(
      {
        ...(persistedIds.has(alias.operationName)
          ? { extensions: { persistedQuery: { version: 1, sha256Hash: persistedIds.get(alias.operationName) } } }
          : { query: alias.operation }),
        operationName: alias.operationName,
        variables,
        // The HTTP request as /graphql would pass it, for plugins that look at method or headers.
        http: { method: request.method, headers: headerMapFrom(request.headers), search: request.url.search, body: undefined },
      },
      { contextValue: await options.context(identity, request) },
    );
    if (response.body.kind !== 'single') {
      log.error({ route: alias.path }, 'REST alias operation answered incrementally');
      return failure(500, [{ message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' }]);
    }
    const { data, errors } = response.body.singleResult;
    // Any error fails the whole call: a REST client expects the complete resource, not a partial one with holes.
    if (errors && errors.length > 0) {
      if (errors.some((e) => DOCUMENT_CODES.has(codeOf(e)))) {
        log.error({ route: alias.path, operation: alias.operationName, codes: errors.map(codeOf) }, 'REST alias operation does not fit the served supergraph');
        return failure(500, [{ message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' }]);
      }
      return failure(statusForErrors(errors), errors.map((e) => ({ message: e.message, code: codeOf(e) })));
    }
    const value: unknown = data?.[alias.response.pick] ?? null;
    if (value === null && alias.response.notFound) return failure(404, [{ message: `${alias.response.notFound} not found`, code: 'NOT_FOUND' }]);
    // Whether the gateway's response cache answered (persisted operations with a cache policy).
    const cacheState = response.http.headers.get(CACHE_HEADER);
    return { status: 200, body: alias.response.as ? { [alias.response.as]: value } : value, headers: { ...NO_STORE, ...(cacheState ? { [CACHE_HEADER]: cacheState } : {}) } };
  };

  return {
    routeOf(path) {
      // Matched on the shape alone, without decoding: a path with a malformed escape still gets its route's label.
      const actual = path.split('/');
      return aliases.find((alias) => {
        const expected = alias.path.split('/');
        return expected.length === actual.length && expected.every((part, i) => (part.startsWith(':') ? actual[i] !== '' : part === actual[i]));
      })?.path;
    },
    async handle(request, res) {
      const found = find(request.url.pathname);
      if ('refusal' in found) {
        send(res, found.refusal);
        return true;
      }
      if (found.matches.length === 0) return false;
      const match = found.matches.find((f) => f.alias.method === request.method);
      if (!match) {
        const allow = [...new Set(found.matches.map((f) => f.alias.method))].join(', ');
        send(res, failure(405, [{ message: `use ${allow} on this route`, code: 'METHOD_NOT_ALLOWED' }], { allow }));
        return true;
      }
      let identity: Identity;
      try {
        identity = await options.authenticate(request.headers);
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        // The same answer /graphql gives a bad credential, and nothing runs.
        send(res, failure(401, [{ message: error.message, code: 'UNAUTHENTICATED' }]));
        return true;
      }
      const input = variablesFor(match.alias, match.params, request.url);
      send(res, 'refusal' in input ? input.refusal : await execute(match.alias, request, identity, input.variables));
      return true;
    },
  };
}
