import { Kind, parse, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { HttpMethod } from '../../../subgraphs/kit/http.js';

/** Where one GraphQL variable's value comes from in the HTTP request. */
export type VariableSource =
  | { from: 'path'; name: string }
  | { from: 'query'; name: string; required?: boolean };

/** A `:name` segment of the alias's path. */
export const pathParam = (name: string): VariableSource => ({ from: 'path', name });
/** A query-string parameter; a required one that is missing or empty is a 400 BAD_USER_INPUT. */
export const queryParam = (name: string, options: { required?: boolean } = {}): VariableSource => ({ from: 'query', name, ...options });

/**
 * A REST alias: an HTTP route the gateway answers by running one GraphQL operation through
 * its own Apollo Server with the caller's identity. The alias holds no access rules of its
 * own; whatever the operation may or may not do over /graphql, it may or may not do here.
 */
export interface RestAlias {
  method: HttpMethod;
  /** `/a/:id/b`: `:name` segments are path parameters. */
  path: string;
  /**
   * One named operation. The name labels the gateway's operation metrics, and lets the
   * document move to schema/operations/ (the persisted-query manifest) unchanged.
   */
  operation: string;
  /** GraphQL variable name → where its value comes from. */
  variables: Record<string, VariableSource>;
  response: {
    /** The root response key (field or alias) whose value is the body. */
    pick: string;
    /** Wraps the value as `{ [as]: value }`, so a list can later gain siblings (paging) without breaking clients. */
    as?: string;
    /** A null value answers 404 NOT_FOUND "<notFound> not found" instead of `null`. */
    notFound?: string;
  };
}

/** An alias checked and parsed once, at gateway start. */
export interface CompiledAlias extends RestAlias {
  operationName: string;
  document: DocumentNode;
}

/**
 * Checks an alias table for mistakes that would otherwise surface as a 500 on the first call:
 * a document that does not parse or holds more than one operation, a GET that is not a query
 * (GET must stay safe to retry and prefetch), variables that are mapped but not declared or
 * required but not mapped, a path parameter missing from the path, a `pick` the operation
 * does not select, two aliases on one route. Whether the operation is valid against the
 * supergraph is a property of the composed schema, checked by the tests (it can change on reload).
 */
export function compileAliases(aliases: readonly RestAlias[]): CompiledAlias[] {
  const seen = new Set<string>();
  return aliases.map((alias) => {
    const where = `REST alias ${alias.method} ${alias.path}`;
    const routeKey = `${alias.method} ${alias.path.replace(/:[^/]+/g, ':')}`;
    if (seen.has(routeKey)) throw new Error(`${where}: another alias has the same route`);
    seen.add(routeKey);
    if (!alias.path.startsWith('/')) throw new Error(`${where}: the path must start with /`);

    const document = parse(alias.operation);
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const [operation] = operations;
    if (operations.length !== 1 || !operation) throw new Error(`${where}: the document must hold exactly one operation`);
    const operationName = operation.name?.value;
    if (!operationName) throw new Error(`${where}: the operation must be named`);
    if (alias.method === 'GET' && operation.operation !== 'query') throw new Error(`${where}: a GET alias must run a query`);

    const pathParams = new Set(alias.path.split('/').filter((part) => part.startsWith(':')).map((part) => part.slice(1)));
    const declared = new Map(operation.variableDefinitions?.map((v) => [v.variable.name.value, v]) ?? []);
    for (const [variable, source] of Object.entries(alias.variables)) {
      if (!declared.has(variable)) throw new Error(`${where}: $${variable} is mapped but the operation does not declare it`);
      if (source.from === 'path' && !pathParams.has(source.name)) throw new Error(`${where}: :${source.name} is not in the path`);
    }
    for (const [variable, definition] of declared) {
      if (definition.type.kind === Kind.NON_NULL_TYPE && !definition.defaultValue && !(variable in alias.variables)) {
        throw new Error(`${where}: the required $${variable} has no source`);
      }
    }

    const rootKeys = operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.alias?.value ?? s.name.value] : []));
    if (!rootKeys.includes(alias.response.pick)) throw new Error(`${where}: the operation does not select ${alias.response.pick}`);

    return { ...alias, operationName, document };
  });
}
