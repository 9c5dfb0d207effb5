import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { DomainError } from '../../../subgraphs/kit/errors.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import { AuthenticationError, type Authenticator } from '../auth/authenticate.js';
import { inScope, openScope, REQUEST_ID_HEADER, type RequestScope } from '../runtime/request.js';
import type { FederatedOperations, OperationConnection, PreparedOperation } from './operations.js';
import type { StreamResult, SubscriberStream } from './stream.js';

export interface GatewaySocketOptions {
  server: Server;
  operations: FederatedOperations;
  authenticator: Authenticator;
  log: Logger;
  path?: string;
}

export interface GatewaySockets {
  close(): Promise<void>;
}

interface ConnectionExtra {
  connection?: OperationConnection;
  [key: PropertyKey]: unknown;
}

/** What onSubscribe hands to execute/subscribe for one operation. */
type OperationContext =
  | { kind: 'single'; operation: Extract<PreparedOperation, { kind: 'single' }>; connection: OperationConnection }
  | { kind: 'subscription'; stream: SubscriberStream<StreamResult> };

const isOperationContext = (value: unknown): value is OperationContext =>
  typeof value === 'object' && value !== null && ((value as { kind?: unknown }).kind === 'single' || (value as { kind?: unknown }).kind === 'subscription');

/** WebSocket close code for "try again later" (RFC 6455 registry): the per-address connection cap. */
const TRY_AGAIN_LATER = 1013;
/** How long an expired connection waits for its last messages to go out before closing with 4401. */
const EXPIRY_FLUSH_MS = 1_000;

/**
 * An error already in its wire shape (Apollo Server formatted it, a subgraph sent it, or the
 * gateway's own limits wrote it). graphql-ws serialises errors with `toJSON()`; this returns
 * the shape untouched.
 */
class FormattedError extends GraphQLError {
  constructor(private readonly formatted: GraphQLFormattedError) {
    super(formatted.message, { path: formatted.path, extensions: formatted.extensions });
  }

  override toJSON(): GraphQLFormattedError {
    return this.formatted;
  }
}

