import {
  createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify,
  type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import type { Partner, PrismaClient } from '../../prisma/generated/client/client.js';
import { domainError, type DomainError } from '../kit/errors.js';

/**
 * Tokens a partner signs (launch JWTs, OIDC ID tokens): which partner issued one, and whether
 * its signature, issuer and audience hold. Every refusal is UNAUTHENTICATED with its reason.
 */

export const CLOCK_SKEW_SECONDS = 30;

const jwksByUri = new Map<string, JWTVerifyGetKey>();

/** A partner's JWKS, fetched and cached per URI for the life of the process. */
export function partnerKeys(uri: string): JWTVerifyGetKey {
  let keys = jwksByUri.get(uri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(uri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 });
    jwksByUri.set(uri, keys);
  }
  return keys;
}

export const launchRejected = (reason: string): DomainError => domainError('UNAUTHENTICATED', `launch token rejected: ${reason}`, { reason });

/**
 * Reads (without trusting it yet) a partner token's algorithm, and finds the partner by its
 * issuer. `prisma` is the system client: the caller is anonymous and the token not yet verified.
 */
export async function partnerOf(prisma: PrismaClient, token: string): Promise<{ partner: Partner; alg: string | undefined }> {
  let alg: string | undefined;
  let issuer: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
    issuer = decodeJwt(token).iss;
  } catch {
    throw launchRejected('malformed');
  }
  const partner = issuer ? await prisma.partner.findUnique({ where: { launchIssuer: issuer } }) : null;
  if (!partner) throw launchRejected('unknown partner');
  return { partner, alg };
}

/**
 * The partner whose OpenID Connect provider issued an ID token: the one registered with its
 * issuer and client id (the token's `aud`), else one whose launch issuer doubles as its OIDC
 * issuer. Unverified, like partnerOf: the signature is checked against what this returns.
 */
export async function ssoPartnerOf(prisma: PrismaClient, idToken: string): Promise<{ partner: Partner; alg: string | undefined; issuer: string; jwksUri: string | null }> {
  let alg: string | undefined;
  let claims: JWTPayload;
  try {
    alg = decodeProtectedHeader(idToken).alg;
    claims = decodeJwt(idToken);
  } catch {
    throw launchRejected('malformed');
  }
  const issuer = claims.iss;
  if (!issuer) throw launchRejected('unknown partner');
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  const registered = await prisma.partner.findFirst({ where: { oidcIssuer: issuer, oidcAudience: { in: audiences } } });
  if (registered) return { partner: registered, alg, issuer, jwksUri: registered.oidcJwksUri };
  const byLaunchIssuer = await prisma.partner.findFirst({ where: { launchIssuer: issuer, oidcIssuer: null } });
  if (!byLaunchIssuer) throw launchRejected('unknown partner');
  return { partner: byLaunchIssuer, alg, issuer, jwksUri: byLaunchIssuer.jwksUri };
}

/** Verifies a partner-signed JWT, turning every failure into UNAUTHENTICATED with its reason. */
export async function verifyPartnerJwt(token: string, key: Uint8Array | JWTVerifyGetKey, options: { issuer: string; audience?: string; algorithms: string[] }): Promise<JWTPayload> {
  const verifyOptions = { ...options, clockTolerance: CLOCK_SKEW_SECONDS };
  try {
    const { payload } = typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions);
    return payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw launchRejected('expired');
    if (error instanceof joseErrors.JOSEError) throw launchRejected(error.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' ? 'bad signature' : error.code);
    throw error;
  }
}

/** The display name a token carries, bounded. */
export const displayNameOf = (claims: JWTPayload): string | null => (typeof claims['name'] === 'string' ? claims['name'].slice(0, 200) : null);
