import type { CaseSession } from '../../prisma/generated/client/client.js';
import { forbidden } from '../kit/errors.js';
import { requireRole, Role } from '../kit/identity.js';
import type { Ctx } from './access.js';
import { chooseCaseVersion, enroll, learnerFor, openSession } from './enrolment.js';
import { displayNameOf, launchRejected, partnerKeys, ssoPartnerOf, verifyPartnerJwt } from './partner-tokens.js';
import { findSession } from './sessions.js';

/**
 * Learners who sign in with their partner as OpenID Connect provider, then start a case
 * assigned to one of their cohorts themselves (the SSO path's launch).
 */

/** How long the platform token a signed-in learner gets lasts. */
const LEARNER_TOKEN_SECONDS = 8 * 3600;

export interface SsoSignIn {
  accessToken: string;
  learnerId: string;
  cohortIds: string[];
}

/**
 * The ID token is verified against the partner's JWKS (issuer and audience checked), the
 * partner's user is mapped to a learner (created on first sign-in), optionally enrolled in the
 * `cohort_id` the token names (it must be the partner's), and given a platform token scoped to
 * their cohorts. The caller is anonymous and the verified ID token is the authority, so the
 * writes are system work on `ctx.prisma` (deliberately not `ctx.db`), confined to the partner
 * the token's issuer names.
 */
export async function signInWithPartnerSso(ctx: Ctx, idToken: string): Promise<SsoSignIn> {
  if (!ctx.issueToken) throw new Error('SSO sign-in needs a token issuer (AUTH_SIGNING_KEY)');
  const { partner, alg, issuer, jwksUri } = await ssoPartnerOf(ctx.prisma, idToken);
  if (!jwksUri || !partner.oidcAudience) throw launchRejected('SSO is not enabled for this partner');
  if (alg !== 'RS256' && alg !== 'ES256') throw launchRejected(`algorithm ${String(alg)} is not accepted`);
  const claims = await verifyPartnerJwt(idToken, partnerKeys(jwksUri), { issuer, audience: partner.oidcAudience, algorithms: ['RS256', 'ES256'] });
  const subject = claims.sub;
  if (!subject) throw launchRejected('no sub');
  const cohortId = typeof claims['cohort_id'] === 'string' ? claims['cohort_id'] : undefined;
  const cohort = cohortId ? await ctx.prisma.cohort.findUnique({ where: { id: cohortId } }) : null;
  if (cohortId && (!cohort || cohort.partnerId !== partner.id)) throw forbidden('That cohort is not the partner’s');
  const learner = await ctx.prisma.$transaction(async (tx) => {
    const found = await learnerFor(tx, partner.id, subject, displayNameOf(claims));
    if (cohort) await enroll(tx, cohort, found.id);
    return found;
  });
  const cohortIds = (await ctx.prisma.enrollment.findMany({ where: { learnerId: learner.id }, select: { cohortId: true } })).map((e) => e.cohortId);
  const accessToken = await ctx.issueToken({ userId: learner.id, role: Role.LEARNER, organizationId: partner.organizationId, cohortIds }, LEARNER_TOKEN_SECONDS);
  return { accessToken, learnerId: learner.id, cohortIds };
}

/**
 * A signed-in learner starts a case assigned to a cohort they are enrolled in (and their token
 * names): the first assigned when `caseId` is absent. Returns the session with `query`'s selection.
 */
export async function startCaseSession(ctx: Ctx, cohortId: string, caseId: string | null | undefined, query: object = {}): Promise<CaseSession> {
  const identity = requireRole(ctx.identity, [Role.LEARNER], 'Only learners start case sessions');
  const enrollment = await ctx.db.enrollment.findFirst({ where: { cohortId, learnerId: identity.subject }, include: { cohort: true } });
  if (!enrollment) throw forbidden('You are not enrolled in that cohort');
  const version = await chooseCaseVersion(ctx.db, { cohortId, caseId: caseId ?? undefined }, 'caseId');
  const session = await ctx.db.$transaction((tx) => openSession(tx, enrollment.cohort, identity.subject, version));
  return findSession(ctx, session.id, query);
}
