import { readFileSync } from 'node:fs';
import type { HttpMethod } from './http.js';
import type { SubgraphDefinition } from './subgraph.js';

/**
 * A subgraph route the gateway also serves at the public address (webhooks, REST integrations).
 * Each subgraph declares its routes; `npm run compose` writes them to `schema/public-routes.json`,
 * which a separately started gateway reads, so the gateway never imports domain code.
 */
export interface PublicRoute {
  subgraph: string;
  method: HttpMethod;
  path: string;
  /**
   * The caller is a vendor proving itself in `Authorization` its own way (Google Health sends
   * its webhook secret there, without a scheme): the gateway does not read that header as a
   * platform credential, passes it on, and the route checks it.
   */
  vendorAuthorization?: boolean;
}

export const PUBLIC_ROUTES_PATH = 'schema/public-routes.json';

export function publicRoutesOf(definitions: readonly SubgraphDefinition[]): PublicRoute[] {
  return definitions.flatMap((d) => d.routes.filter((r) => r.public).map((r) => ({ subgraph: d.name, method: r.method, path: r.path, ...(r.vendorAuthorization ? { vendorAuthorization: true } : {}) })));
}

const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Reads the composed route table; a malformed file stops the gateway at start rather than misrouting. */
export function readPublicRoutes(path = PUBLIC_ROUTES_PATH): PublicRoute[] {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${path} is not a list of routes`);
  return parsed.map((entry: unknown, index) => {
    const route = entry as Partial<PublicRoute> | null;
    if (!route || typeof route.subgraph !== 'string' || typeof route.path !== 'string' || !route.path.startsWith('/') || typeof route.method !== 'string' || !METHODS.has(route.method)) {
      throw new Error(`${path}: route ${index} is malformed`);
    }
    if (route.vendorAuthorization !== undefined && typeof route.vendorAuthorization !== 'boolean') throw new Error(`${path}: route ${index} is malformed`);
    return { subgraph: route.subgraph, method: route.method, path: route.path, ...(route.vendorAuthorization ? { vendorAuthorization: true } : {}) };
  });
}
