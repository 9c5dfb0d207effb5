import { signInternalIdentity, type Identity } from '../../../subgraphs/kit/identity.js';

/** Internal identity tokens live 60 s (kit/identity.ts); a holder re-signs at half that. */
const REFRESH_AFTER_MS = 30_000;

/** The gateway's own identity, for the calls it makes on nobody's behalf (credential checks). */
export const GATEWAY_IDENTITY: Identity = { kind: 'service', subject: 'gateway', role: 'SERVICE', organizationId: null };

/** A token for one identity, signed on first use and re-signed before it can lapse. */
export type SignedIdentity = () => Promise<string>;

/**
 * The one place the gateway signs the internal identity subgraphs trust: requests, proxied
 * routes, credential checks, upstream subscriptions and their per-event fetches all get their
 * token here.
 */
export class IdentitySigner {
  private readonly service: SignedIdentity;

  constructor(private readonly secret: string) {
    this.service = this.holder(GATEWAY_IDENTITY);
  }

  sign(identity: Identity): Promise<string> {
    return signInternalIdentity(identity, this.secret);
  }

  /** For something that lives longer than a token may (a subscription) or asks more than once (a request's fetches). */
  holder(identity: Identity): SignedIdentity {
    let current: { token: Promise<string>; signedAt: number } | undefined;
    return () => {
      if (!current || Date.now() - current.signedAt > REFRESH_AFTER_MS) current = { token: this.sign(identity), signedAt: Date.now() };
      return current.token;
    };
  }

  /** The gateway's own signed identity. */
  gateway(): Promise<string> {
    return this.service();
  }
}
