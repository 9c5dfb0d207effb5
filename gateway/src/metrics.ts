import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isErrorCode } from '../../subgraphs/kit/errors.js';

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 500;

/** Prometheus metrics for the gateway: requests and latency by operation, subgraph fetches, errors. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly seenOperations = new Set<string>();

  readonly requests = new Counter({
    name: 'caregraph_graphql_requests_total',
    help: 'GraphQL requests by operation and outcome',
    labelNames: ['operation', 'type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'caregraph_graphql_request_duration_seconds',
    help: 'GraphQL request latency by operation',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'caregraph_graphql_errors_total',
    help: 'GraphQL errors by operation and code',
    labelNames: ['operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly subgraphFetchDuration = new Histogram({
    name: 'caregraph_subgraph_fetch_duration_seconds',
    help: 'Latency of the gateway’s fetches to each subgraph',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly httpResponses = new Counter({
    name: 'caregraph_http_responses_total',
    help: 'HTTP responses by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  /**
   * The persisted-query response cache, by manifest operation (a bounded set): `hit` and `miss`
   * per lookup, `store` per response written, `invalidated` each time an event (or a supergraph
   * reload) dropped the operation's entries.
   */
  readonly persistedCache = new Counter({
    name: 'caregraph_persisted_cache_total',
    help: 'Persisted-query response cache lookups, stores and invalidations by operation',
    labelNames: ['operation', 'result'] as const,
    registers: [this.registry],
  });

  /** Client subscriptions open now (each subscriber counts, shared upstreams or not). */
  readonly subscriptionsActive = new Gauge({
    name: 'caregraph_subscriptions_active',
    help: 'Open client subscriptions by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  /** Upstream subscriptions to subgraphs: below subscriptionsActive when deduplication shares them. */
  readonly subscriptionUpstreamsActive = new Gauge({
    name: 'caregraph_subscription_upstreams_active',
    help: 'Upstream subgraph subscriptions open (shared by identical client subscriptions)',
    registers: [this.registry],
  });
  readonly subscriptionConnections = new Gauge({
    name: 'caregraph_subscription_connections_active',
    help: 'Open streaming connections (WebSocket sockets, SSE streams) by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly subscriptionEvents = new Counter({
    name: 'caregraph_subscription_events_total',
    help: 'Upstream subscription events executed through the rest of their plan, by operation',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly subscriptionMessages = new Counter({
    name: 'caregraph_subscription_messages_total',
    help: 'Subscription results handed to clients, by transport',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly subscriptionsEnded = new Counter({
    name: 'caregraph_subscriptions_ended_total',
    help: 'Client subscriptions ended, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly subscriptionRejections = new Counter({
    name: 'caregraph_subscription_rejections_total',
    help: 'Connections and subscriptions refused by a limit, by limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

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
