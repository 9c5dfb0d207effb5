import type { ApolloServer } from '@apollo/server';
import { getNullableType, isListType, Kind, parse, typeFromAST, type GraphQLFormattedError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { RouteResponse } from '../../../subgraphs/kit/http.js';
import { AuthenticationError } from '../auth/authenticate.js';
import type { GatewayContext } from '../context.js';
import { statusForErrors } from '../rest/router.js';
import type { Callers } from '../runtime/callers.js';
import type { GatewayRequest } from '../runtime/request.js';
import type { GatewayModule } from '../runtime/router.js';
import { CACHE_HEADER } from './cache-plugin.js';
import type { ManifestOperation, PersistedOperations } from './manifest.js';
import { toCsv, toTable } from './rows.js';

export const BI_ROUTE = '/bi/:operation';
const PATH = /^\/bi\/([A-Za-z_][A-Za-z0-9_]{0,127})\.(json|csv)$/;

export interface BiExportOptions {
  apollo: ApolloServer<GatewayContext>;
  operations: PersistedOperations;
  /** The served API schema (it changes on a supergraph reload): column layout follows its types. */
  apiSchema(): GraphQLSchema;
  callers: Callers;
  /** Seconds a BI tool or proxy may keep an export (private: the figures are the key's organization's). */
  maxAgeSeconds: number;
}

const refusal = (status: number, code: string, message: string, headers: Record<string, string> = {}): RouteResponse => ({
  status,
  body: { errors: [{ message, extensions: { code } }] },
  headers: { 'cache-control': 'no-store', ...headers },
});

/** Query parameters → the operation's variables, typed by their declarations (all values arrive as text). */
function variablesFrom(schema: GraphQLSchema, operation: OperationDefinitionNode, url: URL): { variables: Record<string, unknown> } | { problem: string } {
  const declared = new Map(operation.variableDefinitions?.map((d) => [d.variable.name.value, d]) ?? []);
  const variables: Record<string, unknown> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const definition = declared.get(name);
    if (!definition) return { problem: `${operation.name?.value ?? 'the operation'} has no variable ${name}` };
    const type = typeFromAST(schema, definition.type);
    const nullable = type ? getNullableType(type) : undefined;
    const list = nullable !== undefined && isListType(nullable);
    const named = (() => {
      let node = definition.type;
      while (node.kind !== Kind.NAMED_TYPE) node = node.type;
      return node.name.value;
    })();
    const convert = (text: string): unknown => {
      if (named === 'Int' || named === 'Float') return text.trim() === '' ? Number.NaN : Number(text);
      if (named === 'Boolean') return text === 'true' ? true : text === 'false' ? false : text;
      // Input objects and JSON arrive as JSON text; everything else (ID, String, enums, dates) as is.
      const schemaType = schema.getType(named);
      if (schemaType && 'getFields' in schemaType) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      }
      return text;
    };
    const values = url.searchParams.getAll(name).map(convert);
    variables[name] = list ? values : values[0];
  }
  return { variables };
}

/**
 * `GET /bi/<operationName>.json` and `.csv`: a manifest query run for a BI tool that speaks
 * plain HTTP, authenticated by its API key, variables from the query string, the result
 * flattened to rows. The operation runs through Apollo by id, as any persisted query does,
 * so the subgraphs' rules, the limits, metrics and the safelist all apply.
 */
export function biExportModule(options: BiExportOptions): GatewayModule {
  const { apollo, operations } = options;

  const run = async (request: GatewayRequest, name: string, format: 'json' | 'csv'): Promise<RouteResponse> => {
    const apiKey = request.headers['x-api-key'];
    if (typeof apiKey !== 'string' || request.headers['authorization']) {
      return refusal(401, 'UNAUTHENTICATED', 'BI exports take an API key in X-API-Key', { 'www-authenticate': 'ApiKey' });
    }
    let context: GatewayContext;
    try {
      context = await options.callers.of(request);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      return refusal(401, 'UNAUTHENTICATED', error.message, { 'www-authenticate': 'ApiKey' });
    }
    const operation: ManifestOperation | undefined = operations.byName(name);
    // Mutations are not exports: a GET must stay safe to retry and to prefetch.
    if (!operation || operation.type !== 'query') return refusal(404, 'NOT_FOUND', `no persisted query named ${name}`);
    const schema = options.apiSchema();
    const definition = parse(operation.body).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    if (!definition) return refusal(404, 'NOT_FOUND', `no persisted query named ${name}`);
    const input = variablesFrom(schema, definition, request.url);
    if ('problem' in input) return refusal(400, 'BAD_USER_INPUT', input.problem);

    const response = await apollo.executeOperation(
      { operationName: operation.name, variables: input.variables, extensions: { persistedQuery: { version: 1, sha256Hash: operation.id } } },
      { contextValue: context },
    );
    if (response.body.kind !== 'single') {
      request.log.error({ operation: name }, 'BI export answered incrementally');
      return refusal(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
    const { data, errors } = response.body.singleResult;
    // A partial table would look complete in a spreadsheet: any error fails the export.
    if (errors && errors.length > 0) {
      return { status: statusForErrors(errors), body: { errors: errors.map((e: GraphQLFormattedError) => ({ message: e.message, extensions: { code: e.extensions?.['code'] ?? 'INTERNAL_SERVER_ERROR' } })) }, headers: { 'cache-control': 'no-store' } };
    }
    const table = toTable(schema, operation.body, data);
    const cacheState = response.http.headers.get(CACHE_HEADER);
    const headers = { 'cache-control': `private, max-age=${options.maxAgeSeconds}`, vary: 'x-api-key', ...(cacheState ? { [CACHE_HEADER]: cacheState } : {}) };
    if (format === 'json') return { status: 200, body: table.rows, headers };
    return {
      status: 200,
      body: toCsv(table),
      headers: { ...headers, 'content-type': 'text/csv; charset=utf-8; header=present', 'content-disposition': `attachment; filename="${name}.csv"` },
    };
  };

  return {
    name: 'bi-exports',
    routes: [{
      // Every method: a GET-only refusal of its own, that names the export form.
      method: '*',
      path: BI_ROUTE,
      async handle(request) {
        if (request.method !== 'GET') return refusal(405, 'METHOD_NOT_ALLOWED', 'use GET on BI exports', { allow: 'GET' });
        const match = PATH.exec(request.url.pathname);
        if (!match?.[1] || (match[2] !== 'json' && match[2] !== 'csv')) return refusal(404, 'NOT_FOUND', 'BI exports are /bi/<operationName>.json or .csv');
        return run(request, match[1], match[2]);
      },
    }],
  };
}
