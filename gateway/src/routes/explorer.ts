import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorResponse, type RouteResponse } from '../../../subgraphs/kit/http.js';
import type { PersistedOperations } from '../persisted/manifest.js';
import type { GatewayRequest } from '../runtime/request.js';
import type { GatewayModule } from '../runtime/router.js';

/**
 * The explorer: GraphiQL bundled from npm packages (gateway/explorer/web, built by
 * `npm run build:explorer`), served at /graphql to browsers while introspection is on. Its page
 * allows nothing but this gateway (Content-Security-Policy): no CDN, no fonts from elsewhere,
 * no telemetry — it works offline, and PHI typed or shown in it goes nowhere else.
 */

export const EXPLORER_DIST = 'gateway/explorer/dist';
const ASSETS: Record<string, string> = { 'explorer.js': 'text/javascript; charset=utf-8', 'explorer.css': 'text/css; charset=utf-8' };

/** A browser navigating to /graphql (HTML wanted, no operation in the query string). */
export function wantsExplorer(request: GatewayRequest): boolean {
  const accept = request.headers['accept'] ?? '';
  return accept.includes('text/html') && !request.url.searchParams.has('query') && !request.url.searchParams.has('extensions');
}

export interface Explorer {
  page(request: GatewayRequest): RouteResponse;
  module: GatewayModule;
}

export function createExplorer(deps: { operations: PersistedOperations; distDir?: string }): Explorer {
  const distDir = deps.distDir ?? EXPLORER_DIST;
  const built = (): boolean => existsSync(join(distDir, 'explorer.js'));
  const operations = JSON.stringify({
    operations: deps.operations.manifest.operations.map(({ id, name, type, body }) => ({ id, name, type, body })).sort((a, b) => a.name.localeCompare(b.name)),
  });

  const securityHeaders = (request: GatewayRequest): Record<string, string> => {
    const host = request.headers['host'] ?? '127.0.0.1';
    return {
      'content-security-policy': [
        "default-src 'self'", `connect-src 'self' ws://${host} wss://${host}`, "script-src 'self'",
        // GraphiQL sets inline styles; its fonts and icons are data: URIs in its stylesheet.
        "style-src 'self' 'unsafe-inline'", "font-src 'self' data:", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'",
      ].join('; '),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
  };

  return {
    page(request) {
      if (!built()) return errorResponse('SERVICE_UNAVAILABLE', 'The explorer is not built: run `npm run build:explorer`');
      const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CareGraph explorer</title>
<link rel="stylesheet" href="/graphql/explorer/explorer.css">
</head>
<body style="margin:0">
<div id="explorer" style="height:100vh"></div>
<script src="/graphql/explorer/explorer.js"></script>
</body>
</html>
`;
      return { status: 200, body: html, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...securityHeaders(request) } };
    },
    module: {
      name: 'explorer',
      routes: [
        {
          method: 'GET',
          path: '/graphql/explorer/:file',
          async handle(request) {
            const file = request.params['file'] ?? '';
            if (file === 'operations.json') return { status: 200, body: operations, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' } };
            const type = ASSETS[file];
            if (!type) return errorResponse('NOT_FOUND', 'no such explorer file');
            if (!built()) return errorResponse('SERVICE_UNAVAILABLE', 'The explorer is not built: run `npm run build:explorer`');
            return { status: 200, body: readFileSync(join(distDir, file)), headers: { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } };
          },
        },
      ],
    },
  };
}
