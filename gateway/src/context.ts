import type { Identity } from '../../subgraphs/kit/identity.js';
import type { Logger } from '../../subgraphs/kit/logger.js';
import type { SignedIdentity } from './runtime/signer.js';

/** Per operation at the gateway: who is calling (verified), how subgraphs are told so, and the request it belongs to. */
export interface GatewayContext {
  identity: Identity;
  /** The caller's internal identity token, signed by the gateway's one signer (re-signed for long-lived subscriptions). */
  internalIdentity: SignedIdentity;
  /** Sent to every subgraph fetch of the operation. */
  requestId: string;
  log: Logger;
}
