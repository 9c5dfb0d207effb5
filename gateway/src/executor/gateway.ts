import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import type { ApolloGateway, GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import { QueryPlanner } from '@apollo/query-planner';
import type {
  GatewayExecutionResult, GatewayExecutor, GatewayGraphQLRequestContext, GatewayInterface, GatewayLoadResult, GatewaySchemaLoadOrUpdateCallback, GatewayUnsubscriber,
} from '@apollo/server-gateway-interface';
import { getOperationAST, getVariableValues, type GraphQLSchema, type VariableDefinitionNode } from 'graphql';
import { executePlan, type ExecutableOperation } from './execute-plan.js';
import { compileResponseShape } from './shape-response.js';

/** Operations are few and repeated (the frontends' and the safelist's); the cap only bounds abuse. */
const MAX_PREPARED_OPERATIONS = 1_000;

/**
 * The gateway Apollo Server runs: @apollo/gateway loads and reloads the supergraph and gives
 * Apollo Server its API schema, and CareGraph's executor runs the operations. Each distinct
 * operation is planned once by Apollo's query planner and its response shape compiled once;
 * after that a request only validates its variables and executes the plan (`executePlan`).
 * Operations that select schema introspection run through @apollo/gateway's own executor.
 */
export class CareGraphGateway implements GatewayInterface {
  private federation: Federation | undefined;
  private apolloExecutor: GatewayExecutor | undefined;

  constructor(
    private readonly apollo: ApolloGateway,
    dataSource: (name: string) => GraphQLDataSource,
  ) {
    // Registered before the first load, so the first supergraph is prepared too; called
    // synchronously on every reload, so the next request runs against the new supergraph.
    apollo.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
      this.federation = new Federation(coreSupergraphSdl, dataSource);
    });
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback): GatewayUnsubscriber {
    return this.apollo.onSchemaLoadOrUpdate(callback);
  }

  async load(options: Parameters<GatewayInterface['load']>[0]): Promise<GatewayLoadResult> {
    const { executor } = await this.apollo.load(options);
    this.apolloExecutor = executor ?? undefined;
    return { executor: (requestContext) => this.execute(requestContext) };
  }

  stop(): Promise<void> {
    return this.apollo.stop();
  }

  private async execute(requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult> {
    const federation = this.federation;
    if (!federation || !this.apolloExecutor) throw new Error('the gateway has not loaded a supergraph yet');
    const prepared = federation.prepare(requestContext);
    if (!prepared.executable) return this.apolloExecutor(requestContext);
    if (prepared.hasVariables) {
      // As @apollo/gateway does: Apollo Server leaves variable coercion to the gateway.
      const { errors } = getVariableValues(requestContext.schema, prepared.variableDefinitions, requestContext.request.variables ?? {});
      if (errors) return { errors };
    }
    return executePlan(prepared.executable, federation.services, requestContext, federation.supergraphSchema);
  }
}

interface PreparedOperation {
  /** Undefined when the operation selects schema introspection (Apollo's executor answers it). */
  executable: ExecutableOperation | undefined;
  hasVariables: boolean;
  variableDefinitions: readonly VariableDefinitionNode[];
}

/** One loaded supergraph: its planner, its subgraphs' data sources and the operations prepared against it. */
class Federation {
  readonly supergraphSchema: GraphQLSchema;
  readonly services: ServiceMap;
  private readonly apiSchema: Schema;
  private readonly planner: QueryPlanner;
  private readonly prepared = new Map<string, PreparedOperation>();

  constructor(supergraphSdl: string, dataSource: (name: string) => GraphQLDataSource) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.apiSchema = supergraph.apiSchema();
    this.planner = new QueryPlanner(supergraph);
    this.services = Object.create(null) as ServiceMap;
    for (const { name } of supergraph.subgraphsMetadata()) this.services[name] = dataSource(name);
  }

  /** The operation's plan and shape, by its text's hash and name (Apollo Server has validated the document against the API schema). */
  prepare(requestContext: GatewayGraphQLRequestContext): PreparedOperation {
    const { document, queryHash, request } = requestContext;
    const key = `${request.operationName ?? ''}\u0000${queryHash}`;
    const cached = this.prepared.get(key);
    if (cached) return cached;
    const definition = getOperationAST(document, request.operationName);
    if (!definition) throw new Error('the document has no operation of that name');
    const operation = operationFromDocument(this.apiSchema, document, { operationName: request.operationName });
    const shape = compileResponseShape(operation);
    const prepared: PreparedOperation = {
      executable: shape ? { plan: this.planner.buildQueryPlan(operation), operation, shape } : undefined,
      hasVariables: (definition.variableDefinitions?.length ?? 0) > 0,
      variableDefinitions: definition.variableDefinitions ?? [],
    };
    if (this.prepared.size >= MAX_PREPARED_OPERATIONS) {
      const oldest = this.prepared.keys().next().value;
      if (oldest !== undefined) this.prepared.delete(oldest);
    }
    this.prepared.set(key, prepared);
    return prepared;
  }
}
