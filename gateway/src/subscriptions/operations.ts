import type { ServiceMap } from '@apollo/gateway';
import type { ApolloServer } from '@apollo/server';
import {
  getOperationAST, getVariableValues, GraphQLError, parse, print, specifiedRules, validate,
  type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode, type ValidationRule,
} from 'graphql';
import { isSafelisted, type SafelistPolicy } from '../persisted/policy.js';
import { sha256Hex, type PersistedOperations } from '../persisted/manifest.js';
import { maskUnexpectedErrors } from '../../../subgraphs/kit/errors-format.js';
import type { Identity } from '../../../subgraphs/kit/identity.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { GatewayContext } from '../context.js';
import { hideSchemaDetails, nulByteError, nulByteIn } from '../limits/input.js';
import { aliasLimit, depthLimit } from '../limits/rules.js';
import type { GatewayMetrics } from '../metrics.js';
import { identityScope } from '../runtime/identity-scope.js';
import { inScope, type RequestScope } from '../runtime/request.js';
import type { IdentitySigner, SignedIdentity } from '../runtime/signer.js';
import { executeEvent } from './execute-event.js';
import type { SubscriptionPlan, SubscriptionPlanner } from './planner.js';
import { createSubscriberStream, type EndReason, type StreamResult, type SubscriberStream } from './stream.js';
import { UpstreamPool, type UpstreamLease } from './upstreams.js';

export type Transport = 'ws' | 'sse';

/** The limits the streaming transports enforce; all per gateway instance. */
export interface StreamingLimits {
  maxDepth: number;
  maxAliases: number;
  /** Open subscriptions on one WebSocket (an SSE stream carries exactly one). */
  maxSubscriptionsPerConnection: number;
  /** Open subscriptions of one identity scope across all its connections. */
  maxSubscriptionsPerIdentity: number;
  /** Open WebSockets plus SSE streams from one client address. */
  maxConnectionsPerAddress: number;
  /** Results buffered for one subscriber before it is ended as a slow consumer. */
  subscriptionBuffer: number;
}

/** A GraphQL request as both transports receive it. */
export interface OperationRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  extensions?: Record<string, unknown> | null;
}

export type PreparedOperation =
  | { kind: 'single'; operationType: 'query' | 'mutation'; request: OperationRequest; document: DocumentNode; operationName: string | undefined }
  | {
      kind: 'subscription';
      planner: SubscriptionPlanner;
      query: string;
      document: DocumentNode;
      operation: OperationDefinitionNode;
      operationName: string | undefined;
      /** The operation's own name (clients often send only the document): for metrics. */
      label: string | undefined;
      variables: Record<string, unknown>;
      plan: SubscriptionPlan;
    };

export type Prepared = { ok: true; operation: PreparedOperation } | { ok: false; errors: GraphQLFormattedError[] };
export type Subscribed = { ok: true; stream: SubscriberStream<StreamResult> } | { ok: false; errors: GraphQLFormattedError[] };

export interface FederatedOperationsOptions {
  apollo: ApolloServer<GatewayContext>;
  planner: SubscriptionPlanner;
  /** HTTP data sources by subgraph name, for the entity fetches of each event. */
  services: ServiceMap;
  /** http(s)://host:port of a subgraph, by name (read at each upstream connect). */
  subgraphUrl(name: string): string;
  signer: IdentitySigner;
  /** How long a subgraph may take to acknowledge an upstream subscription socket. */
  subgraphTimeoutMs?: number;
  limits: StreamingLimits;
  /** Production: validation and variable errors give no schema details (introspection is off). */
  hideSchemaDetails?: boolean;
  metrics: GatewayMetrics;
  log: Logger;
  /** Callers held to the manifest (BI and partner keys) may subscribe only with its operations. */
  trusted?: { policy: SafelistPolicy; operations: PersistedOperations };
}

