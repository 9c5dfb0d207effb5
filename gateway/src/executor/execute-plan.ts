import { assert, ERRORS, errorCodeDef } from '@apollo/federation-internals';
import type { ServiceMap } from '@apollo/gateway';
// The request kind a data source is handed; the enum is not re-exported by the package's index.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
// Not re-exported by the package's index: how a plan renames and sets keys in fetched data
// (interface objects, `@requires` inputs); reused so the plans mean exactly what Apollo's planner intends.
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { evaluateCondition, getResponseName, type FetchNode, type PlanNode, type QueryPlan, type QueryPlanSelectionNode, type ResponsePath } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Operation } from '@apollo/federation-internals';
import type { ResponseShape } from './shape-response.js';

type JsonObject = Record<string, unknown>;

/** What executing one operation needs besides the request: its plan and its compiled shape. */
export interface ExecutableOperation {
  plan: QueryPlan;
  /** The operation against the API schema (its variable definitions drive `@skip`/`@include` plan conditions). */
  operation: Operation;
  shape: ResponseShape;
}

interface Execution {
  services: ServiceMap;
  requestContext: GatewayGraphQLRequestContext;
  variables: JsonObject | undefined;
  operation: Operation;
  supergraphSchema: GraphQLSchema;
  errors: GraphQLError[];
}

/** Where a plan node works: the objects at a path of the response so far. */
interface Cursor {
  path: ResponsePath;
  /** One object, or the flattened list of every object the path reaches. */
  data: unknown;
  fullResult: JsonObject;
}

/**
 * Runs a federated query plan: @apollo/gateway's executor (`executeQueryPlan`) semantics —
 * the same fetches in the same order, the same merging and error paths — without its per
 * request OpenTelemetry spans, usage-reporting trace nodes (this gateway reports nothing to
 * Apollo), re-building of the operation, or interpretive result shaping: the shape was
 * compiled when the operation was first planned.
 */
export async function executePlan(
  executable: ExecutableOperation,
  services: ServiceMap,
  requestContext: GatewayGraphQLRequestContext,
  supergraphSchema: GraphQLSchema,
): Promise<GatewayExecutionResult> {
  const variables = requestContext.request.variables as JsonObject | undefined;
  const execution: Execution = { services, requestContext, variables, operation: executable.operation, supergraphSchema, errors: [] };
  const merged: JsonObject = Object.create(null) as JsonObject;
  const node = executable.plan.node;
  if (node?.kind === 'Subscription') throw new Error('Execution of subscriptions not supported by gateway');
  if (node) await executeNode(execution, node, { path: [], data: merged, fullResult: merged });

  try {
    const { data, errors: shapingErrors } = executable.shape.shape(merged, variables);
    const { errors } = execution;
    if (errors.length === 0 && shapingErrors.length > 0) {
      return { extensions: { valueCompletion: shapingErrors.map((error) => error.toJSON() as GraphQLFormattedError) }, data };
    }
    return errors.length === 0 ? { data } : { errors, data };
  } catch (error) {
    // An answer the shape cannot hold (a list where an object belongs…): the operation fails, the gateway does not.
    if (error instanceof GraphQLError) return { errors: [error] };
    if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
    return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
  }
}

async function executeNode(execution: Execution, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(execution, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(execution, child, cursor)));
      return;
    case 'Flatten':
      await executeNode(execution, node.node, moveIntoCursor(cursor, node.path));
      return;
    case 'Fetch':
      try {
        await executeFetch(execution, node, cursor);
      } catch (error) {
        execution.errors.push(error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error), { originalError: error instanceof Error ? error : undefined }));
      }
      return;
    case 'Condition': {
      const branch = evaluateCondition(node, execution.operation.variableDefinitions, execution.variables) ? node.ifClause : node.elseClause;
      if (branch) await executeNode(execution, branch, cursor);
      return;
    }
    case 'Defer':
      assert(false, '@defer support is not available in the gateway');
  }
}

