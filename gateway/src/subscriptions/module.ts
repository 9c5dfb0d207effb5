import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { GatewayContext } from '../context.js';
import type { GatewayMetrics } from '../metrics.js';
import type { PersistedOperations } from '../persisted/manifest.js';
import type { SafelistPolicy } from '../persisted/policy.js';
import type { GatewayModule } from '../runtime/router.js';
import type { IdentitySigner } from '../runtime/signer.js';
import type { Subgraphs } from '../runtime/subgraphs.js';
import { FederatedOperations, type StreamingLimits } from './operations.js';
import { SubscriptionPlanner } from './planner.js';
import { createSseHandler } from './sse.js';
import { serveGatewaySockets, type GatewaySockets } from './ws.js';

export interface SubscriptionsModuleOptions {
  apollo: ApolloServer<GatewayContext>;
  supergraphSdl: string;
  subgraphs: Subgraphs;
  signer: IdentitySigner;
  authenticator: Authenticator;
  limits: StreamingLimits;
  metrics: GatewayMetrics;
  log: Logger;
  production: boolean;
  trusted: { policy: SafelistPolicy; operations: PersistedOperations };
}

export interface SubscriptionsModule extends GatewayModule {
  /**
   * Plans a new supergraph (throws on an invalid one, changing nothing); `apply` then serves
   * it: new subscriptions plan against it, open ones end with SUBSCRIPTION_SCHEMA_RELOAD.
   */
  prepareReload(supergraphSdl: string): { subgraphNames: string[]; apply(): void };
}

/**
 * Federated subscriptions (and queries and mutations over the same transports): graphql-ws on
 * the `/graphql` upgrade, graphql-sse at `/graphql/stream`, a path of its own so that a plain
 * GET or POST to /graphql stays exactly GraphQL over HTTP.
 */
export function subscriptionsModule(options: SubscriptionsModuleOptions): SubscriptionsModule {
  const { subgraphs, metrics } = options;
  /** HTTP data sources for the entity fetches of subscription events, by subgraph name. */
  const dataSources = (planner: SubscriptionPlanner) =>
    Object.fromEntries(planner.subgraphNames.map((name) => [name, subgraphs.dataSource(name, metrics)]));
  const planner = new SubscriptionPlanner(options.supergraphSdl);
  const operations = new FederatedOperations({
    apollo: options.apollo,
    planner,
    services: dataSources(planner),
    subgraphUrl: (name) => subgraphs.url(name),
    signer: options.signer,
    subgraphTimeoutMs: subgraphs.timeoutMs,
    limits: options.limits,
    metrics,
    log: options.log,
    hideSchemaDetails: options.production,
    trusted: options.trusted,
  });
  const sse = createSseHandler({ operations, authenticator: options.authenticator });
  let sockets: GatewaySockets | undefined;
  return {
    name: 'subscriptions',
    routes: [{ method: '*', path: '/graphql/stream', handle: sse }],
    attach(server: Server) {
      sockets = serveGatewaySockets({ server, operations, authenticator: options.authenticator, log: options.log });
    },
    prepareReload(supergraphSdl) {
      const next = new SubscriptionPlanner(supergraphSdl);
      // Data sources are built on apply, once the new subgraph addresses are in.
      return { subgraphNames: next.subgraphNames, apply: () => operations.reload(next, dataSources(next)) };
    },
    async close() {
      // Open sockets first: an upgraded connection would keep the HTTP server from closing.
      await sockets?.close();
      await operations.close();
    },
  };
}