/** Upstream events waiting for their execution, per shared subscription, before it is ended. */
const MIN_SOURCE_BACKLOG = 1_000;
/** setTimeout's ceiling (about 24.8 days); a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const error = (message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLFormattedError => ({ message, extensions: { ...extensions, code } });
const failure = (errors: GraphQLFormattedError[]): { ok: false; errors: GraphQLFormattedError[] } => ({ ok: false, errors });
const withCode = (errors: readonly GraphQLError[], code: string): GraphQLFormattedError[] =>
  errors.map((e) => ({ ...e.toJSON(), extensions: { ...e.extensions, code } }));

/** Variables as a value: key order does not make two subscriptions different. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The transport-neutral layer both streaming transports (graphql-ws, graphql-sse) sit on:
 * preparing an operation (parse, validate with the gateway's limits, plan), running queries and
 * mutations through Apollo Server, and running federated subscriptions: planned with the
 * federation query planner, the primary sent to the owning subgraph over graphql-ws with the
 * caller's signed identity, every event run through the rest of the plan.
 *
 * Identical subscriptions (same operation text and name, same variables, same identity
 * scope; see identityScope) share one upstream subscription and one execution per event;
 * each subscriber has its own bounded buffer, and the last to leave closes the upstream.
 */
export class FederatedOperations {
  private planner: SubscriptionPlanner;
  private services: ServiceMap;
  private readonly sources = new Map<string, SharedSubscription>();
  private readonly identityCounts = new Map<string, number>();
  private readonly addressCounts = new Map<string, number>();
  private readonly connections = new Set<OperationConnection>();
  private readonly pool: UpstreamPool;
  private readonly validationRules: ValidationRule[];
  readonly mask: (formatted: GraphQLFormattedError, original: unknown) => GraphQLFormattedError;

  constructor(readonly options: FederatedOperationsOptions) {
    this.planner = options.planner;
    this.services = options.services;
    this.pool = new UpstreamPool(options.subgraphUrl, options.signer, options.subgraphTimeoutMs);
    this.validationRules = [...specifiedRules, depthLimit(options.limits.maxDepth), aliasLimit(options.limits.maxAliases)];
    this.mask = maskUnexpectedErrors(options.log);
  }

  get limits(): StreamingLimits {
    return this.options.limits;
  }

  get metrics(): GatewayMetrics {
    return this.options.metrics;
  }

