import { ANONYMOUS, INTERNAL_IDENTITY_HEADER } from '../../../subgraphs/kit/identity.js';
import type { PublicRoute } from '../../../subgraphs/kit/routes.js';
import type { Callers } from '../runtime/callers.js';
import { REQUEST_ID_HEADER } from '../runtime/request.js';
import type { GatewayModule, Route } from '../runtime/router.js';
import type { Subgraphs } from '../runtime/subgraphs.js';

/** Headers that describe one hop, or carry credentials the gateway has already replaced. */
const NOT_FORWARDED_TO_VENDOR_ROUTES = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length', 'x-api-key', 'cookie', INTERNAL_IDENTITY_HEADER, REQUEST_ID_HEADER]);
/** … and the platform credential (`Authorization`), verified here and replaced by the signed identity. */
const NOT_FORWARDED = new Set([...NOT_FORWARDED_TO_VENDOR_ROUTES, 'authorization']);
const NOT_RETURNED = new Set(['content-length', 'transfer-encoding', 'connection', 'content-encoding']);

/**
 * The subgraphs' public routes (webhooks, integrations) at the gateway's address: the caller is
 * verified, and the request goes on with its raw body untouched (webhook signatures are
 * computed over it), the caller's signed identity and the request id. A route whose vendor
 * proves itself in `Authorization` gets that header as sent, and an anonymous caller. A subgraph that is down
 * or too slow is answered 502 / 504.
 */
export function proxyModule(deps: { routes: readonly PublicRoute[]; subgraphs: Subgraphs; callers: Callers }): GatewayModule {
  const { subgraphs, callers } = deps;
  const proxied = (route: PublicRoute): Route => ({
    method: route.method,
    path: route.path,
    async handle(request) {
      // A vendor's own credential is the route's to check: the caller is nobody the platform knows.
      const context = route.vendorAuthorization ? callers.context(ANONYMOUS, request) : await callers.of(request);
      const dropped = route.vendorAuthorization ? NOT_FORWARDED_TO_VENDOR_ROUTES : NOT_FORWARDED;
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.headers)) {
        if (value !== undefined && !dropped.has(key)) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      }
      const upstream = await subgraphs.call(route.subgraph, `${request.url.pathname}${request.url.search}`, {
        method: request.method,
        headers,
        body: request.method === 'GET' ? undefined : request.body,
        identity: context.internalIdentity,
        requestId: request.requestId,
      });
      // Status and headers as the subgraph gave them (a redirect's Location included), each
      // Set-Cookie on its own (joined, they would be one broken cookie).
      const responseHeaders: Record<string, string | string[]> = {};
      upstream.headers.forEach((value, key) => {
        if (!NOT_RETURNED.has(key) && key !== 'set-cookie') responseHeaders[key] = value;
      });
      const cookies = upstream.headers.getSetCookie();
      if (cookies.length > 0) responseHeaders['set-cookie'] = cookies;
      return { status: upstream.status, body: upstream.body, headers: responseHeaders };
    },
  });
  return { name: 'proxy', routes: deps.routes.map(proxied) };
}
