import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { INTERNAL_IDENTITY_HEADER } from '../../subgraphs/kit/identity.js';
import type { GatewayContext } from './context.js';
import type { GatewayMetrics } from './metrics.js';

/** Forwards each subgraph fetch with the caller's signed identity, and times it. */
export class SignedIdentityDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraph: string,
    url: string,
    private readonly metrics: GatewayMetrics,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    // Health checks and the gateway's own fetches have no request context.
    if (!('internalIdentityToken' in context) || !request.http) return;
    request.http.headers.set(INTERNAL_IDENTITY_HEADER, context.internalIdentityToken);
    request.http.headers.set('x-request-id', context.requestId);
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
      const mapped = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_USER_INPUT' ? 'BAD_USER_INPUT' : typeof code === 'string' ? code : 'DOWNSTREAM_SERVICE_ERROR';
      return new GraphQLError(first.message, { extensions: { code: mapped, serviceName: this.subgraph } });
    }
    return new GraphQLError(`subgraph ${this.subgraph} answered ${response.status}`, { extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: this.subgraph } });
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const started = process.hrtime.bigint();
    let outcome = 'ok';
    try {
      const response = await super.process(options);
      if (response.errors?.length) outcome = 'error';
      return response;
    } catch (error) {
      outcome = 'failed';
      throw error;
    } finally {
      this.metrics.subgraphFetchDuration.observe({ subgraph: this.subgraph, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}
