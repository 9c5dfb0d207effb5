import { domainError, ErrorCode, type DomainError } from '../../../subgraphs/kit/errors.js';

/** Whether an error is an abort by a timeout signal (fetch and undici name it differently by version). */
export function isTimeout(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown; type?: unknown }) : undefined;
  return name?.name === 'TimeoutError' || name?.name === 'AbortError' || name?.type === 'aborted' || name?.type === 'request-timeout';
}

/** The vocabulary's word for a subgraph that failed to answer: TIMEOUT or DOWNSTREAM_SERVICE_ERROR, both retryable. */
export function subgraphFailure(serviceName: string, error: unknown, timeoutMs: number): DomainError {
  return isTimeout(error)
    ? domainError(ErrorCode.TIMEOUT, `The ${serviceName} service did not answer within ${timeoutMs} ms`, { serviceName })
    : domainError(ErrorCode.DOWNSTREAM_SERVICE_ERROR, `The ${serviceName} service could not be reached`, { serviceName });
}
