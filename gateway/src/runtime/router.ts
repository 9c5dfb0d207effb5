import type { Server, ServerResponse } from 'node:http';
import { domainError, ErrorCode } from '../../../subgraphs/kit/errors.js';
import { matchPath, type HttpMethod, type RouteResponse } from '../../../subgraphs/kit/http.js';
import type { GatewayRequest } from './request.js';

/**
 * Answers one request: either returns the response (the runtime sends it) or writes to `res`
 * itself (streams, Apollo's answers) and returns nothing. A thrown DomainError is answered with
 * its code's status.
 */
export type RouteHandler = (request: GatewayRequest, res: ServerResponse) => Promise<RouteResponse | void>;

export interface Route {
  /** `*`: every method; the handler answers the ones it does not serve (a protocol with its own rules). */
  method: HttpMethod | '*';
  /** `/a/:id/b`: `:name` segments are params. Also the route's label in the metrics. */
  path: string;
  handle: RouteHandler;
}

/** A piece of the gateway: the routes it serves, and what it needs when the server exists and when it stops. */
export interface GatewayModule {
  name: string;
  routes: Route[];
  /** Once the HTTP server exists (WebSocket upgrades attach here). */
  attach?(server: Server): void;
  close?(): Promise<void>;
}

export type RouteMatch =
  | { kind: 'route'; route: Route; params: Record<string, string> }
  /** The path exists, not for this method. */
  | { kind: 'method'; path: string; allow: string[] }
  | { kind: 'none' };

/** Method + path → handler. The first route registered for a path and method wins (modules register in priority order). */
export class RouteTable {
  private readonly routes: Route[] = [];

  add(...routes: Route[]): this {
    this.routes.push(...routes);
    return this;
  }

  match(method: string, pathname: string): RouteMatch {
    const allow = new Set<string>();
    let matchedPath: string | undefined;
    for (const route of this.routes) {
      let params: Record<string, string> | null;
      try {
        params = matchPath(route.path, pathname);
      } catch (error) {
        // decodeURIComponent on a malformed %-escape: the caller's request is at fault.
        if (error instanceof URIError) throw domainError(ErrorCode.BAD_USER_INPUT, 'the path is not validly encoded', { field: 'path' });
        throw error;
      }
      if (!params) continue;
      if (route.method === '*' || route.method === method) return { kind: 'route', route, params };
      matchedPath ??= route.path;
      allow.add(route.method);
    }
    return matchedPath ? { kind: 'method', path: matchedPath, allow: [...allow] } : { kind: 'none' };
  }
}
