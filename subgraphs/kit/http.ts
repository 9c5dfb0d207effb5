import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { DomainError, ErrorCode, errorHttpResponse } from './errors.js';
import { dependencyFailureOf } from './failures.js';


export interface RouteRequest {
  method: string;
  url: URL;
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The raw bytes, untouched: webhook signatures are computed over exactly these. */
  body: Buffer;
}

export interface RouteResponse {
  status: number;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
  /** A list for headers sent more than once (`set-cookie`). */
  headers?: Record<string, string | string[]>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limitBytes) {
    req.resume();
    throw new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `request body exceeds ${limitBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limitBytes) {
      req.resume();
      throw new DomainError(ErrorCode.PAYLOAD_TOO_LARGE, `request body exceeds ${limitBytes} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function send(res: ServerResponse, response: RouteResponse): void {
  if (res.headersSent) return;
  const headers: Record<string, string | string[]> = { ...response.headers };
  let payload: string | Buffer | undefined;
  if (typeof response.body === 'string' || Buffer.isBuffer(response.body)) {
    payload = response.body;
  } else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

/** A GraphQL-shaped error body with the code's status (kit/errors.ts), so clients parse every failure the same way. */
export function errorResponse(code: ErrorCode, message: string, headers?: Record<string, string>): RouteResponse {
  return errorHttpResponse(new DomainError(code, message), headers);
}

/** Matches `/a/:id/b` style patterns; returns the params or null. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const expected = pattern.split('/');
  const actual = pathname.split('/');
  if (expected.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < expected.length; i++) {
    const part = expected[i] as string;
    const value = actual[i] as string;
    if (part.startsWith(':')) {
      if (!value) return null;
      params[part.slice(1)] = decodeURIComponent(value);
    } else if (part !== value) {
      return null;
    }
  }
  return params;
}

/** Node's request headers as Apollo Server's HeaderMap. */
export function headerMapFrom(headers: IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) map.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  return map;
}

/** Runs one GraphQL-over-HTTP request through Apollo Server and writes its response. */
export async function serveGraphQL<C extends BaseContext>(
  server: ApolloServer<C>,
  request: RouteRequest,
  res: ServerResponse,
  context: () => Promise<C>,
): Promise<void> {
  await writeGraphQLAnswer(res, await executeGraphQL(server, request, context));
}

/** Apollo's answer to one GraphQL HTTP request: complete (one body), or streamed in parts (incremental delivery). */
export type GraphQLHttpAnswer =
  | { kind: 'complete'; response: RouteResponse & { body: string | Buffer } }
  | { kind: 'stream'; status: number; headers: Record<string, string>; chunks: AsyncIterable<string> };

export async function executeGraphQL<C extends BaseContext>(server: ApolloServer<C>, request: RouteRequest, context: () => Promise<C>): Promise<GraphQLHttpAnswer> {
  let body: unknown;
  if (request.method === 'POST' && request.body.length > 0) {
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      const { status, body: errors, headers } = errorResponse(ErrorCode.BAD_REQUEST, 'request body is not valid JSON');
      return { kind: 'complete', response: { status, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(errors) } };
    }
  }
  const response = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: request.method, headers: headerMapFrom(request.headers), search: request.url.search, body },
    context,
  });
  const headers: Record<string, string> = {};
  for (const [key, value] of response.headers) headers[key] = value;
  const status = response.status ?? 200;
  return response.body.kind === 'complete'
    ? { kind: 'complete', response: { status, body: response.body.string, headers } }
    : { kind: 'stream', status, headers, chunks: response.body.asyncIterator };
}

export async function writeGraphQLAnswer(res: ServerResponse, answer: GraphQLHttpAnswer): Promise<void> {
  if (answer.kind === 'complete') return send(res, answer.response);
  res.writeHead(answer.status, answer.headers);
  for await (const chunk of answer.chunks) res.write(chunk);
  res.end();
}

export type RequestHandler = (request: RouteRequest, res: ServerResponse) => Promise<void>;

/**
 * A plain Node HTTP server: reads the body (bounded), hands a RouteRequest to `handle`,
 * and turns a thrown DomainError into its JSON answer (status from the code). Anything else
 * is a bug: logged, and answered with a bare 500.
 */
export function createHttpServer(handle: RequestHandler, options: { bodyLimitBytes: number; onError: (error: unknown) => void }): Server {
  return createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const body = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, options.bodyLimitBytes);
        await handle({ method: req.method ?? 'GET', url, params: {}, headers: req.headers, body }, res);
      } catch (error) {
        // An oversized body is not read to the end: the connection cannot be reused.
        if (error instanceof DomainError) return send(res, errorHttpResponse(error, error.code === ErrorCode.PAYLOAD_TOO_LARGE ? { connection: 'close' } : undefined));
        const dependency = dependencyFailureOf(error);
        if (dependency) return send(res, errorHttpResponse(dependency, { 'retry-after': '5' }));
        options.onError(error);
        send(res, errorResponse(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error'));
      }
    })();
  });
}

/**
 * Idle keep-alive sockets are kept longer than the clients' (undici keeps them 4 s, load
 * balancers about 60 s): a server that closes first races a client reusing the socket, and the
 * request fails with "socket hang up". Headers may take a little longer than that.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
