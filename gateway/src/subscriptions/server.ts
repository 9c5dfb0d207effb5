import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServiceMap } from '@apollo/gateway';
import type { ApolloServer } from '@apollo/server';
import {
  getOperationAST, getVariableValues, GraphQLError, parse, specifiedRules, validate,
  type DocumentNode, type ExecutionArgs, type GraphQLFormattedError, type OperationDefinitionNode,
} from 'graphql';
import { CloseCode, createClient, type Client, type SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { maskUnexpectedErrors } from '../../../subgraphs/kit/errors-format.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity } from '../../../subgraphs/kit/identity.js';
import type { Logger } from '../../../subgraphs/kit/logger.js';
import { AuthenticationError, type Authenticator } from '../auth/authenticate.js';
import type { GatewayContext } from '../context.js';
import { aliasLimit, depthLimit } from '../limits/rules.js';
import { executeEvent } from './execute-event.js';
import type { SubscriptionPlan, SubscriptionPlanner } from './planner.js';
import { createPushStream, type PushStream, type StreamResult } from './stream.js';

export interface GatewaySocketOptions {
  server: Server;
  /** Queries and mutations over the socket run through the same Apollo Server as over HTTP. */
  apollo: ApolloServer<GatewayContext>;
  authenticator: Authenticator;
  planner: SubscriptionPlanner;
  /** HTTP data sources by subgraph name, for the entity fetches of each event. */
  services: ServiceMap;
  /** http(s)://host:port of a subgraph, by name. */
  subgraphUrl(name: string): string;
  internalIdentitySecret: string;
  limits: { maxDepth: number; maxAliases: number };
  log: Logger;
  path?: string;
}

export interface GatewaySockets {
  close(): Promise<void>;
}

interface ConnectionExtra {
  identity?: Identity;
  /** One graphql-ws client per subgraph, carrying this connection's identity. */
  upstreams?: Map<string, Client>;
  [key: PropertyKey]: unknown;
}

/** What onSubscribe hands to execute/subscribe for one operation. */
type OperationContext =
  | { kind: 'apollo'; gateway: GatewayContext; payload: SubscribePayload }
  | { kind: 'subscription'; identity: Identity; requestId: string; query: string; document: DocumentNode; operation: OperationDefinitionNode; operationName: string | undefined; variables: Record<string, unknown>; plan: SubscriptionPlan; upstream: Client };

const isOperationContext = (value: unknown): value is OperationContext =>
  typeof value === 'object' && value !== null && ((value as { kind?: unknown }).kind === 'apollo' || (value as { kind?: unknown }).kind === 'subscription');

/** Identity tokens live 60 s; a longer-lived subscription signs a fresh one for its fetches. */
const TOKEN_REFRESH_MS = 30_000;

/**
 * An error already in its wire shape (Apollo Server formatted it, or a subgraph sent it).
 * graphql-ws serialises errors with `toJSON()`; this returns the shape untouched.
 */
class FormattedError extends GraphQLError {
  constructor(private readonly formatted: GraphQLFormattedError) {
    super(formatted.message, { path: formatted.path, extensions: formatted.extensions });
  }

  override toJSON(): GraphQLFormattedError {
    return this.formatted;
  }
}

const withCode = (errors: readonly GraphQLError[], code: string): GraphQLError[] =>
  errors.map((error) => new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, extensions: { ...error.extensions, code } }));

/**
 * graphql-ws (`graphql-transport-ws`) on the gateway's `/graphql`, on the same port as HTTP.
 *
 * Identity: `connection_init` carries `{ authorization: 'Bearer …' }` or `{ 'x-api-key': … }`,
 * verified by the same Authenticator as HTTP. A credential that is present but not acceptable
 * closes the socket with 4403 before anything runs. No credential connects as anonymous, as
 * over HTTP (the subgraphs' rules decide); when a subscription from an anonymous connection is
 * refused with UNAUTHENTICATED, the socket closes with 4401 so the client signs in and
 * reconnects (the usual graphql-ws client reaction to 4401).
 *
 * Queries and mutations run through Apollo Server (same validation, limits, plugins and error
 * masking as HTTP). Subscriptions are validated against the API schema with the same depth and
 * alias limits, planned with the federation query planner, sent to the owning subgraph over
 * graphql-ws with the caller's signed identity, and every event runs the rest of the plan.
 */
