import type { Server } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { createContext, type SubgraphContext, type SubgraphDeps } from './context.js';
import { databaseAnswers } from './database.js';
import { maskUnexpectedErrors } from './errors-format.js';
import {
  closeServer, createHttpServer, errorResponse, listen, matchPath, send, serveGraphQL,
  type HttpMethod, type RouteRequest, type RouteResponse,
} from './http.js';
import { EventConsumerRunner, type EventConsumer } from './events/consumers.js';
import { Poller } from './poller.js';
import type { AccessPolicies } from './access.js';
import { applyShield, type IRules } from './shield.js';
import { serveSubscriptions } from './subscriptions.js';
import { INTERNAL_IDENTITY_HEADER, InvalidInternalIdentity, verifyInternalIdentity, type Identity } from './identity.js';

export interface SubgraphRoute {
  method: HttpMethod;
  /** `/webhooks/stripe`, `/integrations/partner/cohorts/:id/analytics` */
  path: string;
  /** Public routes are also served at the gateway's address (webhooks, REST aliases). */
  public: boolean;
  /** A vendor's own credential arrives in `Authorization`, for the route to check (kit/routes.ts). */
  vendorAuthorization?: boolean;
  /**
   * `deps` is the process's (system access: webhooks from vendors act for no user); `ctx` is
   * the caller's, with the access-checked data path, for routes that act for the caller.
   */
  handle(request: RouteRequest & { identity: Identity }, deps: SubgraphDeps, ctx: SubgraphContext): Promise<RouteResponse>;
}

/**
 * Work a subgraph does in the background: `step` handles what is due and returns how much it
 * did; it is polled every `intervalMs` (and again at once while it finds work). Outside calls
 * belong here rather than in an event consumer, whose transaction would hold a database
 * connection for the length of the call.
 */
export interface SubgraphWorker {
  name: string;
  intervalMs: number;
  step(deps: SubgraphDeps): Promise<number>;
}

/** A server a subgraph runs beside its HTTP one; `start` answers null when it is not configured. */
export interface SubgraphListener {
  name: string;
  start(deps: SubgraphDeps): Promise<{ address: string; close(): Promise<void> } | null>;
}

/** Everything a subgraph is: the same shape for all of them (see subgraphs/<name>/index.ts). */
export interface SubgraphDefinition {
  name: string;
  /** Port used when the subgraph runs as its own process and nothing else is configured. */
  defaultPort: number;
  /** The subgraph schema, as Pothos builds it (printed by `npm run compose`). */
  buildSchema(): GraphQLSchema;
  /** Its shield rules: deny by default, applied by the kit when serving. */
  permissions: IRules;
  /** Which rows of each of its models a caller may read and change (kit/access.ts). */
  policies: AccessPolicies;
  routes: SubgraphRoute[];
  /** How it reacts to other domains' events (durable: see kit/events/consumers.ts). */
  consumers?: EventConsumer[];
  /** Background work it polls for (deliveries to outside systems, with their own retry schedule). */
  workers?: SubgraphWorker[];
  /** Servers of its own beside HTTP (the lab's MLLP port), started and stopped with it. */
  listeners?: SubgraphListener[];
  /** Loads its part of the synthetic demo data (idempotent); run by `--seed`, `npm start` and the tests. */
  seed?(deps: SubgraphDeps): Promise<void>;
}

export interface RunningSubgraph {
  name: string;
  url: string;
  /** Its other listeners by name, with their addresses (host:port). */
  listeners: Record<string, string>;
  close(): Promise<void>;
}

export interface SubgraphServerOptions {
  deps: SubgraphDeps;
  internalIdentitySecret: string;
  port?: number;
  host?: string;
  bodyLimitBytes?: number;
}

/**
 * Serves one subgraph over HTTP: `/graphql`, its own routes and `/health`. Every request
 * except `/health` must carry the gateway's signed identity; without it the answer is 401,
 * so calling a subgraph directly is not a way around the gateway. `/graphql` also speaks
 * graphql-ws (same shielded schema), where the gateway forwards subscriptions.
 */
