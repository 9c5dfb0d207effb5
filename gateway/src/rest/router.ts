import type { ApolloServer } from '@apollo/server';
import { print, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, HTTP_STATUS } from '../../../subgraphs/kit/errors.js';
import { headerMapFrom, type RouteResponse } from '../../../subgraphs/kit/http.js';
import { AuthenticationError } from '../auth/authenticate.js';
import type { GatewayContext } from '../context.js';
import { CACHE_HEADER } from '../persisted/cache-plugin.js';
import type { PersistedOperations } from '../persisted/manifest.js';
import type { Callers } from '../runtime/callers.js';
import type { GatewayRequest } from '../runtime/request.js';
import type { GatewayModule, Route } from '../runtime/router.js';
import { compileAliases, type CompiledAlias, type RestAlias } from './alias.js';

export interface RestAliasOptions {
  apollo: ApolloServer<GatewayContext>;
  aliases: readonly RestAlias[];
  /**
   * The persisted-query manifest. When given, every alias must run one of its operations
   * (checked at start), and runs it by id: partner keys held to the safelist can use the
   * aliases, and the manifest lists everything the gateway runs on a partner's behalf.
   */
  operations?: PersistedOperations;
  /** The gateway's callers: the credential check and per-request context /graphql uses. */
  callers: Callers;
}

/**
 * Client mistakes and refusals, most telling first: when an operation fails in several ways
 * the status reports the one the caller must act on first (sign in before asking again, say).
 */
const CLIENT_CODES: readonly ErrorCode[] = [
  ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND, ErrorCode.BAD_USER_INPUT, ErrorCode.CONFLICT, ErrorCode.RATE_LIMITED,
];
/** Then the platform's failures, most specific first. */
const SERVER_CODES: readonly ErrorCode[] = [ErrorCode.TIMEOUT, ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.DOWNSTREAM_SERVICE_ERROR];
/** Codes that mean the alias's own document no longer fits the served supergraph: a gateway bug, not the caller's. */
const DOCUMENT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'QUERY_TOO_COMPLEX', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_NOT_ALLOWED']);

/** Per-user data: never stored by a browser, proxy or CDN. */
const NO_STORE = { 'cache-control': 'no-store' };

const codeOf = (error: GraphQLFormattedError): string => {
  const code = error.extensions?.['code'];
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
};

/** The HTTP status for a failed operation (kit/errors.ts' table): the first client code that applies, else the platform's, else 500. */
export function statusForErrors(errors: readonly GraphQLFormattedError[]): number {
  const codes = new Set(errors.map(codeOf));
  const code = [...CLIENT_CODES, ...SERVER_CODES].find((c) => codes.has(c));
  return code ? HTTP_STATUS[code] : HTTP_STATUS.INTERNAL_SERVER_ERROR;
}

const failure = (status: number, errors: ReadonlyArray<{ message: string; code: string }>, headers: Record<string, string> = {}): RouteResponse => ({
  status,
  body: { errors: errors.map((e) => ({ message: e.message, extensions: { code: e.code } })) },
  // A 401 says how to authenticate (RFC 9110), as the gateway's own credential refusals do.
  headers: { ...NO_STORE, ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}), ...headers },
});


/**
 * The REST aliases as routes of the gateway: each alias is one method + path; another method
 * on its path is the route table's 405.
 */
export function restAliasModule(options: RestAliasOptions): GatewayModule {
  // Compiled here so that a broken table stops the gateway at start, not on the first call.
  const aliases = compileAliases(options.aliases);
  const { apollo, callers } = options;
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

  const execute = async (alias: CompiledAlias, request: GatewayRequest, context: GatewayContext, variables: Record<string, string>): Promise<RouteResponse> => {
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
      { contextValue: context },
    );
    if (response.body.kind !== 'single') {
      request.log.error({ route: alias.path }, 'REST alias operation answered incrementally');
      return failure(500, [{ message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' }]);
    }
    const { data, errors } = response.body.singleResult;
    // Any error fails the whole call: a REST client expects the complete resource, not a partial one with holes.
    if (errors && errors.length > 0) {
      if (errors.some((e) => DOCUMENT_CODES.has(codeOf(e)))) {
        request.log.error({ route: alias.path, operation: alias.operationName, codes: errors.map(codeOf) }, 'REST alias operation does not fit the served supergraph');
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

  const route = (alias: CompiledAlias): Route => ({
    method: alias.method,
    path: alias.path,
    async handle(request) {
      let context: GatewayContext;
      try {
        context = await callers.of(request);
      } catch (error) {
        if (!(error instanceof AuthenticationError)) throw error;
        // The same answer /graphql gives a bad credential, and nothing runs.
        return failure(401, [{ message: error.message, code: 'UNAUTHENTICATED' }]);
      }
      const input = variablesFor(alias, request.params, request.url);
      return 'refusal' in input ? input.refusal : execute(alias, request, context, input.variables);
    },
  });

  return { name: 'rest-aliases', routes: aliases.map(route) };
}
