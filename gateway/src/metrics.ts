import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isErrorCode } from '../../subgraphs/kit/errors.js';

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 500;

/** Prometheus metrics for the gateway: requests and latency by operation, subgraph fetches, errors. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly seenOperations = new Set<string>();

  // Declared on the prototype, so the field initializers below can use them.
  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  readonly requests = this.counter('caregraph_graphql_requests_total', 'GraphQL requests by operation and outcome', ['operation', 'type', 'outcome'] as const);
  readonly requestDuration = new Histogram({
    name: 'caregraph_graphql_request_duration_seconds',
    help: 'GraphQL request latency by operation',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly errors = this.counter('caregraph_graphql_errors_total', 'GraphQL errors by operation and code', ['operation', 'code'] as const);
  readonly subgraphFetchDuration = new Histogram({
    name: 'caregraph_subgraph_fetch_duration_seconds',
    help: 'Latency of the gateway’s fetches to each subgraph',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** Queries answered by sharing the answer of an identical query running for the same identity (runtime/inflight.ts). */
  readonly inflightShared = this.counter('caregraph_graphql_inflight_shared_total', 'Queries answered with the answer of an identical query already running for the same identity');
  readonly inflightWaiting = this.gauge('caregraph_graphql_inflight_waiting', 'Queries waiting now for the answer of an identical query running for the same identity');
  readonly httpResponses = this.counter('caregraph_http_responses_total', 'HTTP responses by route and status', ['route', 'status'] as const);

  /**
   * The persisted-query response cache, by manifest operation (a bounded set): `hit` and `miss`
   * per lookup, `store` per response written, `invalidated` each time an event (or a supergraph
   * reload) dropped the operation's entries.
   */
  readonly persistedCache = this.counter('caregraph_persisted_cache_total', 'Persisted-query response cache lookups, stores and invalidations by operation', ['operation', 'result'] as const);

  /** Client subscriptions open now (each subscriber counts, shared upstreams or not). */
  readonly subscriptionsActive = this.gauge('caregraph_subscriptions_active', 'Open client subscriptions by transport', ['transport'] as const);
  /** Upstream subscriptions to subgraphs: below subscriptionsActive when deduplication shares them. */
  readonly subscriptionUpstreamsActive = this.gauge('caregraph_subscription_upstreams_active', 'Upstream subgraph subscriptions open (shared by identical client subscriptions)');
  readonly subscriptionConnections = this.gauge('caregraph_subscription_connections_active', 'Open streaming connections (WebSocket sockets, SSE streams) by transport', ['transport'] as const);
  readonly subscriptionEvents = this.counter('caregraph_subscription_events_total', 'Upstream subscription events executed through the rest of their plan, by operation', ['operation'] as const);
  readonly subscriptionMessages = this.counter('caregraph_subscription_messages_total', 'Subscription results handed to clients, by transport', ['transport'] as const);
  readonly subscriptionsEnded = this.counter('caregraph_subscriptions_ended_total', 'Client subscriptions ended, by reason', ['reason'] as const);
  readonly subscriptionRejections = this.counter('caregraph_subscription_rejections_total', 'Connections and subscriptions refused by a limit, by limit', ['limit'] as const);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'caregraph_gateway_' });
  }

  /** Operation names are client input: keep label cardinality bounded. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!NAME_PATTERN.test(name)) return 'invalid';
    if (this.seenOperations.has(name)) return name;
    if (this.seenOperations.size >= MAX_OPERATION_LABELS) return 'other';
    this.seenOperations.add(name);
    return name;
  }

  apolloPlugin<C extends object>(): ApolloServerPlugin<C> {
    return {
      requestDidStart: async () => {
        const started = process.hrtime.bigint();
        return {
          willSendResponse: async ({ operationName, operation, errors }) => {
            const labels = { operation: this.operationLabel(operationName), type: operation?.operation ?? 'unknown' };
            this.requestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
            this.requests.inc({ ...labels, outcome: errors && errors.length > 0 ? 'error' : 'ok' });
          },
          didEncounterErrors: async ({ operationName, errors }) => {
            for (const error of errors) {
              // Not every error here is a GraphQLError (a federation fetch may throw anything): read defensively.
              const raw: unknown = (error as { extensions?: Record<string, unknown> }).extensions?.['code'];
              const code = isErrorCode(raw) ? raw : 'INTERNAL_SERVER_ERROR';
              this.errors.inc({ operation: this.operationLabel(operationName), code });
            }
          },
        };
      },
    };
  }
}
