import { operationFromDocument, type Operation, type Schema } from '@apollo/federation-internals';
import { buildOperationContext, executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
// Not re-exported by the package's index: the executor's own final shaping step, reused for events that need no join.
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import type { QueryPlan } from '@apollo/query-planner';
import type { DocumentNode, GraphQLFormattedError, OperationDefinitionNode } from 'graphql';
import type { GatewayContext } from '../context.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import type { SubscriptionPlan, SubscriptionPlanner } from './planner.js';
import type { StreamResult } from './stream.js';

type RequestContext = Parameters<typeof executeQueryPlan>[2];

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
 * Runs one subscription event through the rest of its plan with @apollo/gateway's own
 * executor, the one HTTP queries use. The plan handed to it is synthetic: the primary fetch
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
  const queryPlan: QueryPlan = { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary };
  const operationContext = buildOperationContext({ schema: planner.apiGraphQLSchema, operationDocument: request.document, operationName: request.operationName });
  // executeQueryPlan reads `request.variables`, `context`, `logger` and `metrics` (it records
  // error paths there); the rest of Apollo Server's request context does not apply to an event.
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
  } as unknown as RequestContext;

  const result = await executeQueryPlan(
    queryPlan,
    { ...services, [primary.serviceName]: fromEvent },
    requestContext,
    operationContext,
    planner.supergraphSchema,
    planner.apiSchema,
  );
  const errors = result.errors?.map((error) => format(error.toJSON(), error));
  return { data: result.data ?? null, ...(errors?.length ? { errors } : {}) };
}

/** Each subscription's operation in @apollo/federation-internals' form, built once rather than per event. */
const shapingOperations = new WeakMap<DocumentNode, { apiSchema: Schema; operationName: string | undefined; operation: Operation }>();

function shapingOperation(apiSchema: Schema, request: EventRequest): Operation {
  const cached = shapingOperations.get(request.document);
  if (cached && cached.apiSchema === apiSchema && cached.operationName === request.operationName) return cached.operation;
  const operation = operationFromDocument(apiSchema, request.document, { operationName: request.operationName, validate: false });
  shapingOperations.set(request.document, { apiSchema, operationName: request.operationName, operation });
  return operation;
}

/**
 * An event whose plan has nothing after the subscription itself (every field from the owning
 * subgraph): shaped to the client's selection exactly as the executor's last step shapes it
 * (computeResponse), without running a plan per event. The subgraph's errors are passed on as
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
  const shaped = computeResponse({
    operation: shapingOperation(apiSchema, request),
    variables: request.variables,
    input: data,
    // Subscriptions select one root field, never __schema or __type.
    introspectionHandling: () => null,
  });
  const errors = (subgraphErrors ?? []).map((error) => format({
    ...error,
    extensions: { ...error.extensions, code: error.extensions?.['code'] ?? 'DOWNSTREAM_SERVICE_ERROR', serviceName },
  }, error));
  for (const error of shaped.errors) errors.push(format(error.toJSON(), error));
  return { data: shaped.data ?? null, ...(errors.length ? { errors } : {}) };
}
