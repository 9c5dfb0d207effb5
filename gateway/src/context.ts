import type { Identity } from '../../subgraphs/kit/identity.js';

/** Per request at the gateway: who is calling (verified) and the token that says so to subgraphs. */
export interface GatewayContext {
  identity: Identity;
  internalIdentityToken: string;
  requestId: string;
}
