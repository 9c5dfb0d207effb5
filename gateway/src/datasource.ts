import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError, Kind, parse, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import { ErrorCode, isErrorCode } from '../../subgraphs/kit/errors.js';
import { INTERNAL_IDENTITY_HEADER } from '../../subgraphs/kit/identity.js';
import type { GatewayContext } from './context.js';
import type { GatewayMetrics } from './metrics.js';
import { REQUEST_ID_HEADER } from './runtime/request.js';
import { subgraphFailure } from './runtime/subgraphs.js';

type DataSourceResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** Errors reported for one failed fetch at most: enough to mark every null of a page, bounded for huge lists. */
const MAX_FETCH_ERRORS = 100;

/**
 * Each subgraph fetch of an operation (HTTP queries and the per-event entity fetches of
 * subscriptions): sent with the caller's signed identity and the request id, bounded by the
 * subgraph timeout, and timed. A subgraph that is down, times out or answers with an HTTP error
 * does not fail the whole operation: the fetch answers with one error per field it was to
 * provide (code DOWNSTREAM_SERVICE_ERROR or TIMEOUT, `serviceName`, the field's path), so
 * fields from the other subgraphs still resolve and the client gets HTTP 200 with partial data.
 */
export class SignedIdentityDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs: number,
  ) {
    super({ url });
    const fetcher = this.fetcher;
    this.fetcher = (input, init) => fetcher(input, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
  }

  override async willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    // Health checks and the gateway's own fetches have no request context.
    if (!('internalIdentity' in context) || !request.http) return;
    request.http.headers.set(INTERNAL_IDENTITY_HEADER, await context.internalIdentity());
    request.http.headers.set(REQUEST_ID_HEADER, context.requestId);
  }

  /**
   * A subgraph answers 4xx with a GraphQL error body when a value in the operation is not
   * acceptable (a Date that is not a calendar date, say): the gateway's API schema cannot
   * check custom scalars, only the owning subgraph can. Pass that error on with its code,
   * instead of Apollo's bare "400: Bad Request" (which would also echo the subgraph's URL).
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]): Promise<GraphQLError> {
    const body: unknown = await this.parseBody(response).catch(() => undefined);
    const first = (body as { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } | undefined)?.errors?.[0];
    if (typeof first?.message === 'string') {
      const code = first.extensions?.code;
      // The operation already passed validation against the supergraph; what fails here is a value.
      const mapped = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_USER_INPUT' ? 'BAD_USER_INPUT' : isErrorCode(code) ? code : 'DOWNSTREAM_SERVICE_ERROR';
      return new GraphQLError(first.message, { extensions: { code: mapped, serviceName: this.subgraph } });
    }
    return new GraphQLError(`The ${this.subgraph} service answered ${response.status}`, { extensions: { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, serviceName: this.subgraph } });
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<DataSourceResponse> {
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      const response = await super.process(options);
      if (response.errors?.length) outcome = 'error';
      return response;
    } catch (error) {
      outcome = 'failed';
      if ('log' in options.context) options.context.log.warn({ err: error, subgraph: this.subgraph }, 'subgraph fetch failed');
      return { errors: this.fetchFailed(options.request, error) };
    } finally {
      this.metrics.subgraphFetchDuration.observe({ subgraph: this.subgraph, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** One error per field the failed fetch was to provide, with paths the federation executor turns into the client's. */
  private fetchFailed(request: GraphQLDataSourceProcessOptions['request'], error: unknown): GraphQLFormattedError[] {
    const { message, extensions } = error instanceof GraphQLError && isErrorCode(error.extensions['code'])
      ? { message: error.message, extensions: { code: error.extensions['code'], serviceName: this.subgraph } }
      : (() => {
          const failure = subgraphFailure(this.subgraph, error, this.timeoutMs);
          return { message: failure.message, extensions: failure.toJSON().extensions };
        })();
    const paths = fetchPaths(request.query, request.variables?.['representations']).slice(0, MAX_FETCH_ERRORS);
    return paths.length > 0 ? paths.map((path) => ({ message, path, extensions })) : [{ message, extensions }];
  }
}

/**
 * Where a fetch's fields land, in the subgraph's response shape: `[field]` for a root fetch,
 * `['_entities', i, field]` for an entity fetch (the executor maps entity `i` back to its place
 * in the client's response).
 */
function fetchPaths(query: string | undefined, representations: unknown): Array<Array<string | number>> {
  if (!query) return [];
  let selection: SelectionSetNode | undefined;
  try {
    const operation = parse(query).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    selection = operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet : undefined;
  } catch {
    return [];
  }
  if (!selection) return [];
  if (!Array.isArray(representations)) return responseKeys(selection).map((key) => [key]);
  const entities = selection.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
  const keys = entities?.kind === Kind.FIELD && entities.selectionSet ? responseKeys(entities.selectionSet) : [];
  return representations.flatMap((_, index) => keys.map((key) => ['_entities', index, key]));
}

/** The response keys a selection set produces (through inline fragments), without __typename. */
function responseKeys(selectionSet: SelectionSetNode): string[] {
  const keys = new Set<string>();
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD && selection.name.value !== '__typename') keys.add(selection.alias?.value ?? selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) for (const key of responseKeys(selection.selectionSet)) keys.add(key);
  }
  return [...keys];
}
