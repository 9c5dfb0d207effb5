import { operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import type { GraphQLDataSource, ServiceMap } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { QueryPlan } from '@apollo/query-planner';
import type { DocumentNode, GraphQLFormattedError, OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from '../context.js';
import { executePlan } from '../executor/execute-plan.js';
import { compileResponseShape, type ResponseShape } from '../executor/shape-response.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { SubscriptionPlan, SubscriptionPlanner } from './planner.js';
import type { StreamResult } from './stream.js';

export interface EventRequest {
  query: string;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  plan: SubscriptionPlan;
  /** The caller's context for this event (a freshly signed identity: events outlive tokens). */
  context: GatewayContext;
}

/**
 * Runs one subscription event through the rest of its plan with the gateway's plan executor,
 * the one HTTP queries use (executor/). The plan handed to it is synthetic: the primary fetch
 * (the subscription itself) followed by `rest`. The primary fetch is answered by the event
 * that arrived from the subgraph instead of by a network call; every other fetch (entity
 * lookups, including ones back to the owning subgraph) goes over HTTP with the caller's
 * signed identity. Because the real executor runs, error paths, `@requires` representations,
 * output rewrites and the final shaping to the client's selection behave exactly as for a
 * query, and a failing entity fetch becomes an error in this event only.
 */
export async function executeEvent(
  planner: SubscriptionPlanner,
  services: ServiceMap,
  request: EventRequest,
  event: StreamResult,
  format: (error: GraphQLFormattedError, original: unknown) => GraphQLFormattedError,
  log: Logger,
): Promise<StreamResult> {
  const { primary, rest } = request.plan;
  // No data at all: the owning subgraph refused or failed the subscription field itself (a
  // shield refusal when the stream opens). There is nothing to join; pass its errors on.
  if (event.data == null) {
    const errors = (event.errors ?? []).map((error) => format({ ...error, extensions: { ...error.extensions, serviceName: primary.serviceName } }, error));
    return { data: null, errors };
  }
  if (!rest) return shapeEvent(planner.apiSchema, request, event.data, event.errors, primary.serviceName, format);
  const owner = services[primary.serviceName];
  if (!owner) throw new Error(`no data source for subgraph ${primary.serviceName}`);
  const fromEvent: GraphQLDataSource<GatewayContext> = {
    // Only the primary fetch carries the subscription's operation text; anything else sent to
    // the owning subgraph (an entity lookup) is a real fetch.
    process: (options) => (options.request.query === primary.operation ? Promise.resolve(event) : owner.process(options)),
  };
  const queryPlan: QueryPlan = { kind: 'QueryPlan', node: { kind: 'Sequence', nodes: [primary, rest] } };
  const { operation, shape } = compiledOperation(planner.apiSchema, request);
  // The executor reads `request.variables` and `context` and hands the whole to the data
  // sources as the incoming request; the rest of Apollo Server's request context does not apply to an event.
  const requestContext = {
    request: { query: request.query, operationName: request.operationName, variables: request.variables },
    context: request.context,
    logger: log,
    metrics: {},
    schema: planner.apiGraphQLSchema,
    document: request.document,
    source: request.query,
    operationName: request.operationName ?? null,
    operation: request.operation,
  } as unknown as GatewayGraphQLRequestContext;

  const result = await executePlan(
    { plan: queryPlan, operation, shape },
    { ...services, [primary.serviceName]: fromEvent },
    requestContext,
    planner.supergraphSchema,
  );
  const errors = result.errors?.map((error) => format(error.toJSON(), error));
  return { data: result.data ?? null, ...(errors?.length ? { errors } : {}) };
}

interface CompiledOperation {
  apiSchema: Schema;
  operationName: string | undefined;
  operation: Operation;
  shape: ResponseShape;
}

/** Each subscription's operation in @apollo/federation-internals' form and its response shape, built once rather than per event. */
const compiledOperations = new WeakMap<DocumentNode, CompiledOperation>();

function compiledOperation(apiSchema: Schema, request: EventRequest): CompiledOperation {
  const cached = compiledOperations.get(request.document);
  if (cached && cached.apiSchema === apiSchema && cached.operationName === request.operationName) return cached;
  const operation = operationFromDocument(apiSchema, request.document, { operationName: request.operationName, validate: false });
  // Subscriptions select one root field, never __schema or __type: there is always a shape.
  const shape = compileResponseShape(operation);
  if (!shape) throw new Error('a subscription cannot select schema introspection');
  const compiled: CompiledOperation = { apiSchema, operationName: request.operationName, operation, shape };
  compiledOperations.set(request.document, compiled);
  return compiled;
}

/**
 * An event whose plan has nothing after the subscription itself (every field from the owning
 * subgraph): shaped to the client's selection exactly as the executor's last step shapes it
 * (its compiled response shape), without running a plan per event. The subgraph's errors are passed on as
 * the executor passes a fetch's errors: their code (DOWNSTREAM_SERVICE_ERROR when they have
 * none), `serviceName`, and their path, which for the root fetch is already the client's.
 */
function shapeEvent(
  apiSchema: Schema,
  request: EventRequest,
  data: Record<string, unknown>,
  subgraphErrors: StreamResult['errors'],
  serviceName: string,
  format: (error: GraphQLFormattedError, original: unknown) => GraphQLFormattedError,
): StreamResult {
  const shaped = compiledOperation(apiSchema, request).shape.shape(data, request.variables);
  const errors = (subgraphErrors ?? []).map((error) => format({
    ...error,
    extensions: { ...error.extensions, code: error.extensions?.['code'] ?? 'DOWNSTREAM_SERVICE_ERROR', serviceName },
  }, error));
  for (const error of shaped.errors) errors.push(format(error.toJSON(), error));
  return { data: shaped.data ?? null, ...(errors.length ? { errors } : {}) };
}