  /**
   * Takes a connection slot for a client address (WebSocket or SSE stream); undefined when the
   * address is at its limit. The returned function gives the slot back (idempotent).
   */
  acquireAddress(address: string, transport: Transport): (() => void) | undefined {
    const count = this.addressCounts.get(address) ?? 0;
    if (count >= this.limits.maxConnectionsPerAddress) {
      this.metrics.subscriptionRejections.inc({ limit: 'connections_per_address' });
      return undefined;
    }
    this.addressCounts.set(address, count + 1);
    this.metrics.subscriptionConnections.inc({ transport });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.metrics.subscriptionConnections.dec({ transport });
      const remaining = (this.addressCounts.get(address) ?? 1) - 1;
      if (remaining > 0) this.addressCounts.set(address, remaining);
      else this.addressCounts.delete(address);
    };
  }

  tooManyConnections(): GraphQLFormattedError {
    const limit = this.limits.maxConnectionsPerAddress;
    return error(`Too many open connections from this address (at most ${limit})`, 'TOO_MANY_CONNECTIONS', { limit });
  }

  /** A verified caller's connection (a WebSocket after connection_init, or one SSE stream). */
  connect(init: { transport: Transport; identity: Identity; expiresAt: number | null; address: string; scope: RequestScope; onExpired?: (drained: Promise<void>) => void }): OperationConnection {
    const connection = new OperationConnection(this, init.transport, init.identity, init.expiresAt, init.address, init.scope, init.onExpired);
    this.connections.add(connection);
    return connection;
  }

  /** @internal for OperationConnection */
  forget(connection: OperationConnection): void {
    this.connections.delete(connection);
  }

  /** Whether a safelisted caller's subscription text is one of the manifest's operations. */
  admits(identity: Identity, query: string, document: DocumentNode): boolean {
    const trusted = this.options.trusted;
    if (!trusted || !isSafelisted(trusted.policy, identity)) return true;
    return Boolean(trusted.operations.byId(sha256Hex(query)) ?? trusted.operations.byId(sha256Hex(print(document))));
  }

  prepare(request: OperationRequest): Prepared {
    // Checked before parsing: a raw NUL would otherwise be a parse error, not the input problem it is.
    const raw = nulByteIn({ query: request.query, variables: request.variables });
    if (raw) return failure([nulByteError(raw)]);
    let document: DocumentNode;
    try {
      document = parse(request.query);
    } catch (e) {
      return failure(withCode([e instanceof GraphQLError ? e : new GraphQLError('query does not parse')], 'GRAPHQL_PARSE_FAILED'));
    }
    const operationName = request.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return failure([error('Unable to identify operation', 'BAD_REQUEST')]);
    // Queries and mutations are validated by Apollo Server, with the same rules as over HTTP.
    if (operation.operation !== 'subscription') {
      return { ok: true, operation: { kind: 'single', operationType: operation.operation, request, document, operationName } };
    }
    const planner = this.planner;
    const label = operation.name?.value ?? operationName;
    const refuse = (errors: GraphQLFormattedError[]): Prepared => {
      this.countRefusal(label, errors);
      return failure(errors);
    };
    // graphql-js validation does not check that the schema has the root type at all.
    if (!planner.apiGraphQLSchema.getSubscriptionType()) return refuse([error('The schema has no subscriptions', 'GRAPHQL_VALIDATION_FAILED')]);
    const validationErrors = validate(planner.apiGraphQLSchema, document, this.validationRules);
    if (validationErrors.length > 0) return refuse(this.clientErrors(request, validationErrors, 'GRAPHQL_VALIDATION_FAILED'));
    const literal = nulByteIn({ document });
    if (literal) return refuse([nulByteError(literal)]);
    const variables = request.variables ?? {};
    const coerced = getVariableValues(planner.apiGraphQLSchema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return refuse(this.clientErrors(request, coerced.errors, 'BAD_USER_INPUT'));
    let plan: SubscriptionPlan;
    try {
      plan = planner.plan(request.query, document, operationName);
    } catch (e) {
      // The planner refuses what validation let through (federation-specific rules): the
      // client's operation is at fault. Anything else is a gateway bug, masked.
      if (e instanceof GraphQLError) return refuse(withCode([e], 'GRAPHQL_VALIDATION_FAILED'));
      this.options.log.error({ err: e }, 'subscription planning failed');
      return refuse([error('Internal server error', 'INTERNAL_SERVER_ERROR')]);
    }
    return { ok: true, operation: { kind: 'subscription', planner, query: request.query, document, operation, operationName, label, variables, plan } };
  }

  /** Validation and coercion errors as the client sees them: coded, and without schema details in production. */
  private clientErrors(request: OperationRequest, errors: readonly GraphQLError[], code: string): GraphQLFormattedError[] {
    const formatted = withCode(errors, code);
    return this.options.hideSchemaDetails ? hideSchemaDetails(formatted, request) : formatted;
  }

  /** The context of an operation (or a subscription's events) for `identity`, in the request `scope`. */
  contextFor(identity: Identity, scope: RequestScope, internalIdentity: SignedIdentity = this.options.signer.holder(identity)): GatewayContext {
    return { identity, internalIdentity, requestId: scope.requestId, log: scope.log };
  }

  /** A query or mutation through Apollo Server: same validation, limits, plugins and masking as HTTP. */
  async execute(identity: Identity, scope: RequestScope, operation: Extract<PreparedOperation, { kind: 'single' }>): Promise<StreamResult> {
    const { query, variables, operationName, extensions } = operation.request;
    const response = await inScope(scope, () => this.options.apollo.executeOperation(
      { query, variables: variables ?? undefined, operationName: operationName ?? undefined, extensions: extensions ?? undefined },
      { contextValue: this.contextFor(identity, scope) },
    ));
    if (response.body.kind !== 'single') return { errors: [error('incremental delivery is not supported on streaming transports', 'BAD_REQUEST')] };
    const { data, errors, extensions: resultExtensions } = response.body.singleResult;
    return {
      ...(data !== undefined ? { data: data as Record<string, unknown> | null } : {}),
      ...(errors ? { errors } : {}),
      ...(resultExtensions ? { extensions: resultExtensions } : {}),
    };
  }

  /** @internal for OperationConnection: admits a subscription against the limits and joins or starts its source. */
  subscribe(connection: OperationConnection, operation: Extract<PreparedOperation, { kind: 'subscription' }>): Subscribed {
    const { limits, metrics } = this;
    const refuse = (errors: GraphQLFormattedError[]): Subscribed => {
      this.countRefusal(operation.label, errors);
      return failure(errors);
    };
    if (connection.expired) return refuse([expiredError()]);
    // Prepared against a supergraph that has since been replaced: its plan may not hold.
    if (operation.planner !== this.planner) return refuse([reloadError()]);
    if (connection.subscriptionCount >= limits.maxSubscriptionsPerConnection) {
      metrics.subscriptionRejections.inc({ limit: 'subscriptions_per_connection' });
      const limit = limits.maxSubscriptionsPerConnection;
      return refuse([error(`Too many subscriptions on this connection (at most ${limit})`, 'TOO_MANY_SUBSCRIPTIONS', { scope: 'connection', limit })]);
    }
    const scope = identityScope(connection.identity);
    // Anonymous callers are one identity; count them per address so one cannot starve the rest.
    const identityKey = connection.identity.kind === 'anonymous' ? `anonymous@${connection.address}` : scope;
    const held = this.identityCounts.get(identityKey) ?? 0;
    if (held >= limits.maxSubscriptionsPerIdentity) {
      metrics.subscriptionRejections.inc({ limit: 'subscriptions_per_identity' });
      const limit = limits.maxSubscriptionsPerIdentity;
      return refuse([error(`Too many open subscriptions for this identity (at most ${limit})`, 'TOO_MANY_SUBSCRIPTIONS', { scope: 'identity', limit })]);
    }

    const key = `${scope}\u0000${operation.operationName ?? ''}\u0000${operation.query}\u0000${canonicalJson(operation.variables)}`;
    let source = this.sources.get(key);
    if (!source) {
      try {
        source = new SharedSubscription(this, key, operation, connection.identity, scope, connection.scope);
      } catch (e) {
        this.options.log.error({ err: e }, 'could not open an upstream subscription');
        return refuse([error('Internal server error', 'INTERNAL_SERVER_ERROR')]);
      }
      this.sources.set(key, source);
      source.start();
    }
    const shared = source;
    const transport = connection.transport;
    const stream = createSubscriberStream<StreamResult>({
      limit: limits.subscriptionBuffer,
      overflow: () => ({
        data: null,
        errors: [error(`The client did not read events fast enough; more than ${limits.subscriptionBuffer} were waiting`, 'SLOW_CONSUMER', { limit: limits.subscriptionBuffer })],
      }),
      onClose: (reason) => {
        shared.remove(stream);
        connection.detach(stream);
        const remaining = (this.identityCounts.get(identityKey) ?? 1) - 1;
        if (remaining > 0) this.identityCounts.set(identityKey, remaining);
        else this.identityCounts.delete(identityKey);
        metrics.subscriptionsActive.dec({ transport });
        metrics.subscriptionsEnded.inc({ reason });
        if (reason === 'slow_consumer') this.options.log.warn({ transport, operation: operation.label }, 'subscriber ended as a slow consumer');
      },
    });
    this.identityCounts.set(identityKey, held + 1);
    connection.attach(stream);
    shared.add(stream, transport);
    metrics.subscriptionsActive.inc({ transport });
    metrics.requests.inc({ operation: metrics.operationLabel(operation.label), type: 'subscription', outcome: 'ok' });
    return { ok: true, stream };
  }

  /**
   * A new supergraph: new subscriptions are planned against it; every open one ends with
   * SUBSCRIPTION_SCHEMA_RELOAD (its plan, even its fields, may no longer exist), so clients
   * resubscribe against the new schema.
   */
  reload(planner: SubscriptionPlanner, services: ServiceMap): void {
    this.planner = planner;
    this.services = services;
    for (const source of [...this.sources.values()]) source.failAll({ data: null, errors: [reloadError()] }, 'reload', false);
  }

  get currentPlanner(): SubscriptionPlanner {
    return this.planner;
  }

  /** @internal for SharedSubscription */
  get currentServices(): ServiceMap {
    return this.services;
  }

  /** @internal for SharedSubscription */
  acquireUpstream(scope: string, identity: Identity, subgraph: string): UpstreamLease {
    return this.pool.acquire(scope, identity, subgraph);
  }

  /** @internal for SharedSubscription */
  dropSource(key: string, source: SharedSubscription): void {
    if (this.sources.get(key) === source) this.sources.delete(key);
  }

  /** Open upstream subscriptions (after deduplication). */
  get upstreamCount(): number {
    return this.sources.size;
  }

  async close(): Promise<void> {
    for (const connection of [...this.connections]) connection.close('shutdown');
    for (const source of [...this.sources.values()]) source.endAll('shutdown');
    await this.pool.closeAll();
  }

  private countRefusal(operationName: string | undefined, errors: GraphQLFormattedError[]): void {
    const operation = this.metrics.operationLabel(operationName);
    this.metrics.requests.inc({ operation, type: 'subscription', outcome: 'error' });
    for (const e of errors) {
      const code = e.extensions?.['code'];
      this.metrics.errors.inc({ operation, code: typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR' });
    }
  }
}

const expiredError = (): GraphQLFormattedError =>
  error('The credential has expired; sign in again and resubscribe', 'UNAUTHENTICATED', { reason: 'CREDENTIAL_EXPIRED' });
const reloadError = (): GraphQLFormattedError =>
  error('The gateway loaded a new schema; subscribe again', 'SUBSCRIPTION_SCHEMA_RELOAD');

/**
 * One caller's connection, whatever the transport: the identity verified when it opened, its
 * subscriptions (for the per-connection limit and for teardown), and the credential's expiry,
 * at which every subscription on it ends with UNAUTHENTICATED.
 */
export class OperationConnection {
  private readonly streams = new Set<SubscriberStream<StreamResult>>();
  private timer: NodeJS.Timeout | undefined;
  private state: 'open' | 'expired' | 'closed' = 'open';

  constructor(
    private readonly operations: FederatedOperations,
    readonly transport: Transport,
    readonly identity: Identity,
    readonly expiresAt: number | null,
    readonly address: string,
    /** The request that opened the connection (the WebSocket upgrade, the SSE request): its id and logger. */
    readonly scope: RequestScope,
    private readonly onExpired?: (drained: Promise<void>) => void,
  ) {
    if (expiresAt !== null) this.arm(expiresAt);
  }

  get expired(): boolean {
    return this.state === 'expired' || (this.expiresAt !== null && Date.now() >= this.expiresAt);
  }

  get subscriptionCount(): number {
    return this.streams.size;
  }

  prepare(request: OperationRequest): Prepared {
    if (this.expired) return failure([expiredError()]);
    const prepared = this.operations.prepare(request);
    // Queries and mutations meet the safelist in Apollo's plugin; subscriptions bypass Apollo.
    if (prepared.ok && prepared.operation.kind === 'subscription' && !this.operations.admits(this.identity, request.query, prepared.operation.document)) {
      return failure([error('This credential may run only the published operations', 'OPERATION_NOT_ALLOWED')]);
    }
    return prepared;
  }

  execute(operation: Extract<PreparedOperation, { kind: 'single' }>): Promise<StreamResult> {
    if (this.expired) return Promise.resolve({ errors: [expiredError()] });
    return this.operations.execute(this.identity, this.scope, operation);
  }

  subscribe(operation: Extract<PreparedOperation, { kind: 'subscription' }>): Subscribed {
    if (this.state === 'closed') return failure([error('The connection is closed', 'BAD_REQUEST')]);
    return this.operations.subscribe(this, operation);
  }

  /** @internal */
  attach(stream: SubscriberStream<StreamResult>): void {
    this.streams.add(stream);
  }

  /** @internal */
  detach(stream: SubscriberStream<StreamResult>): void {
    this.streams.delete(stream);
  }

  /** Ends every subscription on this connection (the client left, or the gateway stops). */
  close(reason: EndReason = 'connection_closed'): void {
    if (this.timer) clearTimeout(this.timer);
    this.state = 'closed';
    for (const stream of [...this.streams]) stream.end(reason);
    this.operations.forget(this);
  }

  private arm(expiresAt: number): void {
    const delay = Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      if (Date.now() < expiresAt) return this.arm(expiresAt);
      this.expire();
    }, delay);
    // An expiry timer alone must not keep the process alive.
    this.timer.unref();
  }

  private expire(): void {
    if (this.state !== 'open') return;
    this.state = 'expired';
    const streams = [...this.streams];
    // Events still buffered were resolved for a credential that has now lapsed: dropped.
    for (const stream of streams) stream.fail({ data: null, errors: [expiredError()] }, 'expired', { discard: true });
    this.onExpired?.(Promise.all(streams.map((stream) => stream.drained)).then(() => undefined));
  }
}

