import type { JWTPayload } from 'jose';
import type { CaseSession, Partner } from '../../prisma/generated/client/client.js';
import { isUniqueViolation } from '../kit/access.js';
import { conflict, DomainError, forbidden } from '../kit/errors.js';
import { Role } from '../kit/identity.js';
import type { Ctx } from './access.js';
import { chooseCaseVersion, cohortArchived, enroll, learnerFor, openSession } from './enrolment.js';
import { CLOCK_SKEW_SECONDS, displayNameOf, launchRejected, partnerKeys, partnerOf, verifyPartnerJwt } from './partner-tokens.js';

/**
 * A partner's learner arrives with a launch JWT the partner signed (HS256 with its shared
 * secret, or RS256/ES256 against its JWKS): verified, single use (its `jti`), mapped to an
 * internal learner (created on first launch), enrolled, and given a session and a platform
 * access token.
 *
 * The caller is anonymous: the token, not the caller's identity, is the authority. So once it
 * is verified the launch is system work on `ctx.prisma` (deliberately not `ctx.db`, whose
 * anonymous scope sees nothing), confined to the partner and cohort the token names.
 */

/** Launch tokens may live at most this long; longer-lived ones are refused. */
export const MAX_LAUNCH_LIFETIME_SECONDS = 600;
/** How long the platform token a launched learner gets lasts. */
const LEARNER_TOKEN_SECONDS = 4 * 3600;

export interface LaunchResult {
  accessToken: string;
  session: CaseSession;
  /** The partner's learner app with the session and token in the fragment; null when it has none. */
  launchUrl: string | null;
}

/** Verifies a partner's launch token; returns its partner and claims, or throws UNAUTHENTICATED with the reason. */
async function verifyLaunchToken(ctx: Ctx, token: string): Promise<{ partner: Partner; claims: JWTPayload }> {
  const { partner, alg } = await partnerOf(ctx.prisma, token);
  let claims: JWTPayload;
  if (alg === 'HS256' && partner.launchSecret) {
    claims = await verifyWithLaunchSecrets(token, partner);
  } else if ((alg === 'RS256' || alg === 'ES256') && partner.jwksUri) {
    claims = await verifyPartnerJwt(token, partnerKeys(partner.jwksUri), { issuer: partner.launchIssuer, algorithms: ['RS256', 'ES256'] });
  } else {
    throw launchRejected(`algorithm ${String(alg)} is not accepted for this partner`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number') throw launchRejected('no expiry');
  if (claims.exp - now > MAX_LAUNCH_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) throw launchRejected(`exp is more than ${MAX_LAUNCH_LIFETIME_SECONDS / 60} minutes ahead`);
  if (!claims.sub) throw launchRejected('no sub');
  if (typeof claims.jti !== 'string' || claims.jti.length < 8 || claims.jti.length > 200) throw launchRejected('jti missing or malformed');
  if (typeof claims['cohort_id'] !== 'string') throw launchRejected('cohort_id missing');
  if (claims['role'] !== undefined && !['learner', 'student', 'Learner'].includes(String(claims['role']))) throw launchRejected('role must be learner');
  return { partner, claims };
}

/** The current secret, or the one a rotation replaced while its overlap lasts. */
async function verifyWithLaunchSecrets(token: string, partner: Partner): Promise<JWTPayload> {
  const verify = (secret: string) => verifyPartnerJwt(token, new TextEncoder().encode(secret), { issuer: partner.launchIssuer, algorithms: ['HS256'] });
  try {
    return await verify(partner.launchSecret as string);
  } catch (error) {
    const previousValid = partner.previousLaunchSecret && partner.previousLaunchSecretExpiresAt && partner.previousLaunchSecretExpiresAt.getTime() > Date.now();
    if (!previousValid || !(error instanceof DomainError) || error.details['reason'] !== 'bad signature') throw error;
    return verify(partner.previousLaunchSecret as string);
  }
}

const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Launches a learner from a partner's token. A refused launch creates nothing. A browser launch
 * (`forBrowser`) needs the partner's learner app to send the learner on to: refused (CONFLICT)
 * before anything is written, the token still unspent, when the partner configured none.
 */
export async function launchSession(ctx: Ctx, token: string, options: { forBrowser?: boolean } = {}): Promise<LaunchResult> {
  if (!ctx.issueToken) throw new Error('launchSession needs a token issuer (AUTH_SIGNING_KEY)');
  const { partner, claims } = await verifyLaunchToken(ctx, token);
  if (options.forBrowser && !partner.learnerAppUrl) throw conflict('The partner has no learner app URL for browser launches: set one (updatePartner), or post the launch as JSON');
  // System reads from here on: the verified token names the partner, and only its cohorts are accepted.
  const cohort = await ctx.prisma.cohort.findUnique({ where: { id: String(claims['cohort_id']) } });
  if (!cohort || cohort.partnerId !== partner.id) throw forbidden('That cohort is not the partner’s');
  if (cohort.archivedAt) throw cohortArchived();
  const version = await chooseCaseVersion(ctx.prisma, { cohortId: cohort.id, caseId: optionalString(claims['case_id']), caseSetId: optionalString(claims['case_set_id']) }, 'token');
  const jti = claims.jti as string;
  const expiresAt = new Date((claims.exp as number) * 1000);

  const session = await ctx.prisma.$transaction(async (tx) => {
    try {
      await tx.launchNonce.create({ data: { jti, partnerId: partner.id, expiresAt } });
    } catch (error) {
      if (isUniqueViolation(error)) throw launchRejected('jti already used');
      throw error;
    }
    const learner = await learnerFor(tx, partner.id, claims.sub as string, displayNameOf(claims));
    await enroll(tx, cohort, learner.id);
    return openSession(tx, cohort, learner.id, version);
  });
  const accessToken = await ctx.issueToken({ userId: session.learnerId, role: Role.LEARNER, organizationId: session.organizationId, cohortIds: [session.cohortId] }, LEARNER_TOKEN_SECONDS);
  return { accessToken, session, launchUrl: learnerAppLink(partner, session.id, accessToken) };
}

/**
 * Where the learner goes next: the partner's learner app, told the session and the learner's
 * token in the URL fragment, which browsers never send to a server or put in a Referer (a
 * query string would land in access logs). Null when the partner configured no learner app.
 */
export function learnerAppLink(partner: Pick<Partner, 'learnerAppUrl'>, sessionId: string, accessToken: string): string | null {
  if (!partner.learnerAppUrl) return null;
  const url = new URL(partner.learnerAppUrl);
  url.hash = new URLSearchParams({ session_id: sessionId, access_token: accessToken }).toString();
  return url.toString();
}
