import { HeaderMap, type ApolloServerPlugin, type GraphQLRequest } from '@apollo/server';
import { GraphQLError, visit, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { ErrorCode, HTTP_STATUS } from '../../../subgraphs/kit/errors.js';

const NUL = '\u0000';

/**
 * Where a NUL character hides in an operation: its text, a string literal, or a variable (at any
 * depth). PostgreSQL refuses NUL in text, C libraries cut strings at it, and no legitimate
 * value holds one, so it is refused at the edge, before anything runs. Undefined when clean.
 */
export function nulByteIn(input: { query?: string; document?: DocumentNode; variables?: unknown }): string | undefined {
  if (input.query?.includes(NUL)) return 'the operation text';
  const variable = nulInValue(input.variables, 'variables');
  if (variable) return variable;
  if (!input.document) return undefined;
  let found: string | undefined;
  visit(input.document, {
    StringValue(node) {
      if (!found && node.value.includes(NUL)) found = 'a string argument';
    },
  });
  return found;
}

function nulInValue(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (typeof value !== 'object' || value === null || depth > 32) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes(NUL)) return path;
    const found = nulInValue(inner, Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export const nulByteError = (where: string): GraphQLFormattedError => ({
  message: `${where} contains a NUL character, which no value may hold`,
  extensions: { code: ErrorCode.BAD_USER_INPUT, field: where },
});

/** Stands in for a refused request's own text, so none of it is parsed, validated or registered. */
const REFUSED_DOCUMENT = 'query RequestRefused { __typename }';

/**
 * Refuses a request before Apollo parses, validates, registers (APQ) or runs any of it: its
 * document is swapped for a trivial one in `requestDidStart` (the only hook before APQ
 * registration) and `error` is raised in `didResolveOperation`, the first hook whose errors
 * Apollo answers as GraphQL errors rather than as a 500.
 */
export function refuseRequest(request: GraphQLRequest, error: GraphQLError): { didResolveOperation(): Promise<void> } {
  request.query = REFUSED_DOCUMENT;
  request.operationName = undefined;
  request.extensions = {};
  request.variables = {};
  return {
    async didResolveOperation() {
      throw error;
    },
  };
}

const badInput = (where: string): GraphQLError => {
  const { message, extensions } = nulByteError(where);
  return new GraphQLError(message, { extensions: { ...extensions, http: { status: HTTP_STATUS.BAD_USER_INPUT, headers: new HeaderMap() } } });
};

/** The NUL check for everything that runs through Apollo Server: HTTP, REST aliases, BI exports, queries over WebSocket and SSE. */
export function nulBytePlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request }) {
      const early = nulByteIn({ query: request.query, variables: request.variables });
      if (early) return refuseRequest(request, badInput(early));
      return {
        // Literals are only known once the document is parsed (a persisted id's text, `"\u0000"` escapes).
        async didResolveOperation({ document }) {
          const where = nulByteIn({ document });
          if (where) throw badInput(where);
        },
      };
    },
  };
}

const NAME = /[_A-Za-z][_0-9A-Za-z]*/g;
const BUILT_IN_NAMES = new Set(['Int', 'Float', 'String', 'Boolean', 'ID']);
/** Request-level refusals (no path): what graphql-js validation and variable coercion raise. */
const SCHEMA_ERROR_CODES = new Set<unknown>([ErrorCode.GRAPHQL_VALIDATION_FAILED, ErrorCode.BAD_USER_INPUT]);

/** Every name the client wrote: in its operation text and its variables (keys and values). */
export function clientNames(query: string | undefined, variables: unknown): Set<string> {
  return new Set(`${query ?? ''} ${JSON.stringify(variables ?? null)}`.match(NAME) ?? []);
}

/**
 * A validation or variable error as a production client may see it. graphql-js suggests names
 * close to a misspelled one ("Did you mean "patient"?") and names what was expected (the
 * required argument, the input type, the field's parent type): with introspection off that
 * would hand the schema out piece by piece. So suggestions go, and so does every quoted name
 * the client did not write itself (built-in scalars aside); what it wrote is its own to see.
 */
export function withoutSchemaDetails(message: string, written: ReadonlySet<string>): string {
  return message.replace(/\s*Did you mean .*$/s, '').replace(/"([^"]*)"/g, (quoted, inner: string) =>
    (inner.match(NAME) ?? []).every((name) => written.has(name) || BUILT_IN_NAMES.has(name)) ? quoted : '"…"');
}

/** The errors of a refused request, without schema details (errors with a path come from execution and are left alone). */
export function hideSchemaDetails<E extends GraphQLFormattedError>(errors: readonly E[], request: { query?: string; variables?: unknown }): E[] {
  const written = clientNames(request.query, request.variables);
  return errors.map((e) => (e.path || !SCHEMA_ERROR_CODES.has(e.extensions?.['code']) ? e : { ...e, message: withoutSchemaDetails(e.message, written) }));
}

/** Production: request-level errors through Apollo (HTTP, REST aliases, BI, queries over WebSocket and SSE) lose their schema details. */
export function schemaDetailsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ request }) {
      // Kept before other plugins swap a refused request's text.
      const sent = { query: request.query, variables: request.variables };
      return {
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          response.body.singleResult.errors = hideSchemaDetails(response.body.singleResult.errors, sent);
        },
      };
    },
  };
}
