import { doublingDelayMs } from '../kit/poller.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import type { LtiPlatform, LtiScoreTarget, PrismaClient } from '../../prisma/generated/client/client.js';
import { conflictOnUniqueViolation } from '../kit/access.js';
import { audit } from '../kit/audit.js';
import { badUserInput, conflict, domainError, forbidden, InputProblems, type DomainError } from '../kit/errors.js';
import { on, type EventConsumer } from '../kit/events/consumers.js';
import { TrainingEvents } from '../kit/events/training.js';
import { requireStaffOf, Role } from '../kit/identity.js';
import type { SubgraphWorker } from '../kit/subgraph.js';
import type { TransactionClient } from '../kit/outbox.js';
import type { Ctx } from './access.js';
import { chooseCaseVersion, enroll, learnerFor, openSession } from './enrolment.js';
import { learnerAppLink } from './launch.js';
import { checkUrl } from './onboarding.js';
import { announceCohort } from './partners.js';
import { partnerKeys, verifyPartnerJwt } from './partner-tokens.js';

/**
 * LTI 1.3, so any learning platform (Moodle, Canvas, Blackboard…) embeds the Virtual AI Patient
 * without custom code. A platform is registered for a partner (issuer, client id, deployments,
 * its login, token and key URLs). A launch is an OIDC third-party-initiated login (`/lti/login`:
 * CareGraph answers with a state and a nonce and sends the browser to the platform) and then the
 * platform's signed `id_token` (`/lti/launch`): verified against the platform's JWKS, its nonce
 * spent once, its deployment registered, its message a resource-link launch of a learner. The
 * link's `case_id` custom parameter names the case, the course (context) is the cohort, and the
 * learner lands in the partner's learner app. When the session completes its total score goes
 * back to the platform's line item (Assignment and Grade Services), retried until accepted.
 */

const SOURCE = 'training';
const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const AGS_ENDPOINT = 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint';
export const AGS_SCORE_SCOPE = 'https://purl.imsglobal.org/spec/lti-ags/scope/score';
const LEARNER_ROLES = new Set([
  'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student',
  'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Learner',
]);
/** How long a login may take from CareGraph's answer to the platform's launch. */
const LOGIN_SECONDS = 600;
const LEARNER_TOKEN_SECONDS = 4 * 3600;

export interface LtiPlatformInput {
  partnerId: string;
  issuer: string;
  clientId: string;
  deploymentIds: string[];
  authLoginUrl: string;
  accessTokenUrl: string;
  jwksUrl: string;
}

export const ltiRejected = (reason: string): DomainError => domainError('UNAUTHENTICATED', `LTI launch rejected: ${reason}`, { reason });

/** Registers a platform for one of the admin's organization's partners, with a key of CareGraph's own for it. */
export async function registerLtiPlatform(ctx: Ctx, input: LtiPlatformInput): Promise<LtiPlatform> {
  requireStaffOf(ctx.identity, [Role.ADMIN], 'Only an organization admin registers LTI platforms');
  const problems = new InputProblems();
  checkUrl(problems, 'input.issuer', input.issuer);
  problems.check(input.clientId.length >= 1 && input.clientId.length <= 200, 'input.clientId', 'must be 1-200 characters');
  problems.check(input.deploymentIds.length >= 1 && input.deploymentIds.length <= 50 && input.deploymentIds.every((d) => d.length >= 1 && d.length <= 200), 'input.deploymentIds', 'must be 1-50 ids of 1-200 characters');
  checkUrl(problems, 'input.authLoginUrl', input.authLoginUrl);
  checkUrl(problems, 'input.accessTokenUrl', input.accessTokenUrl);
  checkUrl(problems, 'input.jwksUrl', input.jwksUrl);
  problems.throwIfAny();
  // The partner must be one the admin sees (its organization's): FORBIDDEN or NOT_FOUND otherwise.
  const partner = await ctx.db.partner.findUniqueOrThrow({ where: { id: input.partnerId } });
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const toolKeyId = randomUUID();
  // The unique index decides a duplicate, whichever organization registered it first (a lookup
  // through ctx.db would see only the admin's own).
  return ctx.db.$transaction(async (tx) => {
    const platform = await tx.ltiPlatform.create({
      data: {
        partnerId: partner.id, organizationId: partner.organizationId, issuer: input.issuer, clientId: input.clientId,
        deploymentIds: [...new Set(input.deploymentIds)], authLoginUrl: input.authLoginUrl, accessTokenUrl: input.accessTokenUrl, jwksUrl: input.jwksUrl,
        toolPrivateJwk: { ...(await exportJWK(privateKey)), kid: toolKeyId, alg: 'RS256' } as object, toolKeyId,
      },
    });
    await audit(tx, ctx.identity, { source: SOURCE, action: 'register-lti-platform', entityType: 'LtiPlatform', entityIds: [platform.id] });
    return platform;
  }).catch((error: unknown) => conflictOnUniqueViolation(error, 'That platform issuer and client id are already registered'));
}