/**
 * One upstream subscription and the subscribers that share it. Each event is run through the
 * rest of the plan once, with the shared identity, and the result handed to every subscriber's
 * own bounded buffer, so one slow subscriber never holds the others back.
 */
class SharedSubscription {
  private readonly subscribers = new Map<SubscriberStream<StreamResult>, Transport>();
  private readonly lease: UpstreamLease;
  /** Every event runs for the request that opened the upstream: its id goes to each entity fetch and log line. */
  private readonly context: GatewayContext;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  /** Events received and not yet executed: bounded like a subscriber's buffer. */
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly operations: FederatedOperations,
    private readonly key: string,
    private readonly operation: Extract<PreparedOperation, { kind: 'subscription' }>,
    identity: Identity,
    scope: string,
    opener: RequestScope,
  ) {
    // One signed identity for the subscription's life, re-signed before it lapses (events outlive tokens).
    this.context = operations.contextFor(identity, opener);
    this.lease = operations.acquireUpstream(scope, identity, operation.plan.primary.serviceName);
    operations.metrics.subscriptionUpstreamsActive.inc();
  }

  start(): void {
    const { primary } = this.operation.plan;
    const variables: Record<string, unknown> = {};
    for (const name of primary.variableUsages ?? []) if (name in this.operation.variables) variables[name] = this.operation.variables[name];
    this.unsubscribe = this.lease.client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query: primary.operation, operationName: primary.operationName, variables },
      {
        next: (event) => this.onEvent(event),
        error: (e) => this.enqueue(async () => this.failAll({ data: null, errors: upstreamErrors(e, primary.serviceName, this.context.log) }, 'upstream_error', false)),
        complete: () => this.enqueue(async () => this.endAll('complete')),
      },
    );
  }

  add(stream: SubscriberStream<StreamResult>, transport: Transport): void {
    this.subscribers.set(stream, transport);
  }

  remove(stream: SubscriberStream<StreamResult>): void {
    this.subscribers.delete(stream);
    if (this.subscribers.size === 0) this.stop();
  }

  failAll(last: StreamResult, reason: EndReason, discard: boolean): void {
    for (const stream of [...this.subscribers.keys()]) stream.fail(last, reason, { discard });
    this.stop();
  }

  endAll(reason: EndReason): void {
    for (const stream of [...this.subscribers.keys()]) stream.end(reason);
    this.stop();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.operations.dropSource(this.key, this);
    this.operations.metrics.subscriptionUpstreamsActive.dec();
    // Completes the upstream subscription; the pooled socket closes with its last lease.
    this.unsubscribe?.();
    this.lease.release();
  }

  private onEvent(event: StreamResult): void {
    if (this.stopped) return;
    // Larger than a subscriber's buffer: a burst from the subgraph is normal, a standing backlog is not.
    const limit = Math.max(MIN_SOURCE_BACKLOG, this.operations.limits.subscriptionBuffer * 4);
    if (this.pending >= limit) {
      // The gateway itself cannot execute events as fast as they arrive (a slow entity fetch):
      // a backlog without bound would grow memory, so the shared subscription ends for all.
      const message = `The gateway fell more than ${limit} events behind this subscription`;
      this.failAll({ data: null, errors: [error(message, 'SLOW_CONSUMER', { limit })] }, 'slow_consumer', true);
      return;
    }
    this.pending += 1;
    this.enqueue(async () => {
      try {
        if (this.stopped) return;
        const { planner } = this.operation;
        const result = await inScope(this.context, () => executeEvent(planner, this.operations.currentServices, { ...this.operation, context: this.context }, event, this.operations.mask, this.context.log));
        if (this.stopped) return;
        const metrics = this.operations.metrics;
        metrics.subscriptionEvents.inc({ operation: metrics.operationLabel(this.operation.label) });
        for (const [stream, transport] of [...this.subscribers]) {
          stream.push(result);
          metrics.subscriptionMessages.inc({ transport });
        }
      } finally {
        this.pending -= 1;
      }
    });
  }

  /** Events are resolved one after another, so every subscriber sees them in the order they happened. */
  private enqueue(step: () => Promise<void>): void {
    this.tail = this.tail.then(step).catch((e: unknown) => {
      this.context.log.error({ err: e }, 'subscription event failed');
      for (const stream of this.subscribers.keys()) stream.push({ data: null, errors: [error('Internal server error', 'INTERNAL_SERVER_ERROR')] });
    });
  }
}

/** Why an upstream subscription ended badly, as the errors of the client's last event. */
function upstreamErrors(e: unknown, serviceName: string, log: Logger): GraphQLFormattedError[] {
  // The subgraph refused the operation (an `error` message): its errors already carry codes.
  if (Array.isArray(e) && e.every((item) => typeof item === 'object' && item !== null && typeof (item as { message?: unknown }).message === 'string')) {
    return (e as GraphQLFormattedError[]).map((item) => ({ message: item.message, extensions: { ...item.extensions, serviceName } }));
  }
  const code = typeof e === 'object' && e !== null && 'code' in e ? (e as { code: unknown }).code : undefined;
  log.warn({ serviceName, closeCode: code }, 'upstream subscription failed');
  return [{ message: `The subscription source ${serviceName} failed`, extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName } }];
}
