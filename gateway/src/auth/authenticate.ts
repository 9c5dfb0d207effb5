import type { IncomingHttpHeaders } from 'node:http';
import {
  createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify,
  type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { DomainError, ErrorCode } from '../../../subgraphs/kit/errors.js';
import { parseRole, Role, type AuthenticatedIdentity, type Identity, type RoleName } from '../../../subgraphs/kit/identity.js';
import type { PlatformKeys } from '../../../subgraphs/kit/keys.js';
import { PLATFORM_AUDIENCE, PLATFORM_ISSUER } from '../../../subgraphs/kit/tokens.js';

/** An OIDC provider whose ID tokens sign users in (e.g. a partner platform). */
export interface OidcIssuerConfig {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** The organization its users belong to, and the role they get on first sign-in. */
  organizationId: string;
  role: RoleName;
}

/** Who a platform token says its bearer is. */
export interface PlatformUserClaims {
  userId: string;
  role: RoleName;
  organizationId: string | null;
}

/** A learner that still exists, and the cohorts they are enrolled in now (when the owner says). */
export interface LearnerStanding {
  cohortIds?: string[];
}

/**
 * What the gateway asks the subgraphs that own credentials. Each may throw a DomainError
 * (SERVICE_UNAVAILABLE when the owner cannot be asked): the request then fails with it.
 */
export interface CredentialResolver {
  apiKey(key: string): Promise<Identity | null>;
  oidc(signIn: { issuer: string; subject: string; email?: string; name?: string; organizationId: string; role: RoleName }): Promise<Identity>;
  /** Whether the user a platform token names is still active, with that role in that organization. */
  platformUser(claims: PlatformUserClaims): Promise<boolean>;
  /** A learner's standing; null once the learner no longer exists (retention deletes learners). */
  learner(learnerId: string): Promise<LearnerStanding | null>;
}

/** A credential was presented and is not acceptable (401 UNAUTHENTICATED). Nothing downstream runs. */
export class AuthenticationError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

/** A verified caller, and until when the credential that proved it holds. */
export interface VerifiedCredential {
  identity: Identity;
  /**
   * Epoch milliseconds of the token's `exp` (platform and OIDC tokens); null when the
   * credential does not expire by itself (API keys, which are revoked instead; anonymous).
   * Long-lived streams end at this instant: a request is checked once, a stream must not
   * outlive the credential that opened it.
   */
  expiresAt: number | null;
}

const ASYMMETRIC_ALGS = ['ES256', 'ES384', 'RS256', 'RS384', 'PS256', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 5;
/** How far a token's `iat` may be ahead of our clock: issuers' clocks drift, but not by minutes. */
const MAX_ISSUED_AHEAD_SECONDS = 60;

/**
 * Verifies what the caller presents, once, at the edge: platform session JWTs (our own keys),
 * OIDC ID tokens (the issuer's JWKS, fetched and cached), and API keys (checked by the identity
 * subgraph, which keeps only their hashes). No credential at all is an anonymous identity;
 * the subgraphs' rules decide what anonymous callers may do (almost nothing).
 */
export class Authenticator {
  private readonly platformKeySet: JWTVerifyGetKey;
  private readonly oidcKeySets = new Map<string, { config: OidcIssuerConfig; keys: JWTVerifyGetKey }>();

  constructor(
    keys: PlatformKeys,
    oidcIssuers: OidcIssuerConfig[],
    private readonly resolver: CredentialResolver,
  ) {
    this.platformKeySet = createLocalJWKSet({ keys: keys.publicKeys });
    for (const config of oidcIssuers) {
      this.oidcKeySets.set(config.issuer, {
        config,
        keys: createRemoteJWKSet(new URL(config.jwksUri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 }),
      });
    }
  }

  async authenticate(headers: IncomingHttpHeaders): Promise<Identity> {
    return (await this.verifyCredential(headers)).identity;
  }

  /** As `authenticate`, with the credential's expiry, for connections that stay open. */
  async verifyCredential(headers: IncomingHttpHeaders): Promise<VerifiedCredential> {
    const authorization = headers['authorization'];
    const apiKey = headers['x-api-key'];
    if (authorization && apiKey) throw new AuthenticationError('send either a bearer token or an API key, not both');
    if (typeof apiKey === 'string') return { identity: await this.fromApiKey(apiKey), expiresAt: null };
    if (typeof authorization === 'string') {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!match?.[1]) throw new AuthenticationError('Authorization must be "Bearer <token>"');
      return this.fromBearer(match[1]);
    }
    return { identity: { kind: 'anonymous' }, expiresAt: null };
  }

  private async fromApiKey(key: string): Promise<Identity> {
    const identity = await this.resolver.apiKey(key.trim());
    if (!identity) throw new AuthenticationError('API key is not valid');
    return identity;
  }

  private async fromBearer(token: string): Promise<VerifiedCredential> {
    let issuer: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (!header.alg || !ASYMMETRIC_ALGS.includes(header.alg)) throw new AuthenticationError(`token algorithm ${String(header.alg)} is not accepted`);
      issuer = decodeJwt(token).iss;
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      throw new AuthenticationError('token is malformed');
    }
    if (issuer === PLATFORM_ISSUER) {
      const payload = await this.verify(token, this.platformKeySet, PLATFORM_ISSUER, PLATFORM_AUDIENCE);
      return { identity: await this.standing(platformIdentity(payload)), expiresAt: expiryOf(payload) };
    }
    const oidc = issuer ? this.oidcKeySets.get(issuer) : undefined;
    if (!oidc) throw new AuthenticationError('token issuer is not trusted');
    const payload = await this.verify(token, oidc.keys, oidc.config.issuer, oidc.config.audience);
    if (!payload.sub) throw new AuthenticationError('token has no subject');
    const identity = await this.resolver.oidc({
      issuer: oidc.config.issuer,
      subject: payload.sub,
      email: typeof payload['email'] === 'string' ? payload['email'] : undefined,
      name: typeof payload['name'] === 'string' ? payload['name'] : undefined,
      organizationId: oidc.config.organizationId,
      role: oidc.config.role,
    });
    return { identity, expiresAt: expiryOf(payload) };
  }

  /**
   * A signed token outlives what it says: its user may have been deactivated, lost the role, or
   * (a learner) been deleted since. The owners are asked (answers cached up to 60 s).
   */
  private async standing(identity: AuthenticatedIdentity): Promise<Identity> {
    if (identity.role === Role.LEARNER) {
      const learner = await this.resolver.learner(identity.subject);
      if (!learner) throw new AuthenticationError('the learner this token names no longer exists');
      const enrolled = learner.cohortIds;
      // Only ever narrowed: a cohort the learner has left stops counting; the token grants no new one.
      return identity.cohortIds && enrolled ? { ...identity, cohortIds: identity.cohortIds.filter((id) => enrolled.includes(id)) } : identity;
    }
    const active = await this.resolver.platformUser({ userId: identity.subject, role: identity.role, organizationId: identity.organizationId });
    if (!active) throw new AuthenticationError('the user this token names is not active with this role');
    return identity;
  }

  private async verify(token: string, keys: JWTVerifyGetKey, issuer: string, audience: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keys, { issuer, audience, algorithms: ASYMMETRIC_ALGS, clockTolerance: CLOCK_TOLERANCE_SECONDS });
      if (payload.exp === undefined) throw new AuthenticationError('token has no expiry');
      // jose checks iat only against a maximum age; a token "issued" in the future is forged or from a broken clock.
      if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + MAX_ISSUED_AHEAD_SECONDS) throw new AuthenticationError('token was issued in the future');
      return payload;
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      if (error instanceof joseErrors.JOSEError) throw new AuthenticationError(describeJoseError(error));
      throw error;
    }
  }
}