async function executeFetch(execution: Execution, fetch: FetchNode, cursor: Cursor): Promise<void> {
  const service = execution.services[fetch.serviceName];
  if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
  const entities = (Array.isArray(cursor.data) ? cursor.data.filter((entity) => entity !== null && entity !== undefined) : [cursor.data]) as JsonObject[];
  if (entities.length < 1) return;

  const variables: JsonObject = Object.create(null) as JsonObject;
  const provided = execution.variables;
  if (fetch.variableUsages && provided) {
    for (const name of fetch.variableUsages) {
      if (Object.prototype.hasOwnProperty.call(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }
  }

  const send = async (fetchVariables: JsonObject): Promise<JsonObject | null | undefined> => {
    const response = await service.process({
      kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
      request: { query: fetch.operation, variables: fetchVariables, operationName: fetch.operationName },
      incomingRequestContext: execution.requestContext,
      context: execution.requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: cursor.path,
    });
    if (response.errors) {
      const errorPath = lazyErrorPaths(fetch, cursor);
      for (const error of response.errors) execution.errors.push(downstreamServiceError(error, fetch.serviceName, errorPath));
    }
    return response.data;
  };

  if (!fetch.requires) {
    const received = await send(variables);
    if (received) applyRewrites(execution.supergraphSchema, fetch.outputRewrites, received);
    for (const entity of entities) deepMerge(entity, received);
    return;
  }

  const representations: JsonObject[] = [];
  const entityOfRepresentation: number[] = [];
  for (let index = 0; index < entities.length; index++) {
    const representation = selectRepresentation(execution.supergraphSchema, entities[index] ?? null, fetch.requires);
    if (representation && representation['__typename']) {
      applyRewrites(execution.supergraphSchema, fetch.inputRewrites, representation);
      representations.push(representation);
      entityOfRepresentation.push(index);
    }
  }
  if (representations.length < 1) return;
  if ('representations' in variables) throw new Error('Variables cannot contain key "representations"');
  const received = await send({ ...variables, representations });
  if (!received) return;
  const receivedEntities = received['_entities'];
  if (!Array.isArray(receivedEntities)) throw new Error('Expected "data._entities" in response to be an array');
  if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
  // Apollo's executor walks `entities.length` here; past the representations the entries are undefined and merge nothing.
  for (let index = 0; index < representations.length; index++) {
    const receivedEntity = receivedEntities[index] as JsonObject | null;
    const existing = entities[entityOfRepresentation[index] as number] as JsonObject;
    if (receivedEntity && !receivedEntity['__typename']) receivedEntity['__typename'] = existing['__typename'];
    applyRewrites(execution.supergraphSchema, fetch.outputRewrites, receivedEntity as JsonObject);
    deepMerge(existing, receivedEntity);
  }
}

/** The representation an entity fetch sends: the entity's data for the `requires` selection, or null when some is missing. */
function selectRepresentation(schema: GraphQLSchema, source: JsonObject | null, selections: readonly QueryPlanSelectionNode[]): JsonObject | null {
  if (source === null) return null;
  const result: JsonObject = Object.create(null) as JsonObject;
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const responseName = getResponseName(selection);
      const value = Object.prototype.hasOwnProperty.call(source, responseName) ? source[responseName] : undefined;
      if (value === undefined) return null;
      const subselections = selection.selections;
      if (Array.isArray(value)) {
        result[responseName] = value.map((element: unknown) => (subselections ? selectRepresentation(schema, element as JsonObject | null, subselections) : element));
      } else if (subselections) {
        result[responseName] = selectRepresentation(schema, value as JsonObject | null, subselections);
      } else {
        result[responseName] = value;
      }
    } else if (selection.typeCondition && isObjectOfType(schema, source, selection.typeCondition)) {
      deepMerge(result, selectRepresentation(schema, source, selection.selections));
    }
  }
  return result;
}

function moveIntoCursor(cursor: Cursor, path: ResponsePath): Cursor | undefined {
  const data = flattenAtPath(cursor.data, path, 0);
  return data ? { path: cursor.path.concat(path), data, fullResult: cursor.fullResult } : undefined;
}

