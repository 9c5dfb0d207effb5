import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainError, ErrorCode, isErrorCode } from './errors.js';
import { dependencyFailureOf } from './failures.js';
import type { Logger } from './logger.js';

/**
 * The GraphQL side of the error vocabulary. A DomainError (thrown by a service, returned by a
 * shield rule) becomes `{ message, path, extensions: { code, …details } }`; an error that already
 * carries a vocabulary code (GraphQL's own validation, the gateway's limits, a subgraph's answer
 * passed on) keeps it; anything else (a bug, a database error whose message may quote patient
 * data) is logged and replaced by a bare INTERNAL_SERVER_ERROR. Stack traces never leave.
 */
export function maskUnexpectedErrors(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = originalOf(error);
    if (original instanceof DomainError) {
      return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: original.toJSON().extensions };
    }
    const dependency = dependencyFailureOf(original);
    if (dependency) {
      log.warn({ err: original, path: formatted.path }, 'dependency failure');
      return { message: dependency.message, path: formatted.path, locations: formatted.locations, extensions: dependency.toJSON().extensions };
    }
    const libraryInput = inputErrorOf(original);
    if (libraryInput) return { message: libraryInput, path: formatted.path, locations: formatted.locations, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    const raw = formatted.extensions?.['code'];
    const code = typeof raw === 'string' ? (APOLLO_CODES[raw] ?? raw) : raw;
    if (isErrorCode(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const { stacktrace: _stacktrace, exception: _exception, http: _http, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code } };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error');
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}

/**
 * The error a GraphQLError wraps: a resolver's (Apollo's unwrap), or one graphql-ws wrapped
 * without a path when a subscription's source failed mid-stream.
 */
function originalOf(error: unknown): unknown {
  const unwrapped = unwrapResolverError(error);
  return unwrapped instanceof GraphQLError && unwrapped.originalError ? unwrapped.originalError : unwrapped;
}

/** Apollo Server's own codes that are not in the vocabulary, as the vocabulary says them. */
const APOLLO_CODES: Readonly<Record<string, ErrorCode>> = {
  OPERATION_RESOLUTION_FAILURE: ErrorCode.BAD_REQUEST,
  PERSISTED_QUERY_NOT_SUPPORTED: ErrorCode.BAD_REQUEST,
};

const POTHOS_INPUT_MESSAGES = /^(Argument "|Arguments "|Invalid cursor|Cursor must|Invalid offset cursor|Expected compound cursor|Invalid id received)/;

/**
 * Errors that libraries raise for a bad argument before our code runs: Pothos' connection
 * arguments (`first: -5`, a cursor that does not decode). Their messages name only the argument.
 */
function inputErrorOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'PothosValidationError' && POTHOS_INPUT_MESSAGES.test(error.message)) return error.message;
  return undefined;
}