/** `verify` refuses tokens without `exp`, so this is always a number for a verified token. */
function expiryOf(payload: JWTPayload): number {
  return (payload.exp ?? 0) * 1000;
}

function describeJoseError(error: joseErrors.JOSEError): string {
  switch (error.code) {
    case 'ERR_JWT_EXPIRED': return 'token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': return `token claim ${(error as joseErrors.JWTClaimValidationFailed).claim} is not valid`;
    case 'ERR_JWKS_NO_MATCHING_KEY': return 'token key id is not known';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'token signature is not valid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'token algorithm is not accepted';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID': return 'token issuer keys are unavailable';
    default: return 'token is not valid';
  }
}

function platformIdentity(payload: JWTPayload): AuthenticatedIdentity {
  const role = typeof payload['role'] === 'string' ? parseRole(payload['role']) : undefined;
  if (!payload.sub || !role) throw new AuthenticationError('token lacks subject or role');
  const org = payload['org'];
  const cohorts = payload['cohorts'];
  return {
    kind: 'user',
    subject: payload.sub,
    role,
    organizationId: typeof org === 'string' ? org : null,
    patientId: typeof payload['pid'] === 'string' ? payload['pid'] : null,
    ...(Array.isArray(cohorts) ? { cohortIds: cohorts.filter((c): c is string => typeof c === 'string') } : {}),
  };
}