const toExecutionResult = (result: StreamResult): { data?: Record<string, unknown> | null; errors?: GraphQLError[]; extensions?: Record<string, unknown> } => ({
  ...(result.data !== undefined ? { data: result.data } : {}),
  ...(result.errors ? { errors: result.errors.map((e) => new FormattedError(e)) } : {}),
  ...(result.extensions ? { extensions: result.extensions } : {}),
});

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's `/graphql`, on the same port as HTTP;
 * a thin transport over FederatedOperations.
 *
 * Identity: `connection_init` carries `{ authorization: 'Bearer …' }` or `{ 'x-api-key': … }`,
 * verified by the same Authenticator as HTTP. A credential that is present but not acceptable
 * closes the socket with 4403 before anything runs. No credential connects as anonymous, as
 * over HTTP (the subgraphs' rules decide); when a subscription from an anonymous connection is
 * refused with UNAUTHENTICATED, the socket closes with 4401 so the client signs in and
 * reconnects (the usual graphql-ws client reaction to 4401). When the credential expires, every
 * subscription on the socket ends with UNAUTHENTICATED and the socket closes with 4401.
 *
 * Limits: a socket beyond the per-address cap is closed at once with 1013 (try again later)
 * and the reason TOO_MANY_CONNECTIONS; a subscription beyond the per-connection or
 * per-identity cap gets an `error` message with TOO_MANY_SUBSCRIPTIONS, the socket stays open.
 */
export function serveGatewaySockets(options: GatewaySocketOptions): GatewaySockets {
  const { operations } = options;
  const path = options.path ?? '/graphql';
  const wss = new WebSocketServer({ noServer: true });
  /** The upgrade request is the connection's request: its id and logger serve every operation on the socket. */
  const scopes = new WeakMap<IncomingMessage, RequestScope>();
  const scopeOf = (request: IncomingMessage): RequestScope => {
    let scope = scopes.get(request);
    if (!scope) scopes.set(request, (scope = openScope(options.log, request.headers)));
    return scope;
  };
  // The id goes back on the 101 response, as on every HTTP answer.
  wss.on('headers', (headers: string[], request: IncomingMessage) => headers.push(`${REQUEST_ID_HEADER}: ${scopeOf(request).requestId}`));

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const release = operations.acquireAddress(request.socket.remoteAddress ?? 'unknown', 'ws');
      if (!release) {
        // Past the handshake so that the client can read why (browsers hide a refused upgrade's status).
        ws.close(TRY_AGAIN_LATER, `TOO_MANY_CONNECTIONS: ${operations.tooManyConnections().message}`);
        return;
      }
      ws.once('close', release);
      wss.emit('connection', ws, request);
    });
  };
  options.server.on('upgrade', onUpgrade);

  const closeExpired = (socket: WebSocket, drained: Promise<void>): void => {
    // The last UNAUTHENTICATED event of each subscription goes out first, then the socket
    // closes; a client that does not read at all does not keep it open past the flush time.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, EXPIRY_FLUSH_MS).unref());
    void Promise.race([drained, timeout]).then(() => setImmediate(() => socket.close(CloseCode.Unauthorized, 'credential expired')));
  };

  const disposable = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      async onConnect(ctx) {
        const headers = credentialHeaders(ctx.connectionParams ?? {});
        if (headers === 'invalid') return false;
        const scope = scopeOf(ctx.extra.request);
        const socket = ctx.extra.socket;
        try {
          const credential = await inScope(scope, () => options.authenticator.verifyCredential(headers));
          ctx.extra.connection = operations.connect({
            transport: 'ws',
            identity: credential.identity,
            expiresAt: credential.expiresAt,
            address: ctx.extra.request.socket.remoteAddress ?? 'unknown',
            scope,
            onExpired: (drained) => closeExpired(socket, drained),
          });
          return true;
        } catch (e) {
          if (e instanceof AuthenticationError) return false; // graphql-ws closes with 4403 Forbidden
          // The credential could not be checked now (its owner is unavailable): try again later, not "forbidden".
          if (e instanceof DomainError && e.retryable) {
            socket.close(TRY_AGAIN_LATER, `${e.code}: ${e.message}`);
            return false;
          }
          throw e;
        }
      },

      async onSubscribe(ctx, _id, payload) {
        const connection = ctx.extra.connection;
        if (!connection) return [new GraphQLError('connection is not initialised', { extensions: { code: 'UNAUTHENTICATED' } })];
        const prepared = connection.prepare(payload);
        if (!prepared.ok) return prepared.errors.map((e) => new FormattedError(e));
        const schema = operations.currentPlanner.apiGraphQLSchema;
        const { operation } = prepared;
        if (operation.kind === 'single') {
          const contextValue: OperationContext = { kind: 'single', operation, connection };
          // graphql-ws reads the operation type from this document; Apollo Server validates it.
          return { schema, document: operation.document, operationName: operation.operationName, variableValues: operation.request.variables, contextValue };
        }
        // Admitted (limits, deduplication) here rather than in `subscribe`, so that a refusal is
        // an `error` message for this operation, as graphql-ws reports refusals.
        const subscribed = connection.subscribe(operation);
        if (!subscribed.ok) return subscribed.errors.map((e) => new FormattedError(e));
        const contextValue: OperationContext = { kind: 'subscription', stream: subscribed.stream };
        return { schema, document: operation.document, operationName: operation.operationName, variableValues: operation.variables, contextValue };
      },

      async execute(args: ExecutionArgs) {
        const context = args.contextValue;
        if (!isOperationContext(context) || context.kind !== 'single') throw new Error('operation was not prepared by onSubscribe');
        return toExecutionResult(await context.connection.execute(context.operation));
      },

      subscribe(args: ExecutionArgs) {
        const context = args.contextValue;
        if (!isOperationContext(context) || context.kind !== 'subscription') throw new Error('subscription was not prepared by onSubscribe');
        const { stream } = context;
        // graphql-ws expects ExecutionResults; ours are already in wire shape.
        const results: AsyncIterableIterator<ReturnType<typeof toExecutionResult>> = {
          async next() {
            const next = await stream.next();
            return next.done ? { value: undefined, done: true } : { value: toExecutionResult(next.value), done: false };
          },
          async return() {
            await stream.return();
            return { value: undefined, done: true };
          },
          [Symbol.asyncIterator]() {
            return results;
          },
        };
        return results;
      },

      onNext(ctx, _id, _payload, args, result) {
        const context = args.contextValue;
        if (ctx.extra.connection?.identity.kind !== 'anonymous' || !isOperationContext(context) || context.kind !== 'subscription') return;
        const refused = result.data == null && result.errors?.some((e) => e.extensions['code'] === 'UNAUTHENTICATED');
        // After this message is written: the client learns why, then must sign in to go on.
        if (refused) setImmediate(() => ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized'));
      },

      onClose(ctx) {
        // graphql-ws has already returned every stream it was consuming; this also ends any
        // that were admitted but not yet handed to it.
        ctx.extra.connection?.close();
      },
    },
    wss,
  );

  return {
    async close() {
      options.server.off('upgrade', onUpgrade);
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
    },
  };
}

/**
 * The credential in `connection_init`, as the HTTP headers the Authenticator reads. Keys are
 * matched case-insensitively (clients send `Authorization` as often as `authorization`); a
 * credential that is not a string is refused, not ignored.
 */
function credentialHeaders(params: Record<string, unknown>): IncomingHttpHeaders | 'invalid' {
  const headers: IncomingHttpHeaders = {};
  for (const [key, value] of Object.entries(params)) {
    const name = key.toLowerCase();
    if (name !== 'authorization' && name !== 'x-api-key') continue;
    if (typeof value !== 'string') return 'invalid';
    headers[name] = value;
  }
  return headers;
}
