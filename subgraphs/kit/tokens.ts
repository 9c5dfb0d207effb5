import { SignJWT } from 'jose';
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
