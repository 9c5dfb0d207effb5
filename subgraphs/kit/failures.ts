import { DomainError, ErrorCode } from './errors.js';

/**
 * Failures of the platform's own dependencies (the database, a connection pool), recognised
 * and named in the vocabulary: a dependency that is unreachable is SERVICE_UNAVAILABLE, one
 * that does not answer in time is TIMEOUT, both retryable. Anything unrecognised stays a bug.
 */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1017', 'P1010']);
const TIMEOUT_PRISMA_CODES = new Set(['P1002', 'P1008', 'P2024', 'P2028']);
const UNAVAILABLE_ADAPTER_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'DatabaseDoesNotExist', 'TooManyConnections', 'SocketTimeout']);
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', '57P01', '57P02', '57P03', '53300']);
const TIMEOUT_MESSAGES = [/Query read timeout/, /timeout exceeded when trying to connect/, /connection timeout/i, /statement timeout/i, /Transaction already closed/, /expired transaction/i];
const UNAVAILABLE_MESSAGES = [/Connection terminated/, /Client has encountered a connection error/, /Can't reach database server/];

export function dependencyFailureOf(error: unknown, depth = 0): DomainError | undefined {
  // Duck-typed: socket errors come from Node's own realm, where `instanceof Error` can miss them.
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const { code, meta, message: rawMessage, cause } = error as { code?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } } };
  const message = typeof rawMessage === 'string' ? rawMessage : '';
  const adapter = meta?.driverAdapterError?.cause;
  if (typeof code === 'string' && TIMEOUT_PRISMA_CODES.has(code)) return timeout();
  if (TIMEOUT_MESSAGES.some((pattern) => pattern.test(message))) return timeout();
  if (typeof code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code))) return unavailable();
  if (typeof adapter?.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(adapter.kind)) return unavailable();
  if (typeof adapter?.originalCode === 'string' && UNAVAILABLE_SOCKET_CODES.has(adapter.originalCode)) return unavailable();
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return unavailable();
  return cause && cause !== error ? dependencyFailureOf(cause, depth + 1) : undefined;
}

const unavailable = (): DomainError => new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'The database is unavailable right now; try again shortly');
const timeout = (): DomainError => new DomainError(ErrorCode.TIMEOUT, 'The database did not answer in time; try again shortly');
