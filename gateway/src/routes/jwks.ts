import type { PlatformKeys } from '../../../subgraphs/kit/keys.js';
import type { GatewayModule } from '../runtime/router.js';

/** The public keys platform tokens are verified with, for other services and token inspectors. */
export function jwksModule(deps: { keys: PlatformKeys }): GatewayModule {
  return {
    name: 'jwks',
    routes: [{
      method: 'GET',
      path: '/.well-known/jwks.json',
      handle: async () => ({ status: 200, body: { keys: deps.keys.publicKeys }, headers: { 'cache-control': 'public, max-age=300' } }),
    }],
  };
}
