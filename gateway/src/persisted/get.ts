import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { headerMapFrom, send, type RouteRequest } from '../../../subgraphs/kit/http.js';
import type { GatewayContext } from '../context.js';
import { CACHE_HEADER } from './cache-plugin.js';

/** Whether a GET /graphql names a persisted query (`extensions={"persistedQuery":…}`). */
export function isPersistedGet(request: RouteRequest): boolean {
  if (request.method !== 'GET') return false;
  const extensions = request.url.searchParams.get('extensions');
  if (!extensions) return false;
  try {
    const parsed: unknown = JSON.parse(extensions);
    return typeof parsed === 'object' && parsed !== null && 'persistedQuery' in parsed;
  } catch {
    return false;
  }
}

/** `If-None-Match` holds this ETag (or `*`); weak comparison, as RFC 9110 asks for GET. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strip = (tag: string): string => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || strip(tag) === strip(etag));
}

/**
 * `GET /graphql?extensions=…&variables=…`: a persisted query by id, answerable from an HTTP
 * cache. A complete answer without errors carries an ETag (a hash of the body) and
 * `Cache-Control: private, max-age=N`: private because every answer is the caller's view
 * (their organization, their cohorts), short because the figures move. A matching
 * `If-None-Match` gets 304 without a body; the operation still runs, so access is checked
 * again on every request: a revoked key never gets a 304.
 */
export async function servePersistedGet(
  apollo: ApolloServer<GatewayContext>,
  request: RouteRequest,
  res: ServerResponse,
  context: () => Promise<GatewayContext>,
  maxAgeSeconds: number,
): Promise<void> {
  const headers = headerMapFrom(request.headers);
  // Apollo's CSRF guard wants a preflight header on GET. Credentials travel only in headers
  // (Authorization, X-API-Key), which a cross-site page cannot attach to a simple GET, and a
  // GET runs only queries, so the guard protects nothing here and would turn BI tools away.
  headers.set('apollo-require-preflight', 'true');
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: 'GET', headers, search: request.url.search, body: undefined },
    context,
  });
  const out: Record<string, string> = {};
  for (const [key, value] of response.headers) out[key] = value;
  const status = response.status ?? 200;
  if (response.body.kind !== 'complete') {
    res.writeHead(status, { ...out, 'cache-control': 'no-store' });
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
    return;
  }
  const body = response.body.string;
  let cacheable = false;
  if (status === 200) {
    try {
      const parsed = JSON.parse(body) as { errors?: unknown[]; data?: unknown };
      cacheable = !parsed.errors && parsed.data !== undefined;
    } catch {
      cacheable = false;
    }
  }
  if (!cacheable) return send(res, { status, body, headers: { 'cache-control': out['cache-control'] ?? 'no-store', ...out } });
  const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
  const caching = { etag, 'cache-control': `private, max-age=${maxAgeSeconds}`, vary: 'authorization, x-api-key' };
  const ifNoneMatch = request.headers['if-none-match'];
  if (matches(typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, etag)) {
    // A hit from the gateway's response cache has the body of the miss, so the ETag still matches.
    const cacheState = out[CACHE_HEADER];
    return send(res, { status: 304, headers: cacheState ? { ...caching, [CACHE_HEADER]: cacheState } : caching });
  }
  send(res, { status, body, headers: { ...out, ...caching } });
}
