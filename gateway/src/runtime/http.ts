import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DomainError, ErrorCode, errorHttpResponse } from '../../../subgraphs/kit/errors.js';
import { errorResponse, readBody, send } from '../../../subgraphs/kit/http.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import { inScope, openScope, REQUEST_ID_HEADER, type RequestScope } from './request.js';
import type { RouteTable } from './router.js';

export interface GatewayServerOptions {
  log: Logger;
  bodyLimitBytes: number;
  /** Every answer, once sent: the matched route's pattern (`unmatched` when none) and the status. */
  onResponse?(route: string, status: number): void;
}

/**
 * The gateway's HTTP runtime: each request gets its scope (request id, child logger; the id is
 * on the response too), its body read within the limit, and the route the table names. Errors
 * are answered here, once: a DomainError with its code's status, anything else is a bug,
 * logged with the request id and answered as a bare 500.
 */
export function createGatewayServer(table: RouteTable, options: GatewayServerOptions): Server {
  return createServer((req, res) => {
    const scope = openScope(options.log, req.headers);
    res.setHeader(REQUEST_ID_HEADER, scope.requestId);
    void inScope(scope, () => dispatch(table, req, res, scope, options));
  });
}

async function dispatch(table: RouteTable, req: IncomingMessage, res: ServerResponse, scope: RequestScope, options: GatewayServerOptions): Promise<void> {
  let label = 'unmatched';
  res.once('finish', () => options.onResponse?.(label, res.statusCode));
  try {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = table.match(method, url.pathname);
    if (match.kind === 'none') return send(res, errorResponse(ErrorCode.NOT_FOUND, 'no such route'));
    if (match.kind === 'method') {
      label = match.path;
      const allow = match.allow.join(', ');
      return send(res, errorResponse(ErrorCode.METHOD_NOT_ALLOWED, `use ${allow} on this route`, { allow, 'cache-control': 'no-store' }));
    }
    label = match.route.path;
    // Unanswered bodies (404, 405) are drained by Node itself once the answer is sent.
    const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, options.bodyLimitBytes);
    const response = await match.route.handle({ method, url, params: match.params, headers: req.headers, body, ...scope }, res);
    if (response) send(res, response);
  } catch (error) {
    answerError(res, error, scope.log);
  }
}

/** The one answer for a failure that escaped a handler. */
export function answerError(res: ServerResponse, error: unknown, log: Logger): void {
  if (res.headersSent) {
    // A stream that already started cannot change its status: end it.
    log.error({ err: error }, 'gateway request failed after its answer started');
    res.end();
    return;
  }
  if (error instanceof DomainError) return send(res, errorHttpResponse(error, headersFor(error)));
  log.error({ err: error }, 'gateway request failed');
  send(res, errorResponse(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
}

function headersFor(error: DomainError): Record<string, string> | undefined {
  // An oversized body is not read to the end: the connection cannot be reused.
  if (error.code === ErrorCode.PAYLOAD_TOO_LARGE) return { connection: 'close' };
  // A 401 says how to authenticate (RFC 9110).
  if (error.code === ErrorCode.UNAUTHENTICATED) return { 'www-authenticate': 'Bearer' };
  if (error.retryable) return { 'retry-after': '5' };
  return undefined;
}
