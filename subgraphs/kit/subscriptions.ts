import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { createContext, type ContextOwner, type SubgraphDeps } from './context.js';
import { maskUnexpectedErrors } from './errors-format.js';
import { INTERNAL_IDENTITY_HEADER, InvalidInternalIdentity, verifyInternalIdentity, type Identity } from './identity.js';
import type { PubSub } from './pubsub.js';

export interface SubscriptionServer {
  close(): Promise<void>;
}

export interface SubscriptionServerOptions {
  /** The shielded schema: the same rules as over HTTP. */
  schema: GraphQLSchema;
  deps: SubgraphDeps;
  /** The subgraph served: its name and access policies, for each subscription's context. */
  owner: ContextOwner;
  internalIdentitySecret: string;
  path?: string;
}

/** Per connection: the identity the gateway signed in `connection_init`. */
interface ConnectionExtra {
  identity?: Identity;
  [key: PropertyKey]: unknown;
}

/**
 * Serves graphql-ws (`graphql-transport-ws`) on the subgraph's HTTP server. Only the gateway
 * connects here: its signed internal identity travels in the `connection_init` payload under
 * the same name as the HTTP header; without a valid one the socket closes with 4401, so a
 * WebSocket is no more a way around the gateway than HTTP is.
 */
export function serveSubscriptions(server: Server, options: SubscriptionServerOptions): SubscriptionServer {
  const { deps } = options;
  const path = options.path ?? '/graphql';
  const wss = new WebSocketServer({ noServer: true });
  const mask = maskUnexpectedErrors(deps.log);

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);

  const disposable = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      schema: options.schema,
      async onConnect(ctx) {
        const token = ctx.connectionParams?.[INTERNAL_IDENTITY_HEADER];
        try {
          ctx.extra.identity = await verifyInternalIdentity(typeof token === 'string' ? token : undefined, options.internalIdentitySecret);
          return true;
        } catch (error) {
          if (!(error instanceof InvalidInternalIdentity)) throw error;
          // 4401 rather than graphql-ws's default 4403: the caller did not prove who it is.
          ctx.extra.socket.close(CloseCode.Unauthorized, 'connections must come through the gateway');
          return false;
        }
      },
      context(ctx) {
        const identity = ctx.extra.identity;
        // onConnect refused the connection otherwise; graphql-ws never subscribes before ack.
        if (!identity) throw new Error('subscription before an identity was verified');
        return createContext(deps, options.owner, identity);
      },
      // The same error policy as over HTTP: known codes pass, anything else is masked.
      onNext(_ctx, _id, _payload, _args, result) {
        if (!result.errors?.length) return;
        return { ...result, errors: result.errors.map((error) => mask(error.toJSON(), error)) };
      },
      // A stream that fails after it started (EVENTS_MAY_BE_MISSED from the pubsub) ends with an
      // `error` message: it keeps its code the same way.
      onError(_ctx, _id, _payload, errors) {
        return errors.map((error) => mask(error.toJSON(), error));
      },
    },
    wss,
  );

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      // Upgraded sockets are not HTTP connections any more: closeAllConnections misses them.
      for (const client of wss.clients) client.terminate();
      await disposable.dispose();
    },
  };
}

/**
 * Keeps only the events `keep` accepts. Unlike an async generator, `return()` reaches the
 * source at once even while a `next()` is pending, so a client that leaves releases its
 * pubsub subscription immediately instead of on the next event.
 */
export function filterEvents<T>(source: AsyncIterableIterator<T>, keep: (event: T) => boolean, onClose?: () => void): AsyncIterableIterator<T> {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    onClose?.();
  };
  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        let result: IteratorResult<T>;
        try {
          result = await source.next();
        } catch (error) {
          close();
          throw error;
        }
        if (result.done) {
          close();
          return result;
        }
        if (keep(result.value)) return result;
      }
    },
    async return(): Promise<IteratorResult<T>> {
      close();
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown): Promise<IteratorResult<T>> {
      close();
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * A pubsub topic as a subscription's source, returned once the pubsub confirmed the subscription
 * (an event published right after the client's `subscribe` is not missed). Leaving releases it
 * at once (see filterEvents).
 */
export async function openTopic<T>(pubsub: PubSub, topic: string): Promise<AsyncIterableIterator<T>> {
  const events = pubsub.subscribe<T>(topic);
  await pubsub.ready(topic);
  return filterEvents(events, () => true);
}
