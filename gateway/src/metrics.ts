import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
              const code = typeof error.extensions['code'] === 'string' ? error.extensions['code'] : 'INTERNAL_SERVER_ERROR';
              this.errors.inc({ operation: this.operationLabel(operationName), code });
            }
          },
        };
      },
    };
  }
}
