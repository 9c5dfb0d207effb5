import { createLocalJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { SubgraphDeps } from './context.js';
import type { RoleName } from './identity.js';
import { importSigningKey, PLATFORM_ALG, type PlatformKeys } from './keys.js';

export const PLATFORM_ISSUER = 'https://caregraph.local/platform';
export const PLATFORM_AUDIENCE = 'caregraph-api';

export interface PlatformTokenClaims {
  userId: string;
  role: RoleName;
  organizationId: string | null;
  patientId?: string | null;
  cohortIds?: string[];
}

/** Mints a platform session token: what `npm run token` prints and what sign-in flows issue. */
export async function signPlatformToken(keys: PlatformKeys, claims: PlatformTokenClaims, ttlSeconds = 3600): Promise<string> {
  if (!keys.signingKey) throw new Error('no AUTH_SIGNING_KEY configured: this process cannot mint tokens');
  return new SignJWT({
    role: claims.role,
    org: claims.organizationId,
    ...(claims.patientId ? { pid: claims.patientId } : {}),
    ...(claims.cohortIds ? { cohorts: claims.cohortIds } : {}),
  })
    .setProtectedHeader({ alg: PLATFORM_ALG, kid: keys.signingKey.kid, typ: 'JWT' })
    .setIssuer(PLATFORM_ISSUER)
    .setAudience(PLATFORM_AUDIENCE)
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(await importSigningKey(keys.signingKey));
}

/** What a subgraph gets to mint session tokens with (learners launched by a partner); none without a signing key. */
export function tokenIssuer(keys: PlatformKeys): SubgraphDeps['issueToken'] {
  if (!keys.signingKey) return undefined;
  return (claims, ttlSeconds) => signPlatformToken(keys, claims, ttlSeconds);
}

/**
 * Documents the platform signs for people outside it to check (an e-prescription's QR code): a
 * compact JWS with the platform's key, under their own issuer, audience and `typ`, so a
 * document is never taken for a session token (the gateway wants the platform's issuer and
 * audience) and one kind of document never for another. Anyone can check it against the
 * platform's published keys (`/.well-known/jwks.json`), rotated ones included.
 */
export const DOCUMENT_ISSUER = 'https://caregraph.local/documents';

export type DocumentCheck = { status: 'valid' | 'expired'; payload: JWTPayload } | { status: 'invalid' };

export interface DocumentSigner {
  sign(claims: Record<string, unknown>, options: { type: string; audience: string; id: string; expiresAt: Date }): Promise<string>;
  /** `invalid`: not a document of this type and audience signed by the platform (tampered, forged, malformed). */
  verify(token: string, options: { type: string; audience: string }): Promise<DocumentCheck>;
}

export function documentSigner(keys: PlatformKeys): DocumentSigner | undefined {
  const signingKey = keys.signingKey;
  if (!signingKey) return undefined;
  const published = createLocalJWKSet({ keys: keys.publicKeys });
  return {
    async sign(claims, options) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: PLATFORM_ALG, kid: signingKey.kid, typ: options.type })
        .setIssuer(DOCUMENT_ISSUER)
        .setAudience(options.audience)
        .setJti(options.id)
        .setIssuedAt()
        .setExpirationTime(Math.floor(options.expiresAt.getTime() / 1000))
        .sign(await importSigningKey(signingKey));
    },
    async verify(token, options) {
      try {
        const { payload } = await jwtVerify(token, published, { issuer: DOCUMENT_ISSUER, audience: options.audience, typ: options.type, algorithms: [PLATFORM_ALG] });
        return { status: 'valid', payload };
      } catch (error) {
        // jose checks the signature before the claims: an expired document is still the platform's.
        if (error instanceof joseErrors.JWTExpired) return { status: 'expired', payload: error.payload };
        return { status: 'invalid' };
      }
    },
  };
}