/** The values at `path` (from `from` on); `@` steps into every element of a list, and the results are flattened into one list. */
function flattenAtPath(value: unknown, path: ResponsePath, from: number): unknown {
  if (from === path.length || value === undefined || value === null) return value;
  const step = path[from];
  if (step === '@') {
    const flattened: unknown[] = [];
    for (const element of value as unknown[]) {
      const inner = flattenAtPath(element, path, from + 1);
      if (Array.isArray(inner)) for (const item of inner) flattened.push(item);
      else flattened.push(inner);
    }
    return flattened;
  }
  assert(typeof step === 'string', () => `Unexpected ${typeof step} found in path`);
  assert(!Array.isArray(value), () => `Unexpected array in result for path element ${step}`);
  const object = value as JsonObject;
  return flattenAtPath(Object.prototype.hasOwnProperty.call(object, step) ? object[step] : undefined, path, from + 1);
}

type ErrorPath = (path: ReadonlyArray<string | number> | undefined) => Array<string | number> | undefined;

/** Maps a subgraph error's path into the client's response (entity `i` → its place), computed only when an error comes. */
function lazyErrorPaths(fetch: FetchNode, cursor: Cursor): ErrorPath {
  let hydrated: Array<Array<string | number>> | undefined;
  return (path) => {
    if (fetch.requires && typeof path?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        hydratePaths([], cursor.path, 0, cursor.fullResult, hydrated);
      }
      return [...(hydrated[path[1]] ?? []), ...path.slice(2)];
    }
    return path ? [...cursor.path, ...path] : undefined;
  };
}

/** Every concrete path (list indexes filled in) that `path` reaches in `data`, in response order. */
function hydratePaths(parent: Array<string | number>, path: ResponsePath, from: number, data: unknown, result: Array<Array<string | number>>): void {
  if (data === null || data === undefined) return;
  const head = path[from];
  if (head === undefined) {
    result.push(parent.slice());
  } else if (head === '@') {
    assert(Array.isArray(data), 'expected array when encountering `@`');
    data.forEach((value: unknown, index) => {
      parent.push(index);
      hydratePaths(parent, path, from + 1, value, result);
      parent.pop();
    });
  } else if (typeof head === 'string') {
    if (Array.isArray(data)) {
      data.forEach((value: unknown, index) => {
        parent.push(index);
        hydratePaths(parent, path, from, value, result);
        parent.pop();
      });
    } else if (Object.prototype.hasOwnProperty.call(data, head)) {
      parent.push(head);
      hydratePaths(parent, path, from + 1, (data as JsonObject)[head], result);
      parent.pop();
    }
  } else {
    assert(false, `unknown path part "${String(head)}"`);
  }
}

function downstreamServiceError(original: GraphQLFormattedError, serviceName: string, errorPath: ErrorPath): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = {
    originalError: original as Error,
    path: errorPath(original.path),
    extensions: { ...original.extensions, serviceName },
  };
  const code = errorCodeDef(original);
  if (!code && original.extensions?.['code']) return new GraphQLError(message, options);
  return (code ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

function isObject(value: unknown): value is JsonObject {
  return value !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Apollo's `deepMerge`: fetched data merged into the response so far (same-length lists element by element). */
function deepMerge(target: JsonObject, source: JsonObject | null | undefined): JsonObject {
  if (source === undefined || source === null) return target;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    // A key such as `constructor` must become the object's own, not read through the prototype.
    if (!Object.prototype.hasOwnProperty.call(target, key) && key in target) {
      Object.defineProperty(target, key, { configurable: true, enumerable: true, value: undefined, writable: true });
    }
    const existing = target[key];
    if (existing && isObject(value)) {
      deepMerge(existing as JsonObject, value);
    } else if (Array.isArray(value) && Array.isArray(existing) && value.length === existing.length) {
      for (let index = 0; index < value.length; index++) {
        const into: unknown = existing[index];
        const from: unknown = value[index];
        if (isObject(into) && isObject(from)) deepMerge(into, from);
        else existing[index] = from;
      }
    } else {
      target[key] = value;
    }
  }
  return target;
}
