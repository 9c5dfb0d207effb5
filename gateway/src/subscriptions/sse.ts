import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { errorResponse, send, type RouteRequest } from '../../../subgraphs/kit/http.js';
import type { GatewayRequest } from '../runtime/request.js';
import { AuthenticationError, type Authenticator, type VerifiedCredential } from '../auth/authenticate.js';
import type { FederatedOperations, OperationRequest } from './operations.js';
import type { StreamResult } from './stream.js';

export interface SseOptions {
  operations: FederatedOperations;
  authenticator: Authenticator;
}

/** Comment lines keep proxies and load balancers from closing an idle stream. */
const KEEP_ALIVE_MS = 12_000;
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // nginx and similar buffer responses unless told not to; events must not wait in a proxy.
  'x-accel-buffering': 'no',
};

const nextEvent = (result: StreamResult): string => `event: next\ndata: ${JSON.stringify(result)}\n\n`;
const COMPLETE_EVENT = 'event: complete\ndata:\n\n';

/**
 * GraphQL over server-sent events (the `graphql-sse` protocol), "distinct connections" mode:
 * each operation is one HTTP request (POST with a JSON body, or GET with query parameters)
 * with `Accept: text/event-stream`, answered by a stream of `next` events and one `complete`.
 * For clients that cannot open WebSockets; the same FederatedOperations as graphql-ws sits
 * underneath (same validation, limits, plans, deduplication, metrics).
 *
 * Implemented here rather than with the graphql-sse package's handler: that handler reads a
 * subscription eagerly into an unbounded queue, so a client that stops reading would grow the
 * gateway's memory. Here each event is written only after the previous one drained into the
 * socket, so the subscriber's own bounded buffer fills and SLOW_CONSUMER applies as over
 * WebSocket.
 *
 * Identity comes from the request headers, verified exactly as for HTTP: a bad credential is a
 * 401 with UNAUTHENTICATED before anything runs. When the credential expires the stream ends
 * with an UNAUTHENTICATED event. The "single connection" mode (reservation tokens) is not
 * served: a PUT reservation is answered 405.
 */
export function createSseHandler(options: SseOptions): (request: GatewayRequest, res: ServerResponse) => Promise<void> {
  const { operations } = options;

  return async (request, res) => {
    if (request.method === 'PUT') {
      return send(res, errorResponse('METHOD_NOT_ALLOWED', 'single connection mode is not supported; use distinct connections', { allow: 'GET, POST' }));
    }
    if (request.method !== 'GET' && request.method !== 'POST') return send(res, errorResponse('METHOD_NOT_ALLOWED', 'use GET or POST', { allow: 'GET, POST' }));
    if (!(request.headers.accept ?? '').includes('text/event-stream')) {
      return send(res, errorResponse('NOT_ACCEPTABLE', 'this endpoint streams: send Accept: text/event-stream'));
    }

    let credential: VerifiedCredential;
    try {
      credential = await options.authenticator.verifyCredential(request.headers);
    } catch (e) {
      if (!(e instanceof AuthenticationError)) throw e;
      return send(res, errorResponse('UNAUTHENTICATED', e.message, { 'www-authenticate': 'Bearer' }));
    }
    const params = parseParams(request);
    if (typeof params === 'string') return send(res, errorResponse('BAD_REQUEST', params));

    const address = res.req.socket.remoteAddress ?? 'unknown';
    const connection = operations.connect({ transport: 'sse', identity: credential.identity, expiresAt: credential.expiresAt, address, scope: { requestId: request.requestId, log: request.log } });
    const prepared = connection.prepare(params);
    if (prepared.ok && prepared.operation.kind === 'single' && prepared.operation.operationType === 'mutation' && request.method === 'GET') {
      connection.close();
      return send(res, errorResponse('METHOD_NOT_ALLOWED', 'mutations are not allowed over GET', { allow: 'POST' }));
    }
    const release = operations.acquireAddress(address, 'sse');
    if (!release) {
      connection.close();
      const refusal = operations.tooManyConnections();
      return send(res, { status: 429, body: { errors: [refusal] }, headers: { 'retry-after': '10' } });
    }

    let gone = false;
    const closed = once(res, 'close').then(() => undefined);
    let stop: (() => void) | undefined;
    res.once('close', () => {
      gone = true;
      stop?.();
      connection.close();
      release();
    });
    res.writeHead(200, STREAM_HEADERS);
    // Some browsers only report the response as open after a first chunk.
    res.write(':\n\n');
    const keepAlive = setInterval(() => res.write(':\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();

    /** Writes a chunk and waits until it drained (or the client left): backpressure for the stream. */
    const write = async (chunk: string): Promise<boolean> => {
      if (gone) return false;
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
      return !gone;
    };
    const writeErrors = (errors: GraphQLFormattedError[]): Promise<boolean> => write(nextEvent({ errors }));

    try {
      if (!prepared.ok) {
        await writeErrors(prepared.errors);
      } else if (prepared.operation.kind === 'single') {
        await write(nextEvent(await connection.execute(prepared.operation)));
      } else {
        const subscribed = connection.subscribe(prepared.operation);
        if (!subscribed.ok) {
          await writeErrors(subscribed.errors);
        } else {
          const { stream } = subscribed;
          stop = () => void stream.return();
          for await (const result of stream) {
            if (!(await write(nextEvent(result)))) break;
          }
        }
      }
      await write(COMPLETE_EVENT);
    } finally {
      clearInterval(keepAlive);
      connection.close();
      release();
      if (!gone) res.end();
    }
  };
}

/** The request's GraphQL parameters (JSON body for POST, query string for GET), or why they are not acceptable. */
function parseParams(request: RouteRequest): OperationRequest | string {
  let raw: Record<string, unknown>;
  if (request.method === 'GET') {
    const search = request.url.searchParams;
    try {
      raw = {
        query: search.get('query') ?? undefined,
        operationName: search.get('operationName') ?? undefined,
        variables: search.has('variables') ? JSON.parse(search.get('variables') as string) : undefined,
        extensions: search.has('extensions') ? JSON.parse(search.get('extensions') as string) : undefined,
      };
    } catch {
      return 'variables and extensions must be JSON';
    }
  } else {
    if (!(request.headers['content-type'] ?? '').includes('application/json')) return 'the body must be application/json';
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      return 'request body is not valid JSON';
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
    raw = body as Record<string, unknown>;
  }
  const { query, operationName, variables, extensions } = raw;
  if (typeof query !== 'string') return 'query must be a string';
  if (operationName != null && typeof operationName !== 'string') return 'operationName must be a string';
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (variables != null && !isObject(variables)) return 'variables must be an object';
  if (extensions != null && !isObject(extensions)) return 'extensions must be an object';
  return { query, operationName: operationName ?? null, variables: variables ?? null, extensions: extensions ?? null };
}
