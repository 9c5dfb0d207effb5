import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError, Kind, parse, type GraphQLFormattedError, type SelectionSetNode } from 'graphql';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { ErrorCode, isErrorCode } from '../../subgraphs/kit/errors.js';
import { INTERNAL_IDENTITY_HEADER } from '../../subgraphs/kit/identity.js';
import type { GatewayContext } from './context.js';
import type { GatewayMetrics } from './metrics.js';
import { REQUEST_ID_HEADER } from './runtime/request.js';
import { subgraphFailure } from './runtime/subgraph-failure.js';

type DataSourceResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;
type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;

/** Errors reported for one failed fetch at most: enough to mark every null of a page, bounded for huge lists. */
const MAX_FETCH_ERRORS = 100;

/** A subgraph's raw answer, shared by identical fetches of one operation; each reader parses its own copy. */
interface RawAnswer {
  status: number;
  body: string;
  cacheControl: string | undefined;
}

/**
 * Identical query fetches of one operation (same subgraph, text and variables: a plan that asks
 * for product 1 at two paths) go over the network once. Keyed by the operation's own request
 * context, which lives exactly as long as one HTTP operation or one subscription event.
 */
const fetchesInFlight = new WeakMap<object, Map<string, Promise<RawAnswer>>>();

/**
 * Each subgraph fetch of an operation (HTTP queries and the per-event entity fetches of
 * subscriptions): sent with the caller's signed identity (signed once per operation, then
 * reused) and the request id over a keep-alive pool, bounded by the subgraph timeout, and
 * timed. A subgraph that is down, times out or answers with an HTTP error does not fail the
 * whole operation: the fetch answers with one error per field it was to provide (code
 * DOWNSTREAM_SERVICE_ERROR or TIMEOUT, `serviceName`, the field's path), so fields from the
 * other subgraphs still resolve and the client gets HTTP 200 with partial data.
 *
 * Written on undici's `request` rather than @apollo/gateway's RemoteGraphQLDataSource: its
 * default client (make-fetch-happen) captured a stack trace per request and took about half of
 * the gateway's CPU under load (bench/federation).
 */
