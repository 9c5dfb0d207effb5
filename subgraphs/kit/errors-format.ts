import type { GraphQLFormattedError } from 'graphql';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { hasKnownCode } from './errors.js';
import type { Logger } from './logger.js';

const PROTOCOL_CODES = new Set<string>(Object.values(ApolloServerErrorCode).filter((c) => c !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR));
const PASS_THROUGH_CODES = new Set(['QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'QUERY_TOO_COMPLEX', 'OPERATION_NOT_ALLOWED', 'DOWNSTREAM_SERVICE_ERROR']);

/**
 * Errors raised on purpose (with a known code) reach the client as they are; anything else
 * (a bug, a database error whose message may quote patient data) is logged and replaced by
 * a bare INTERNAL_SERVER_ERROR. Stack traces never leave the server.
 */
export function maskUnexpectedErrors(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.['code'];
    const known =
      hasKnownCode(formatted) || (typeof code === 'string' && (PROTOCOL_CODES.has(code) || PASS_THROUGH_CODES.has(code)));
    if (known) {
      const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    log.error({ err: error, path: formatted.path }, 'unexpected error');
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
