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