export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    private readonly url: string,
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs: number,
    private readonly dispatcher: Dispatcher,
  ) {}

  async process(options: ProcessOptions): Promise<DataSourceResponse> {
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      const response = await this.fetch(options);
      if (response.errors?.length) outcome = 'error';
      return response;
    } catch (error) {
      outcome = 'failed';
      if ('log' in options.context) (options.context as GatewayContext).log.warn({ err: error, subgraph: this.subgraph }, 'subgraph fetch failed');
      return { errors: this.fetchFailed(options.request, error) };
    } finally {
      this.metrics.subgraphFetchDuration.observe({ subgraph: this.subgraph, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async fetch(options: ProcessOptions): Promise<DataSourceResponse> {
    const { query, operationName } = options.request;
    if (!query) throw new Error('Missing query');
    const { variables, positions } = uniqueRepresentations(options.request.variables);
    const body = JSON.stringify({ query, variables, operationName });
    const operation = 'incomingRequestContext' in options ? options.incomingRequestContext : undefined;
    // Only reads are shared: two identical mutation fetches are two writes.
    const shareable = operation !== undefined && query.startsWith('query');
    let answer: Promise<RawAnswer>;
    if (shareable) {
      let inFlight = fetchesInFlight.get(operation);
      if (!inFlight) fetchesInFlight.set(operation, (inFlight = new Map()));
      const key = `${this.subgraph}\n${sharingKey(query, variables)}`;
      const existing = inFlight.get(key);
      answer = existing ?? this.send(body, options);
      if (!existing) inFlight.set(key, answer);
    } else {
      answer = this.send(body, options);
    }
    const raw = await answer;
    if (raw.status < 200 || raw.status > 299) throw this.errorFromResponse(raw);
    const parsed: unknown = JSON.parse(raw.body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`the ${this.subgraph} service answered something other than a GraphQL response`);
    if (operation && raw.cacheControl) restrictCachePolicy(operation, raw.cacheControl);
    return positions ? expandEntities(parsed as DataSourceResponse, positions) : (parsed as DataSourceResponse);
  }

  private async send(body: string, options: ProcessOptions): Promise<RawAnswer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // Health checks and the gateway's own fetches have no caller.
    const context = options.context as Partial<GatewayContext>;
    if ('incomingRequestContext' in options && context.internalIdentity && context.requestId) {
      headers[INTERNAL_IDENTITY_HEADER] = await context.internalIdentity();
      headers[REQUEST_ID_HEADER] = context.requestId;
    }
    // One signal for the answer and its body: a subgraph that stalls mid-body times out too.
    const response = await undiciRequest(this.url, { method: 'POST', headers, body, dispatcher: this.dispatcher, signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await response.body.text();
    const cacheControl = response.headers['cache-control'];
    return { status: response.statusCode, body: text, cacheControl: Array.isArray(cacheControl) ? cacheControl.join(', ') : cacheControl };
  }

  /**
   * A subgraph answers 4xx with a GraphQL error body when a value in the operation is not
   * acceptable (a Date that is not a calendar date, say): the gateway's API schema cannot
   * check custom scalars, only the owning subgraph can. Pass that error on with its code,
   * instead of a bare "400: Bad Request" (which would also echo the subgraph's URL).
   */
  private errorFromResponse(raw: RawAnswer): GraphQLError {
    let first: { message?: unknown; extensions?: { code?: unknown } } | undefined;
    try {
      first = (JSON.parse(raw.body) as { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } | undefined)?.errors?.[0];
    } catch {
      first = undefined;
    }
    if (typeof first?.message === 'string') {
      const code = first.extensions?.code;
      // The operation already passed validation against the supergraph; what fails here is a value.
      const mapped = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_USER_INPUT' ? 'BAD_USER_INPUT' : isErrorCode(code) ? code : 'DOWNSTREAM_SERVICE_ERROR';
      return new GraphQLError(first.message, { extensions: { code: mapped, serviceName: this.subgraph } });
    }
    return new GraphQLError(`The ${this.subgraph} service answered ${raw.status}`, { extensions: { code: ErrorCode.DOWNSTREAM_SERVICE_ERROR, serviceName: this.subgraph } });
  }

  /** One error per field the failed fetch was to provide, with paths the federation executor turns into the client's. */
  private fetchFailed(request: ProcessOptions['request'], error: unknown): GraphQLFormattedError[] {
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

type Variables = Record<string, unknown> | undefined;

/**
 * An entity fetch names the same entity once per place it appears (the benchmark's query sends
 * product 1 two dozen times in one fetch): each distinct representation is sent once.
 * `positions[i]` is the index, among those sent, of the caller's representation `i`;
 * undefined when nothing repeats.
 */
function uniqueRepresentations(variables: Variables): { variables: Variables; positions?: number[] } {
  const representations = variables?.['representations'];
  if (!Array.isArray(representations) || representations.length < 2) return { variables };
  const indexByKey = new Map<string, number>();
  const unique: unknown[] = [];
  const positions = representations.map((representation: unknown) => {
    const key = JSON.stringify(representation);
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = unique.length;
      indexByKey.set(key, index);
      unique.push(representation);
    }
    return index;
  });
  return unique.length === representations.length ? { variables } : { variables: { ...variables, representations: unique }, positions };
}

/**
 * The answer to deduplicated representations, put back in the caller's order: one entity (a
 * copy of its own, since the executor merges into what it is given) per representation asked
 * for, and each error at `_entities.i` repeated at every place that entity stands for.
 */
function expandEntities(response: DataSourceResponse, positions: number[]): DataSourceResponse {
  const data = response.data as { _entities?: unknown } | null | undefined;
  const entities = Array.isArray(data?._entities) ? (data._entities as unknown[]) : undefined;
  const used = new Set<number>();
  const expanded = entities && positions.map((index) => {
    const entity = entities[index];
    if (!used.has(index)) {
      used.add(index);
      return entity;
    }
    return copyJson(entity);
  });
  const errors = response.errors?.flatMap((error) => {
    const [root, index, ...rest] = error.path ?? [];
    if (root !== '_entities' || typeof index !== 'number') return [error];
    return positions.flatMap((position, original) => (position === index ? [{ ...error, path: ['_entities', original, ...rest] }] : []));
  });
  return { ...response, ...(expanded ? { data: { ...data, _entities: expanded } } : {}), ...(errors ? { errors } : {}) };
}

function copyJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyJson);
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = copyJson(item);
  return copy;
}

/**
 * What makes two fetches the same read: the text without its operation name (the planner names
 * each fetch `Operation__subgraph__N`, so two identical reads at different places of a plan
 * differ only there) and the variables.
 */
function sharingKey(query: string, variables: Variables): string {
  return `${query.replace(/^query\s+[_A-Za-z][_0-9A-Za-z]*/, 'query')}\n${JSON.stringify(variables ?? {})}`;
}

/** A subgraph's Cache-Control narrows the operation's cache policy, as @apollo/gateway's own data source does. */
function restrictCachePolicy(operation: { overallCachePolicy?: unknown }, header: string): void {
  const policy = operation.overallCachePolicy as { restrict?(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }): void } | undefined;
  if (typeof policy?.restrict !== 'function') return;
  const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(header)?.[1];
  const scope = /(?:^|,)\s*private\b/.test(header) ? 'PRIVATE' : /(?:^|,)\s*public\b/.test(header) ? 'PUBLIC' : undefined;
  policy.restrict({ maxAge: maxAge ? Number(maxAge) : 0, ...(scope ? { scope } : {}) });
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
