import { ApolloGateway, type GraphQLDataSource, type SupergraphSdlUpdateFunction } from '@apollo/gateway';
import { ApolloServer, HeaderMap, type ApolloServerOptions, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import {
  ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled, ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { maskUnexpectedErrors } from '../../subgraphs/kit/errors-format.js';
import type { Logger } from '../../subgraphs/kit/logger.js';
import type { GatewayContext } from './context.js';
import { CareGraphGateway } from './executor/gateway.js';
import { nulBytePlugin, schemaDetailsPlugin } from './limits/input.js';
import { aliasLimit, depthLimit } from './limits/rules.js';

export interface GatewayApolloOptions {
  supergraphSdl: string;
  production: boolean;
  limits: { maxDepth: number; maxAliases: number };
  log: Logger;
  /** The HTTP data source of each subgraph fetch. */
  dataSource(name: string): GraphQLDataSource<GatewayContext>;
  persistedQueries: ApolloServerOptions<GatewayContext>['persistedQueries'];
  plugins: Array<ApolloServerPlugin<GatewayContext>>;
}

export interface GatewayApollo {
  apollo: ApolloServer<GatewayContext>;
  /** Plans and runs the next HTTP operation against `supergraphSdl` (synchronously swapped). */
  serve(supergraphSdl: string): void;
}

/**
 * The GraphQL engine: Apollo Server over @apollo/gateway (supergraph loading) with Apollo's
 * federation planner and CareGraph's plan executor (executor/),
 * with the gateway's limits, error masking and hardening, and nothing that talks to Apollo's
 * cloud (usage and schema reporting, federated traces, @apollo/gateway's own telemetry).
 */
export async function startApollo(options: GatewayApolloOptions): Promise<GatewayApollo> {
  const { log, production } = options;
  // The SDL hook (rather than a static string) hands back `update`, through which a reload
  // swaps the schema and query planner of the running gateway.
  let update: SupergraphSdlUpdateFunction | undefined;
  const gateway = withoutApolloTelemetry(() => new ApolloGateway({
    supergraphSdl: async ({ update: hook }) => {
      update = hook;
      return { supergraphSdl: options.supergraphSdl };
    },
    logger: log,
    buildService: ({ name }) => options.dataSource(name),
  }));
  const apollo = new ApolloServer<GatewayContext>({
    gateway: new CareGraphGateway(gateway, options.dataSource),
    logger: log,
    introspection: !production,
    // Validation errors suggest names ("Did you mean…"); with introspection off they would leak the schema.
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    formatError: maskUnexpectedErrors(log),
    validationRules: [depthLimit(options.limits.maxDepth), aliasLimit(options.limits.maxAliases)],
    persistedQueries: options.persistedQueries,
    plugins: [
      // No Apollo Sandbox (a CDN page with telemetry): browsers get CareGraph's own explorer (routes/explorer.ts).
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      nulBytePlugin<GatewayContext>(),
      subscriptionsElsewhere<GatewayContext>(),
      // Variable coercion errors name expected types and fields too, past the hook Apollo strips suggestions in.
      ...(production ? [schemaDetailsPlugin<GatewayContext>()] : []),
      ...options.plugins,
    ],
  });
  await apollo.start();
  return {
    apollo,
    serve(supergraphSdl) {
      if (!update) throw new Error('the gateway has not loaded its first supergraph yet');
      update(supergraphSdl);
    },
  };
}

/**
 * @apollo/gateway's constructor starts an OpenTelemetry exporter to Apollo unless
 * APOLLO_TELEMETRY_DISABLED is set: it probes cloud metadata addresses (169.254.169.254,
 * 100.100.100.200) at start and sends usage data to usage-reporting.api.apollographql.com at
 * shutdown. The variable is its only switch and it reads it there alone, so it is set around
 * the constructor (whatever the environment says) and restored.
 */
function withoutApolloTelemetry<T>(build: () => T): T {
  const previous = process.env['APOLLO_TELEMETRY_DISABLED'];
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  try {
    return build();
  } finally {
    if (previous === undefined) delete process.env['APOLLO_TELEMETRY_DISABLED'];
    else process.env['APOLLO_TELEMETRY_DISABLED'] = previous;
  }
}

/**
 * A subscription sent as a plain HTTP request (POST or GET /graphql) is the client's mistake, not
 * a server failure: it is refused with 400 BAD_USER_INPUT naming where subscriptions are served.
 * (Apollo's executor would fail it as an internal error.) Streams never reach Apollo Server.
 */
function subscriptionsElsewhere<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError('Subscriptions are served over graphql-ws (WebSocket) at /graphql and graphql-sse at /graphql/stream, not over plain HTTP', {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400, headers: new HeaderMap() } },
          });
        },
      };
    },
  };
}