export async function startSubgraph(definition: SubgraphDefinition, options: SubgraphServerOptions): Promise<RunningSubgraph> {
  const { deps } = options;
  const log = deps.log.child({ subgraph: definition.name });
  const schema = applyShield(definition.buildSchema(), definition.permissions);
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    includeStacktraceInErrorResponses: false,
    // Only the gateway calls a subgraph, after validating against the supergraph: no "Did you mean…" here.
    hideSchemaDetailsFromClientErrors: true,
    formatError: maskUnexpectedErrors(log),
    csrfPrevention: true,
    // Federated tracing is for Apollo's hosted studio, which CareGraph does not use.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await apollo.start();

  const server: Server = createHttpServer(
    async (request, res) => {
      if (request.url.pathname === '/health') {
        // Ready only while its database answers: a gateway's /ready (and a load balancer) sees an outage here.
        const database = await databaseAnswers(deps.prisma);
        return send(res, { status: database ? 200 : 503, body: { status: database ? 'ok' : 'unavailable', subgraph: definition.name, database: database ? 'ok' : 'unavailable' } });
      }

      let identity: Identity;
      try {
        const header = request.headers[INTERNAL_IDENTITY_HEADER];
        identity = await verifyInternalIdentity(typeof header === 'string' ? header : undefined, options.internalIdentitySecret);
      } catch (error) {
        if (!(error instanceof InvalidInternalIdentity)) throw error;
        return send(res, errorResponse('UNAUTHENTICATED', 'requests must come through the gateway'));
      }
      const requestId = typeof request.headers['x-request-id'] === 'string' ? request.headers['x-request-id'] : undefined;

      if (request.url.pathname === '/graphql') {
        return serveGraphQL(apollo, request, res, async () => createContext({ ...deps, log }, definition, identity, requestId));
      }
      for (const route of definition.routes) {
        if (route.method !== request.method) continue;
        const params = matchPath(route.path, request.url.pathname);
        if (params) return send(res, await route.handle({ ...request, params, identity }, { ...deps, log }, createContext({ ...deps, log }, definition, identity, requestId)));
      }
      send(res, errorResponse('NOT_FOUND', 'no such route'));
    },
    { bodyLimitBytes: options.bodyLimitBytes ?? 2_000_000, onError: (error) => log.error({ err: error }, 'request failed') },
  );
  const subscriptions = serveSubscriptions(server, { schema, deps: { ...deps, log }, owner: definition, internalIdentitySecret: options.internalIdentitySecret });
  const url = await listen(server, options.port ?? 0, options.host);
  log.info({ url }, 'subgraph listening');
  const consumers = new EventConsumerRunner({ prisma: deps.prisma, log, consumers: definition.consumers ?? [], deps: { ...deps, log } });
  consumers.start();
  const workers = (definition.workers ?? []).map((worker) => new Poller(`${definition.name}.${worker.name}`, worker.intervalMs, () => worker.step({ ...deps, log }), log));
  for (const worker of workers) worker.start();
  const listeners: Array<{ name: string; address: string; close(): Promise<void> }> = [];
  for (const listener of definition.listeners ?? []) {
    const started = await listener.start({ ...deps, log });
    if (started) listeners.push({ name: listener.name, ...started });
  }
  // Idempotent: a test may stop a subgraph early (to see the gateway cope) and again at the end.
  let closing: Promise<void> | undefined;
  return {
    name: definition.name,
    url,
    listeners: Object.fromEntries(listeners.map((listener) => [listener.name, listener.address])),
    close() {
      closing ??= (async () => {
        await Promise.all(listeners.map((listener) => listener.close()));
        await consumers.stop();
        await Promise.all(workers.map((worker) => worker.stop()));
        await subscriptions.close();
        await closeServer(server);
        await apollo.stop();
      })();
      return closing;
    },
  };
}