export function serveGatewaySockets(options: GatewaySocketOptions): GatewaySockets {
  const { planner, log } = options;
  const path = options.path ?? '/graphql';
  const wss = new WebSocketServer({ noServer: true });
  const mask = maskUnexpectedErrors(log);
  const validationRules = [...specifiedRules, depthLimit(options.limits.maxDepth), aliasLimit(options.limits.maxAliases)];

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  options.server.on('upgrade', onUpgrade);

  const upstreamFor = (extra: ConnectionExtra, identity: Identity, subgraph: string): Client => {
    extra.upstreams ??= new Map();
    let client = extra.upstreams.get(subgraph);
    if (!client) {
      client = createClient({
        url: `${options.subgraphUrl(subgraph).replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        // Connect on the first subscription, close when the last one ends: no idle sockets.
        lazy: true,
        lazyCloseTimeout: 0,
        // A lost upstream ends the client's streams with an error; the client decides to resubscribe.
        retryAttempts: 0,
        // Signed at each (re)connect: the subgraph verifies it once, at connection_init.
        connectionParams: async () => ({ [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(identity, options.internalIdentitySecret) }),
      });
      extra.upstreams.set(subgraph, client);
    }
    return client;
  };

  const subscribeFederated = (context: Extract<OperationContext, { kind: 'subscription' }>): PushStream<StreamResult> => {
    const { plan } = context;
    let token: { value: string; signedAt: number } | undefined;
    const gatewayContext = async (): Promise<GatewayContext> => {
      if (!token || Date.now() - token.signedAt > TOKEN_REFRESH_MS) {
        token = { value: await signInternalIdentity(context.identity, options.internalIdentitySecret), signedAt: Date.now() };
      }
      return { identity: context.identity, internalIdentityToken: token.value, requestId: context.requestId };
    };
    const stream = createPushStream<StreamResult>(() => unsubscribe());
    // Events are resolved one after another, so the client sees them in the order they happened.
    let tail: Promise<void> = Promise.resolve();
    const enqueue = (step: () => Promise<void>): void => {
      tail = tail.then(step).catch((error: unknown) => {
        log.error({ err: error, requestId: context.requestId }, 'subscription event failed');
        stream.push({ data: null, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      });
    };
    const variables: Record<string, unknown> = {};
    for (const name of plan.primary.variableUsages ?? []) if (name in context.variables) variables[name] = context.variables[name];

    const unsubscribe = context.upstream.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query: plan.primary.operation, operationName: plan.primary.operationName, variables },
      {
        next: (event) =>
          enqueue(async () => {
            if (stream.ended) return;
            const result = await executeEvent(planner, options.services, { ...context, context: await gatewayContext() }, event, mask, log);
            stream.push(result);
          }),
        error: (error) =>
          enqueue(async () => {
            stream.push({ data: null, errors: upstreamErrors(error, plan.primary.serviceName, log) });
            stream.end();
          }),
        complete: () => enqueue(async () => stream.end()),
      },
    );
    return stream;
  };

  const disposable = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      async onConnect(ctx) {
        const headers = credentialHeaders(ctx.connectionParams ?? {});
        if (headers === 'invalid') return false;
        try {
          ctx.extra.identity = await options.authenticator.authenticate(headers);
          return true;
        } catch (error) {
          if (!(error instanceof AuthenticationError)) throw error;
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },

      async onSubscribe(ctx, _id, payload) {
        const identity = ctx.extra.identity;
        if (!identity) return [new GraphQLError('connection is not initialised', { extensions: { code: 'UNAUTHENTICATED' } })];
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          return withCode([error instanceof GraphQLError ? error : new GraphQLError('query does not parse')], 'GRAPHQL_PARSE_FAILED');
        }
        const operationName = payload.operationName ?? undefined;
        const operation = getOperationAST(document, operationName);
        if (!operation) return [new GraphQLError('Unable to identify operation', { extensions: { code: 'BAD_REQUEST' } })];
        const requestId = randomUUID();
        const base = { schema: planner.apiGraphQLSchema, document, operationName, variableValues: payload.variables };

        if (operation.operation !== 'subscription') {
          const gateway: GatewayContext = { identity, requestId, internalIdentityToken: await signInternalIdentity(identity, options.internalIdentitySecret) };
          const contextValue: OperationContext = { kind: 'apollo', gateway, payload };
          return { ...base, contextValue };
        }

        const validationErrors = validate(planner.apiGraphQLSchema, document, validationRules);
        if (validationErrors.length > 0) return withCode(validationErrors, 'GRAPHQL_VALIDATION_FAILED');
        const variables = payload.variables ?? {};
        const coerced = getVariableValues(planner.apiGraphQLSchema, operation.variableDefinitions ?? [], variables);
        if (coerced.errors) return withCode(coerced.errors, 'BAD_USER_INPUT');
        const plan = planner.plan(payload.query, document, operationName);
        const contextValue: OperationContext = {
          kind: 'subscription', identity, requestId, query: payload.query, document, operation, operationName, variables, plan,
          upstream: upstreamFor(ctx.extra, identity, plan.primary.serviceName),
        };
        return { ...base, contextValue };
      },

      async execute(args: ExecutionArgs) {
        const context = args.contextValue;
        if (!isOperationContext(context) || context.kind !== 'apollo') throw new Error('operation was not prepared by onSubscribe');
        const { query, variables, operationName, extensions } = context.payload;
        const response = await options.apollo.executeOperation(
          { query, variables: variables ?? undefined, operationName: operationName ?? undefined, extensions: extensions ?? undefined },
          { contextValue: context.gateway },
        );
        if (response.body.kind !== 'single') {
          return { errors: [new GraphQLError('incremental delivery is not supported over WebSocket', { extensions: { code: 'BAD_REQUEST' } })] };
        }
        const { data, errors, extensions: resultExtensions } = response.body.singleResult;
        return { data, ...(errors ? { errors: errors.map((error) => new FormattedError(error)) } : {}), ...(resultExtensions ? { extensions: resultExtensions } : {}) };
      },

      subscribe(args: ExecutionArgs) {
        const context = args.contextValue;
        if (!isOperationContext(context) || context.kind !== 'subscription') throw new Error('subscription was not prepared by onSubscribe');
        const stream = subscribeFederated(context);
        // graphql-ws expects ExecutionResults; ours are already in wire shape.
        const results: AsyncIterableIterator<{ data?: Record<string, unknown> | null; errors?: GraphQLError[] }> = {
          async next() {
            const next = await stream.next();
            if (next.done) return { value: undefined, done: true };
            const { data, errors } = next.value;
            return { value: { data, ...(errors ? { errors: errors.map((error) => new FormattedError(error)) } : {}) }, done: false };
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
        if (ctx.extra.identity?.kind !== 'anonymous' || !isOperationContext(context) || context.kind !== 'subscription') return;
        const refused = result.data == null && result.errors?.some((error) => error.extensions['code'] === 'UNAUTHENTICATED');
        // After this message is written: the client learns why, then must sign in to go on.
        if (refused) setImmediate(() => ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized'));
      },

      onClose(ctx) {
        // graphql-ws has already returned every open stream (which completes each upstream
        // subscription); disposing closes any upstream socket that is still connecting.
        for (const client of ctx.extra.upstreams?.values() ?? []) void client.dispose();
        ctx.extra.upstreams?.clear();
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

/** Why an upstream subscription ended badly, as the errors of the client's last event. */
function upstreamErrors(error: unknown, serviceName: string, log: Logger): GraphQLFormattedError[] {
  // The subgraph refused the operation (an `error` message): its errors already carry codes.
  if (Array.isArray(error) && error.every((e) => typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string')) {
    return (error as GraphQLFormattedError[]).map((e) => ({ message: e.message, extensions: { ...e.extensions, serviceName } }));
  }
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  log.warn({ serviceName, closeCode: code }, 'upstream subscription failed');
  return [{ message: `The subscription source ${serviceName} failed`, extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName } }];
}
