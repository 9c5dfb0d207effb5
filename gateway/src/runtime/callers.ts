import type { Identity } from '../../../subgraphs/kit/identity.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { GatewayContext } from '../context.js';
import type { GatewayRequest, RequestScope } from './request.js';
import type { IdentitySigner } from './signer.js';

/**
 * Who is calling, as an operation's context: verified once per request by the Authenticator
 * (a bad credential throws AuthenticationError, answered 401; an owner that cannot be asked
 * throws SERVICE_UNAVAILABLE, answered 503), with the token subgraphs will trust and the
 * request's id and logger. /graphql, REST aliases, BI exports and proxied routes all use it.
 */
export class Callers {
  constructor(
    readonly authenticator: Authenticator,
    private readonly signer: IdentitySigner,
  ) {}

  async of(request: GatewayRequest): Promise<GatewayContext> {
    return this.context(await this.authenticator.authenticate(request.headers), request);
  }

  context(identity: Identity, scope: RequestScope): GatewayContext {
    return { identity, internalIdentity: this.signer.holder(identity), requestId: scope.requestId, log: scope.log };
  }
}