export function listLtiPlatforms(ctx: Ctx, partnerId: string | null): Promise<LtiPlatform[]> {
  return ctx.db.ltiPlatform.findMany({ where: partnerId ? { partnerId } : {}, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** CareGraph's public keys, one per platform, which platforms fetch to verify its client assertions. */
export async function toolJwks(prisma: PrismaClient): Promise<{ keys: JWK[] }> {
  const platforms = await prisma.ltiPlatform.findMany({ select: { toolPrivateJwk: true }, orderBy: { createdAt: 'asc' } });
  return {
    keys: platforms.map(({ toolPrivateJwk }) => {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = toolPrivateJwk as JWK;
      return { ...publicJwk, use: 'sig' };
    }),
  };
}

export interface LoginRequest {
  iss?: string | null;
  login_hint?: string | null;
  target_link_uri?: string | null;
  lti_message_hint?: string | null;
  client_id?: string | null;
  lti_deployment_id?: string | null;
}

/**
 * Step 1, the platform's third-party-initiated login: a fresh state and nonce, remembered for
 * ten minutes, and the platform's authorization URL to send the browser to. System work: the
 * browser is anonymous and the platform is found by its issuer (and client id).
 */
export async function beginLogin(prisma: PrismaClient, request: LoginRequest, launchUrl: string): Promise<string> {
  if (!request.iss || !request.login_hint || !request.target_link_uri) throw badUserInput('iss', 'iss, login_hint and target_link_uri are required');
  const platform = await prisma.ltiPlatform.findFirst({ where: { issuer: request.iss, ...(request.client_id ? { clientId: request.client_id } : {}) } });
  if (!platform) throw ltiRejected('unknown platform');
  if (request.lti_deployment_id && !platform.deploymentIds.includes(request.lti_deployment_id)) throw ltiRejected('unknown deployment');
  const state = randomBytes(24).toString('base64url');
  const nonce = randomBytes(24).toString('base64url');
  await prisma.ltiLogin.create({ data: { state, nonce, platformId: platform.id, expiresAt: new Date(Date.now() + LOGIN_SECONDS * 1000) } });
  const url = new URL(platform.authLoginUrl);
  const params: Record<string, string> = {
    scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none',
    client_id: platform.clientId, redirect_uri: launchUrl, login_hint: request.login_hint, state, nonce,
    ...(request.lti_message_hint ? { lti_message_hint: request.lti_message_hint } : {}),
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.toString();
}

export interface LtiLaunchResult {
  sessionId: string;
  location: string;
}

const claim = (claims: JWTPayload, name: string): unknown => claims[`${LTI}${name}`];
const asRecord = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
const asString = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 && value.length <= 500 ? value : null);

/**
 * Step 2, the platform's launch. Every check happens before anything is written; then, in one
 * transaction, the login's state is spent (a replay finds it spent), the course's cohort found
 * or made, the learner enrolled and the session opened. Returns where the browser goes next.
 */
export async function completeLaunch(ctx: Ctx, form: { idToken: string | null; state: string | null }): Promise<LtiLaunchResult> {
  if (!ctx.issueToken) throw new Error('LTI launches need a token issuer (AUTH_SIGNING_KEY)');
  if (!form.idToken || !form.state) throw badUserInput('id_token', 'id_token and state are required');
  const login = await ctx.prisma.ltiLogin.findUnique({ where: { state: form.state } });
  if (!login || login.usedAt || login.expiresAt.getTime() < Date.now()) throw ltiRejected('state unknown, expired or already used');
  const platform = await ctx.prisma.ltiPlatform.findUniqueOrThrow({ where: { id: login.platformId } });
  const claims = await verifyPartnerJwt(form.idToken, partnerKeys(platform.jwksUrl), { issuer: platform.issuer, audience: platform.clientId, algorithms: ['RS256', 'ES256'] });
  if (claims['nonce'] !== login.nonce) throw ltiRejected('nonce does not match the login');
  const deploymentId = asString(claim(claims, 'deployment_id'));
  if (!deploymentId || !platform.deploymentIds.includes(deploymentId)) throw ltiRejected('unknown deployment');
  if (claim(claims, 'message_type') !== 'LtiResourceLinkRequest') throw ltiRejected('message type must be LtiResourceLinkRequest');
  if (claim(claims, 'version') !== '1.3.0') throw ltiRejected('LTI version must be 1.3.0');
  const roles = claim(claims, 'roles');
  if (!Array.isArray(roles) || !roles.some((role) => LEARNER_ROLES.has(String(role)))) throw forbidden('Only learners launch cases (the membership roles name none)');
  const subject = asString(claims.sub);
  const context = asRecord(claim(claims, 'context'));
  const contextId = asString(context['id']);
  if (!subject || !contextId || !asString(asRecord(claim(claims, 'resource_link'))['id'])) throw badUserInput('id_token', 'sub, context.id and resource_link.id are required');
  const caseId = asString(asRecord(claim(claims, 'custom'))['case_id']);
  const partner = await ctx.prisma.partner.findUniqueOrThrow({ where: { id: platform.partnerId } });
  if (!partner.learnerAppUrl) throw conflict('The partner has no learner app URL to send LTI learners to: set one (updatePartner)');
  if (caseId && !(await ctx.prisma.case.findFirst({ where: { id: caseId, organizationId: platform.organizationId }, select: { id: true } }))) {
    throw forbidden('The link’s case_id is not a case of the partner’s organization');
  }
  const endpoint = asRecord(claims[AGS_ENDPOINT]);
  const lineItemUrl = asString(endpoint['lineitem']);
  const canScore = Array.isArray(endpoint['scope']) && endpoint['scope'].includes(AGS_SCORE_SCOPE);

  // Verified: system work from here on, confined to the platform's partner and organization.
  const session = await ctx.prisma.$transaction(async (tx) => {
    const spent = await tx.ltiLogin.updateMany({ where: { state: login.state, usedAt: null }, data: { usedAt: new Date() } });
    if (spent.count === 0) throw ltiRejected('state already used');
    const cohort = await cohortForContext(tx, platform, contextId, asString(context['title']));
    if (caseId) await tx.cohortAssignment.createMany({ data: [{ id: `lti:${cohort.id}:${caseId}`, cohortId: cohort.id, caseId }], skipDuplicates: true });
    const learner = await learnerFor(tx, partner.id, `${platform.issuer}|${subject}`, asString(claims['name']));
    await enroll(tx, cohort, learner.id);
    const version = await chooseCaseVersion(tx, { cohortId: cohort.id, caseId: caseId ?? undefined }, 'custom.case_id');
    const opened = await openSession(tx, cohort, learner.id, version);
    if (lineItemUrl && canScore) await tx.ltiScoreTarget.create({ data: { sessionId: opened.id, platformId: platform.id, lineItemUrl, userId: subject } });
    return opened;
  });
  const accessToken = await ctx.issueToken({ userId: session.learnerId, role: Role.LEARNER, organizationId: session.organizationId, cohortIds: [session.cohortId] }, LEARNER_TOKEN_SECONDS);
  return { sessionId: session.id, location: learnerAppLink(partner, session.id, accessToken) as string };
}

/** The course's cohort: made (and announced) on its first launch, under the platform's partner. */
async function cohortForContext(tx: TransactionClient, platform: LtiPlatform, contextId: string, title: string | null) {
  const mapped = await tx.ltiContext.findUnique({ where: { platformId_contextId: { platformId: platform.id, contextId } } });
  if (mapped) {
    const cohort = await tx.cohort.findUniqueOrThrow({ where: { id: mapped.cohortId } });
    return cohort;
  }
  const cohort = await tx.cohort.create({ data: { organizationId: platform.organizationId, partnerId: platform.partnerId, name: (title ?? `Course ${contextId}`).slice(0, 100) } });
  await tx.ltiContext.create({ data: { platformId: platform.id, contextId, cohortId: cohort.id } });
  await announceCohort(tx, cohort);
  return cohort;
}

/** `…/lineitems/7?type=x` → `…/lineitems/7/scores?type=x` (the AGS scores service of a line item). */
export function scoresUrl(lineItemUrl: string): string {
  const url = new URL(lineItemUrl);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/scores`;
  return url.toString();
}

/** An OAuth 2 access token for AGS: client credentials with a JWT assertion signed by CareGraph's key for the platform. */
async function agsAccessToken(platform: LtiPlatform): Promise<string> {
  const jwk = platform.toolPrivateJwk as JWK;
  const key = await importJWK(jwk, 'RS256');
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: platform.toolKeyId })
    .setIssuer(platform.clientId).setSubject(platform.clientId).setAudience(platform.accessTokenUrl)
    .setJti(randomUUID()).setIssuedAt().setExpirationTime('5m')
    .sign(key);
  const response = await fetch(platform.accessTokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion, scope: AGS_SCORE_SCOPE,
    }).toString(),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`LTI token endpoint answered ${response.status}`);
  const body = (await response.json()) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error('LTI token endpoint gave no access_token');
  return body.access_token;
}

/** When a refused or failed score is tried again: 2 s, doubling, at most an hour apart — for as long as it takes. */
export function nextScoreAttempt(attempts: number, now = Date.now()): Date {
  return new Date(now + doublingDelayMs(2_000, attempts, 3_600_000));
}

/**
 * A completed session launched by LTI makes its score due (a durable consumer of
 * `training.session.completed`, in the event's transaction, no outside call); the
 * `lti-scores` worker sends it.
 */
export const ltiScoresDue: EventConsumer = {
  name: 'training.lti-scores',
  handlers: [
    on(TrainingEvents.sessionCompleted, async (event, tx) => {
      if (!event.payload.score) return;
      await tx.ltiScoreTarget.updateMany({
        where: { sessionId: event.payload.sessionId, postedAt: null },
        data: { scoreGiven: event.payload.score.total, completedAt: new Date(event.payload.endedAt ?? event.occurredAt), nextAttemptAt: new Date() },
      });
    }),
  ],
};

/** How long a claimed send may take before another instance may try it. */
const SEND_LEASE_MS = 60_000;

/**
 * Sends due scores to their platforms' line items, outside any transaction: each is claimed
 * (its next attempt moved past a lease, so one instance sends it), posted, and marked sent — or
 * its attempt counted, the failure kind kept and the next attempt scheduled (nextScoreAttempt).
 */
export const ltiScoreSender: SubgraphWorker = {
  name: 'lti-scores',
  intervalMs: 1_000,
  async step({ prisma, log }) {
    const due = await prisma.ltiScoreTarget.findMany({ where: { postedAt: null, scoreGiven: { not: null }, nextAttemptAt: { lte: new Date() } }, orderBy: { nextAttemptAt: 'asc' }, take: 10 });
    let sent = 0;
    for (const target of due) {
      const claimed = await prisma.ltiScoreTarget.updateMany({ where: { sessionId: target.sessionId, nextAttemptAt: target.nextAttemptAt, postedAt: null }, data: { nextAttemptAt: new Date(Date.now() + SEND_LEASE_MS) } });
      if (claimed.count === 0) continue;
      try {
        const platform = await prisma.ltiPlatform.findUniqueOrThrow({ where: { id: target.platformId } });
        await postScore(platform, target);
        await prisma.ltiScoreTarget.update({ where: { sessionId: target.sessionId }, data: { postedAt: new Date(), lastError: null } });
        sent += 1;
      } catch (error) {
        const attempts = target.attempts + 1;
        const lastError = (error instanceof Error ? error.message : String(error)).slice(0, 200);
        await prisma.ltiScoreTarget.update({ where: { sessionId: target.sessionId }, data: { attempts, lastError, nextAttemptAt: nextScoreAttempt(attempts) } });
        log.warn({ sessionId: target.sessionId, platformId: target.platformId, attempts, problem: lastError }, 'LTI score not accepted; will retry');
      }
    }
    return sent;
  },
};

/** Logins never completed (or long spent) are only clutter once expired: removed hourly, an hour after they expire. */
export const ltiLoginExpiry: SubgraphWorker = {
  name: 'lti-logins',
  intervalMs: 3_600_000,
  async step({ prisma }) {
    await prisma.ltiLogin.deleteMany({ where: { expiresAt: { lt: new Date(Date.now() - 3_600_000) } } });
    // Nothing more to do until the next hour, however many went.
    return 0;
  },
};

async function postScore(platform: LtiPlatform, target: LtiScoreTarget): Promise<void> {
  const accessToken = await agsAccessToken(platform);
  const response = await fetch(scoresUrl(target.lineItemUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.ims.lis.v1.score+json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({
      userId: target.userId, scoreGiven: target.scoreGiven, scoreMaximum: 100,
      activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: (target.completedAt ?? new Date()).toISOString(),
    }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`LTI scores service answered ${response.status}`);
}
