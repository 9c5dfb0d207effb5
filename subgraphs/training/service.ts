import {
  createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify,
  type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { Prisma, type CaseSession, type Cohort, type Partner, type PrismaClient } from '../../prisma/generated/client/client.js';
import { audit } from '../kit/audit.js';
import { runInBackground, type SubgraphContext, type SubgraphDeps } from '../kit/context.js';
import { badUserInput, conflict, domainError, forbidden, InputProblems, notFound, unauthenticated } from '../kit/errors.js';
import { isAuthenticated, Role, type AuthenticatedIdentity, type RoleName } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import { OpenAICompatibleResponder, streamWords, type Responder } from '../kit/responder.js';
import { parseCaseContent, type CaseContent } from './domain/case-content.js';
import { answerAsPatient } from './domain/responder.js';
import { scoreSession, type ScoreCard, type SessionRecord } from './domain/scoring.js';

/**
 * The training domain's application service: every read and write checks the caller against
 * the record (learner: own sessions; partner: own cohorts; organization staff: its cohorts),
 * and every state change others must hear about writes an outbox event in its transaction.
 */

export const SOURCE = 'training';
/** The events training publishes (through the outbox) for other domains and partners. */
export const TRAINING_EVENTS = {
  partnerRegistered: 'training.partner.registered',
  cohortRegistered: 'training.cohort.registered',
  learnerEnrolled: 'training.learner.enrolled',
  sessionStarted: 'training.session.started',
  sessionCompleted: 'training.session.completed',
  learnerDataDeleted: 'training.cohort.learner_data_deleted',
} as const;
type Ctx = Pick<SubgraphContext, 'prisma' | 'identity' | 'loaders' | 'log' | 'pubsub'> & Partial<Pick<SubgraphDeps, 'issueToken' | 'llm' | 'publicUrl' | 'background'>>;

/** Staff who see and manage their organization's cohorts and cases. */
export const TRAINING_STAFF: readonly RoleName[] = [Role.ADMIN, Role.CLINICIAN];
/** Launch tokens may live at most this long; longer-lived ones are refused. */
export const MAX_LAUNCH_LIFETIME_SECONDS = 600;
const CLOCK_SKEW_SECONDS = 30;

function requireIdentity(ctx: Ctx): AuthenticatedIdentity {
  if (!isAuthenticated(ctx.identity)) throw unauthenticated();
  return ctx.identity;
}

// ---------------------------------------------------------------- access

/** The partner the caller acts for, if the caller is a partner principal. */
async function callerPartner(ctx: Ctx): Promise<Partner | null> {
  const identity = requireIdentity(ctx);
  if (identity.role !== Role.PARTNER) return null;
  return ctx.loaders
    .get<string, Partner | null>('partnerByPrincipal', async (ids) => {
      const rows = await ctx.prisma.partner.findMany({ where: { principalId: { in: [...ids] } } });
      return ids.map((id) => rows.find((row) => row.principalId === id) ?? null);
    })
    .load(identity.subject);
}

/**
 * Whether the caller may see a cohort (its name and assigned cases). BI tools of its
 * organization may too, to label their figures; they never see its sessions.
 */
async function canSeeCohort(ctx: Ctx, cohort: Pick<Cohort, 'id' | 'organizationId' | 'partnerId'>): Promise<boolean> {
  const identity = requireIdentity(ctx);
  if (TRAINING_STAFF.includes(identity.role) || identity.role === Role.BI) return identity.organizationId === cohort.organizationId;
  if (identity.role === Role.PARTNER) return (await callerPartner(ctx))?.id === cohort.partnerId;
  if (identity.role === Role.LEARNER) return identity.cohortIds?.includes(cohort.id) ?? false;
  return false;
}

async function canSeeSession(ctx: Ctx, session: Pick<CaseSession, 'learnerId' | 'cohortId' | 'organizationId' | 'partnerId'>): Promise<boolean> {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.LEARNER) return identity.subject === session.learnerId;
  if (TRAINING_STAFF.includes(identity.role)) return identity.organizationId === session.organizationId;
  if (identity.role === Role.PARTNER) return (await callerPartner(ctx))?.id === session.partnerId;
  return false;
}

export async function loadCohort(ctx: Ctx, id: string): Promise<Cohort> {
  const cohort = await ctx.prisma.cohort.findUnique({ where: { id } });
  if (!cohort) throw notFound('Cohort');
  if (!(await canSeeCohort(ctx, cohort))) throw forbidden('You may not see this cohort');
  return cohort;
}

export async function loadSession(ctx: Ctx, id: string): Promise<CaseSession> {
  const session = await ctx.loaders.byId('sessionById', (ids) => ctx.prisma.caseSession.findMany({ where: { id: { in: ids } } })).load(id);
  if (!session) throw notFound('Case session');
  if (!(await canSeeSession(ctx, session))) throw forbidden('You may not see this session');
  return session;
}

/** The caller's own active session: only the learner works a case. */
async function ownActiveSession(ctx: Ctx, id: string): Promise<CaseSession & { content: CaseContent }> {
  const identity = requireIdentity(ctx);
  const session = await ctx.prisma.caseSession.findUnique({ where: { id }, include: { caseVersion: true } });
  if (!session) throw notFound('Case session');
  if (identity.role !== Role.LEARNER || identity.subject !== session.learnerId) throw forbidden('Only the learner working this session may do that');
  if (session.status !== 'ACTIVE') throw conflict('The session is already completed');
  return { ...session, content: session.caseVersion.content as unknown as CaseContent };
}

// ---------------------------------------------------------------- cases

export async function listCohortCases(ctx: Ctx, cohortId: string): Promise<Array<{ caseId: string; title: string; slug: string; versionNumber: number | null; dueAt: Date | null }>> {
  await loadCohort(ctx, cohortId);
  const assignments = await ctx.prisma.cohortAssignment.findMany({
    where: { cohortId },
    include: {
      case: { include: { versions: { where: { status: 'PUBLISHED' }, orderBy: { number: 'desc' }, take: 1 } } },
      caseSet: { include: { items: { orderBy: { position: 'asc' }, include: { case: { include: { versions: { where: { status: 'PUBLISHED' }, orderBy: { number: 'desc' }, take: 1 } } } } } } },
    },
    orderBy: { createdAt: 'asc' },
  });
  const seen = new Set<string>();
  const out: Array<{ caseId: string; title: string; slug: string; versionNumber: number | null; dueAt: Date | null }> = [];
  for (const assignment of assignments) {
    const cases = assignment.case ? [assignment.case] : (assignment.caseSet?.items.map((item) => item.case) ?? []);
    for (const c of cases) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push({ caseId: c.id, title: c.title, slug: c.slug, versionNumber: c.versions[0]?.number ?? null, dueAt: assignment.dueAt });
    }
  }
  return out;
}

export async function listCases<Q extends Omit<Prisma.CaseFindManyArgs, 'where'>>(ctx: Ctx, query?: Q) {
  const identity = requireIdentity(ctx);
  if (!TRAINING_STAFF.includes(identity.role) || !identity.organizationId) throw forbidden('Only organization staff list cases');
  return ctx.prisma.case.findMany({ ...query, where: { organizationId: identity.organizationId }, orderBy: { slug: 'asc' } });
}

/** Parses untrusted case content, reporting every problem under `prefix` as BAD_USER_INPUT. */
function checkedContent(problems: InputProblems, prefix: string, raw: unknown): CaseContent {
  const parsed = parseCaseContent(raw);
  if ('problems' in parsed) for (const problem of parsed.problems) problems.add(problem.path ? `${prefix}.${problem.path}` : prefix, problem.message);
  problems.throwIfAny();
  return (parsed as { content: CaseContent }).content;
}

/** Creates a case with its first draft version; refused when the content is incomplete or not synthetic. */
export async function createCase(ctx: Ctx, input: { slug: string; title: string; content: unknown }): Promise<{ caseId: string; versionId: string }> {
  const identity = requireIdentity(ctx);
  if (!TRAINING_STAFF.includes(identity.role) || !identity.organizationId) throw forbidden('Only organization staff author cases');
  const problems = new InputProblems();
  problems.check(/^[a-z0-9-]{3,64}$/.test(input.slug), 'input.slug', 'must be 3-64 lower-case letters, digits or dashes');
  problems.check(input.title.trim().length > 0 && input.title.length <= 200, 'input.title', 'must be 1-200 characters');
  const content = checkedContent(problems, 'input.content', input.content);
  try {
    const created = await ctx.prisma.case.create({
      data: { organizationId: identity.organizationId, slug: input.slug, title: input.title.trim(), versions: { create: { number: 1, content: content as unknown as Prisma.InputJsonValue } } },
      include: { versions: true },
    });
    return { caseId: created.id, versionId: created.versions[0]?.id as string };
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw conflict('A case with this slug already exists');
    throw error;
  }
}

/** A new draft version from new content: published versions never change. */
export async function reviseCase(ctx: Ctx, caseId: string, rawContent: unknown): Promise<{ versionId: string; number: number }> {
  const identity = requireIdentity(ctx);
  const existing = await ctx.prisma.case.findUnique({ where: { id: caseId }, include: { versions: { orderBy: { number: 'desc' }, take: 1 } } });
  if (!existing) throw notFound('Case');
  if (!TRAINING_STAFF.includes(identity.role) || identity.organizationId !== existing.organizationId) throw forbidden('Only the organization’s staff revise its cases');
  const content = checkedContent(new InputProblems(), 'content', rawContent);
  const latest = existing.versions[0];
  if (latest && latest.status === 'DRAFT') {
    const updated = await ctx.prisma.caseVersion.update({ where: { id: latest.id }, data: { content: content as unknown as Prisma.InputJsonValue } });
    return { versionId: updated.id, number: updated.number };
  }
  const created = await ctx.prisma.caseVersion.create({ data: { caseId, number: (latest?.number ?? 0) + 1, content: content as unknown as Prisma.InputJsonValue } });
  return { versionId: created.id, number: created.number };
}

export async function publishCaseVersion(ctx: Ctx, versionId: string): Promise<{ versionId: string; number: number }> {
  const identity = requireIdentity(ctx);
  const version = await ctx.prisma.caseVersion.findUnique({ where: { id: versionId }, include: { case: true } });
  if (!version) throw notFound('Case version');
  if (!TRAINING_STAFF.includes(identity.role) || identity.organizationId !== version.case.organizationId) throw forbidden('Only the organization’s staff publish its cases');
  if (version.status === 'PUBLISHED') throw conflict('This version is already published and cannot change');
  await ctx.prisma.caseVersion.update({ where: { id: versionId }, data: { status: 'PUBLISHED', publishedAt: new Date() } });
  return { versionId, number: version.number };
}

export async function assignToCohort(ctx: Ctx, input: { cohortId: string; caseId?: string | null; caseSetId?: string | null; dueAt?: Date | null }): Promise<{ id: string }> {
  const identity = requireIdentity(ctx);
  const cohort = await loadCohort(ctx, input.cohortId);
  if (!TRAINING_STAFF.includes(identity.role) && identity.role !== Role.PARTNER) throw forbidden('Only staff or the cohort’s partner assign cases');
  if (Boolean(input.caseId) === Boolean(input.caseSetId)) throw badUserInput('input', 'give exactly one of caseId and caseSetId');
  if (input.dueAt && input.dueAt.getTime() < Date.now()) throw badUserInput('input.dueAt', 'is in the past');
  if (input.caseId) {
    const found = await ctx.prisma.case.findUnique({ where: { id: input.caseId } });
    if (!found || found.organizationId !== cohort.organizationId) throw notFound('Case');
  } else {
    const found = await ctx.prisma.caseSet.findUnique({ where: { id: input.caseSetId as string } });
    if (!found || found.organizationId !== cohort.organizationId) throw notFound('Case set');
  }
  return ctx.prisma.cohortAssignment.create({ data: { cohortId: cohort.id, caseId: input.caseId ?? null, caseSetId: input.caseSetId ?? null, dueAt: input.dueAt ?? null }, select: { id: true } });
}

// ---------------------------------------------------------------- launch

export interface LaunchResult {
  accessToken: string;
  session: CaseSession;
  launchUrl: string;
}

const jwksByUri = new Map<string, JWTVerifyGetKey>();
function partnerKeys(uri: string): JWTVerifyGetKey {
  let keys = jwksByUri.get(uri);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(uri), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 });
    jwksByUri.set(uri, keys);
  }
  return keys;
}

const launchRejected = (reason: string) => domainError('UNAUTHENTICATED', `launch token rejected: ${reason}`, { reason });

/** Reads (without trusting it yet) a partner token's algorithm, and finds the partner by its issuer. */
async function partnerOf(ctx: Ctx, token: string): Promise<{ partner: Partner; alg: string | undefined }> {
  let alg: string | undefined;
  let issuer: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
    issuer = decodeJwt(token).iss;
  } catch {
    throw launchRejected('malformed');
  }
  const partner = issuer ? await ctx.prisma.partner.findUnique({ where: { launchIssuer: issuer } }) : null;
  if (!partner) throw launchRejected('unknown partner');
  return { partner, alg };
}

/** Verifies a partner-signed JWT, turning every failure into UNAUTHENTICATED with its reason. */
async function verifyPartnerJwt(token: string, key: Uint8Array | JWTVerifyGetKey, options: { issuer: string; audience?: string; algorithms: string[] }): Promise<JWTPayload> {
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

/** Verifies a partner's launch token; returns its partner and claims, or throws UNAUTHENTICATED with the reason. */
async function verifyLaunchToken(ctx: Ctx, token: string): Promise<{ partner: Partner; claims: JWTPayload }> {
  const { partner, alg } = await partnerOf(ctx, token);
  let claims: JWTPayload;
  if (alg === 'HS256' && partner.launchSecret) {
    claims = await verifyPartnerJwt(token, new TextEncoder().encode(partner.launchSecret), { issuer: partner.launchIssuer, algorithms: ['HS256'] });
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

interface ChosenVersion {
  id: string;
  caseId: string;
  number: number;
}

/** Announces a new case session (analytics counts attempts per case from it). */
async function announceSessionStarted(tx: Prisma.TransactionClient, session: CaseSession, version: ChosenVersion): Promise<void> {
  await recordEvent(tx, {
    source: SOURCE, type: TRAINING_EVENTS.sessionStarted, aggregateId: session.id, organizationId: session.organizationId, partnerId: session.partnerId,
    payload: { sessionId: session.id, cohortId: session.cohortId, learnerId: session.learnerId, caseVersionId: version.id, caseId: version.caseId, caseVersion: version.number, startedAt: session.startedAt.toISOString() },
  });
}

/** Enrolls a learner in a cohort, announcing it only when the enrollment is new. */
async function enroll(tx: Prisma.TransactionClient, cohort: Pick<Cohort, 'id' | 'organizationId' | 'partnerId'>, learnerId: string): Promise<void> {
  const { count } = await tx.enrollment.createMany({ data: [{ cohortId: cohort.id, learnerId }], skipDuplicates: true });
  if (count === 0) return;
  const enrollment = await tx.enrollment.findUniqueOrThrow({ where: { cohortId_learnerId: { cohortId: cohort.id, learnerId } } });
  await recordEvent(tx, {
    source: SOURCE, type: TRAINING_EVENTS.learnerEnrolled, aggregateId: cohort.id, organizationId: cohort.organizationId, partnerId: cohort.partnerId,
    payload: { cohortId: cohort.id, learnerId, enrolledAt: enrollment.createdAt.toISOString() },
  });
}

/** The case to launch: the one named, else the first of the named set, else the cohort's first assignment. */
async function chooseCaseVersion(ctx: Ctx, cohortId: string, caseId: string | undefined, caseSetId: string | undefined): Promise<ChosenVersion> {
  const assigned = await ctx.prisma.cohortAssignment.findMany({ where: { cohortId }, include: { caseSet: { include: { items: { orderBy: { position: 'asc' } } } } }, orderBy: { createdAt: 'asc' } });
  const assignedCaseIds = assigned.flatMap((a) => (a.caseId ? [a.caseId] : (a.caseSet?.items.map((i) => i.caseId) ?? [])));
  let chosen: string | undefined;
  if (caseId) {
    if (!assignedCaseIds.includes(caseId)) throw forbidden('That case is not assigned to the cohort');
    chosen = caseId;
  } else if (caseSetId) {
    const set = assigned.find((a) => a.caseSetId === caseSetId);
    if (!set) throw forbidden('That case set is not assigned to the cohort');
    chosen = set.caseSet?.items[0]?.caseId;
  } else {
    chosen = assignedCaseIds[0];
  }
  if (!chosen) throw badUserInput('token', 'the cohort has no case to launch');
  const version = await ctx.prisma.caseVersion.findFirst({ where: { caseId: chosen, status: 'PUBLISHED' }, orderBy: { number: 'desc' }, select: { id: true, caseId: true, number: true } });
  if (!version) throw badUserInput('token', 'the case has no published version');
  return version;
}

/**
 * A partner's learner arrives with a signed launch token: verified, single use, mapped to an
 * internal learner (created on first launch), enrolled, and given a session and a platform
 * access token. A rejected launch creates nothing.
 */
export async function launchSession(ctx: Ctx, token: string): Promise<LaunchResult> {
  if (!ctx.issueToken) throw new Error('launchSession needs a token issuer (AUTH_SIGNING_KEY)');
  const { partner, claims } = await verifyLaunchToken(ctx, token);
  const cohort = await ctx.prisma.cohort.findUnique({ where: { id: String(claims['cohort_id']) } });
  if (!cohort || cohort.partnerId !== partner.id) throw forbidden('That cohort is not the partner’s');
  const version = await chooseCaseVersion(ctx, cohort.id, claims['case_id'] as string | undefined, claims['case_set_id'] as string | undefined);
  const subject = claims.sub as string;
  const displayName = typeof claims['name'] === 'string' ? claims['name'].slice(0, 200) : null;

  const session = await ctx.prisma.$transaction(async (tx) => {
    try {
      await tx.launchNonce.create({ data: { jti: claims.jti as string, partnerId: partner.id, expiresAt: new Date((claims.exp as number) * 1000) } });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw launchRejected('jti already used');
      throw error;
    }
    const learner = await tx.learner.upsert({
      where: { partnerId_externalSubject: { partnerId: partner.id, externalSubject: subject } },
      create: { partnerId: partner.id, externalSubject: subject, displayName },
      update: displayName ? { displayName } : {},
    });
    await enroll(tx, cohort, learner.id);
    const created = await tx.caseSession.create({
      data: { organizationId: cohort.organizationId, partnerId: partner.id, cohortId: cohort.id, learnerId: learner.id, caseVersionId: version.id },
    });
    await announceSessionStarted(tx, created, version);
    return created;
  });
  const accessToken = await ctx.issueToken({ userId: session.learnerId, role: Role.LEARNER, organizationId: session.organizationId, cohortIds: [session.cohortId] }, 4 * 3600);
  const base = ctx.publicUrl ?? 'http://127.0.0.1:4000';
  return { accessToken, session, launchUrl: `${base}/app/training/sessions/${session.id}#access_token=${encodeURIComponent(accessToken)}` };
}

// ---------------------------------------------------------------- SSO

export interface SsoSignIn {
  accessToken: string;
  learnerId: string;
  cohortIds: string[];
}

/**
 * A learner signs in with the partner as OpenID Connect provider: the ID token is verified
 * against the partner's JWKS (issuer and audience checked), the partner's user is mapped to
 * a learner (created on first sign-in), optionally enrolled in the `cohort_id` the token
 * names (it must be the partner's), and given a platform token scoped to their cohorts.
 */
export async function signInWithPartnerSso(ctx: Ctx, idToken: string): Promise<SsoSignIn> {
  if (!ctx.issueToken) throw new Error('SSO sign-in needs a token issuer (AUTH_SIGNING_KEY)');
  const { partner, alg } = await partnerOf(ctx, idToken);
  if (!partner.jwksUri || !partner.oidcAudience) throw launchRejected('SSO is not enabled for this partner');
  if (alg !== 'RS256' && alg !== 'ES256') throw launchRejected(`algorithm ${String(alg)} is not accepted`);
  const claims = await verifyPartnerJwt(idToken, partnerKeys(partner.jwksUri), { issuer: partner.launchIssuer, audience: partner.oidcAudience, algorithms: ['RS256', 'ES256'] });
  if (!claims.sub) throw launchRejected('no sub');
  const cohortId = typeof claims['cohort_id'] === 'string' ? claims['cohort_id'] : undefined;
  const cohort = cohortId ? await ctx.prisma.cohort.findUnique({ where: { id: cohortId } }) : null;
  if (cohortId && (!cohort || cohort.partnerId !== partner.id)) throw forbidden('That cohort is not the partner’s');
  const displayName = typeof claims['name'] === 'string' ? claims['name'].slice(0, 200) : null;
  const learner = await ctx.prisma.$transaction(async (tx) => {
    const found = await tx.learner.upsert({
      where: { partnerId_externalSubject: { partnerId: partner.id, externalSubject: claims.sub as string } },
      create: { partnerId: partner.id, externalSubject: claims.sub as string, displayName },
      update: displayName ? { displayName } : {},
    });
    if (cohort) await enroll(tx, cohort, found.id);
    return found;
  });
  const cohortIds = (await ctx.prisma.enrollment.findMany({ where: { learnerId: learner.id }, select: { cohortId: true } })).map((e) => e.cohortId);
  const accessToken = await ctx.issueToken({ userId: learner.id, role: Role.LEARNER, organizationId: partner.organizationId, cohortIds }, 8 * 3600);
  return { accessToken, learnerId: learner.id, cohortIds };
}

/** A signed-in learner starts a case assigned to one of their cohorts (the SSO path's launch). */
export async function startCaseSession(ctx: Ctx, cohortId: string, caseId: string | null | undefined): Promise<CaseSession> {
  const identity = requireIdentity(ctx);
  if (identity.role !== Role.LEARNER) throw forbidden('Only learners start case sessions');
  const enrollment = await ctx.prisma.enrollment.findUnique({ where: { cohortId_learnerId: { cohortId, learnerId: identity.subject } }, include: { cohort: true } });
  if (!enrollment) throw forbidden('You are not enrolled in that cohort');
  const version = await chooseCaseVersion(ctx, cohortId, caseId ?? undefined, undefined);
  return ctx.prisma.$transaction(async (tx) => {
    const created = await tx.caseSession.create({
      data: { organizationId: enrollment.cohort.organizationId, partnerId: enrollment.cohort.partnerId, cohortId, learnerId: identity.subject, caseVersionId: version.id },
    });
    await announceSessionStarted(tx, created, version);
    return created;
  });
}

// ---------------------------------------------------------------- conversation

export interface ReplyChunk {
  turnId: string;
  seq: number;
  delta: string;
  done: boolean;
  /** The reply so far (the whole reply when done). */
  text: string;
}

export const replyTopic = (sessionId: string): string => `training.reply.${sessionId}`;
const MAX_MESSAGE_LENGTH = 2_000;

function systemPrompt(content: CaseContent): string {
  const p = content.persona;
  return [
    `You are ${p.name}, a ${p.age}-year-old ${p.sex} patient, talking to a medical learner. Stay in character.`,
    `Your problem: ${p.presentingComplaint}. Answer only from these facts, revealing one only when asked about it; say you do not know otherwise.`,
    ...content.history.map((fact) => `- ${fact.answer}`),
    `Allergies: ${p.allergies.join(', ') || 'none'}. Medicines: ${p.medications.join(', ') || 'none'}.`,
    'Never give the diagnosis or suggest tests.',
  ].join('\n');
}

function responderFor(ctx: Ctx, content: CaseContent, question: string): Responder {
  if (ctx.llm) return new OpenAICompatibleResponder(ctx.llm);
  return { name: 'embedded', stream: () => streamWords(answerAsPatient(content, question).text, 5) };
}

/**
 * Stores the learner's turn and starts the patient's reply, which streams through
 * `patientReply` and is stored as a turn when done. What the question revealed (for scoring)
 * is decided from the question and the case, not from the model's wording, so scores do not
 * depend on which responder answered.
 */
export async function sendLearnerMessage(ctx: Ctx, sessionId: string, text: string): Promise<{ learnerTurnId: string; replyTurnId: string }> {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_MESSAGE_LENGTH) throw badUserInput('text', `must be 1-${MAX_MESSAGE_LENGTH} characters`);
  const session = await ownActiveSession(ctx, sessionId);
  const answer = answerAsPatient(session.content, trimmed);
  const history = await ctx.prisma.sessionTurn.findMany({ where: { sessionId }, orderBy: { seq: 'asc' } });
  const nextSeq = (history.at(-1)?.seq ?? 0) + 1;
  const learnerTurn = await ctx.prisma.sessionTurn.create({ data: { sessionId, seq: nextSeq, role: 'LEARNER', text: trimmed, revealedFactIds: answer.revealedFactIds, examinedFindingIds: answer.examinedFindingIds } });
  const replyTurnId = crypto.randomUUID();
  const responder = responderFor(ctx, session.content, trimmed);
  runInBackground(ctx, 'training.patient-reply', () => streamReply(ctx, { sessionId, replyTurnId, seq: nextSeq + 1, responder, system: systemPrompt(session.content), history: history.map((t) => ({ role: t.role === 'LEARNER' ? 'user' as const : 'assistant' as const, content: t.text })), message: trimmed }));
  return { learnerTurnId: learnerTurn.id, replyTurnId };
}

async function streamReply(
  ctx: Ctx,
  reply: { sessionId: string; replyTurnId: string; seq: number; responder: Responder; system: string; history: Array<{ role: 'user' | 'assistant'; content: string }>; message: string },
): Promise<void> {
  const topic = replyTopic(reply.sessionId);
  let text = '';
  let chunkSeq = 0;
  try {
    for await (const delta of reply.responder.stream({ system: reply.system, history: reply.history, message: reply.message })) {
      text += delta;
      chunkSeq += 1;
      await ctx.pubsub.publish(topic, { turnId: reply.replyTurnId, seq: chunkSeq, delta, done: false, text } satisfies ReplyChunk);
    }
  } catch (error) {
    ctx.log.warn({ err: error, sessionId: reply.sessionId, responder: reply.responder.name }, 'patient reply failed');
    text = text || "Sorry, I'm finding it hard to talk right now. Could you ask me again?";
  }
  await ctx.prisma.sessionTurn.create({ data: { id: reply.replyTurnId, sessionId: reply.sessionId, seq: reply.seq, role: 'PATIENT', text, revealedFactIds: [], examinedFindingIds: [] } });
  await ctx.pubsub.publish(topic, { turnId: reply.replyTurnId, seq: chunkSeq + 1, delta: '', done: true, text } satisfies ReplyChunk);
}

/** Checks the caller may follow a session's replies (before the stream opens). */
export async function authorizeReplyStream(ctx: Ctx, sessionId: string): Promise<void> {
  await loadSession(ctx, sessionId);
}

// ---------------------------------------------------------------- work-up

export async function orderInvestigation(ctx: Ctx, sessionId: string, code: string): Promise<{ code: string; name: string; result: string }> {
  const session = await ownActiveSession(ctx, sessionId);
  const investigation = session.content.investigations.find((i) => i.code === code.trim().toUpperCase());
  if (!investigation) throw badUserInput('code', `unknown investigation; available: ${session.content.investigations.map((i) => i.code).join(', ')}`);
  await ctx.prisma.investigationOrder.upsert({ where: { sessionId_code: { sessionId, code: investigation.code } }, create: { sessionId, code: investigation.code }, update: {} });
  return { code: investigation.code, name: investigation.name, result: investigation.result };
}

export async function submitDiagnosis(ctx: Ctx, sessionId: string, diagnosis: string): Promise<CaseSession> {
  const trimmed = diagnosis.trim();
  if (trimmed.length === 0 || trimmed.length > 500) throw badUserInput('diagnosis', 'must be 1-500 characters');
  await ownActiveSession(ctx, sessionId);
  return ctx.prisma.caseSession.update({ where: { id: sessionId }, data: { diagnosis: trimmed } });
}

export async function submitManagement(ctx: Ctx, sessionId: string, plan: string): Promise<CaseSession> {
  const trimmed = plan.trim();
  if (trimmed.length === 0 || trimmed.length > 5_000) throw badUserInput('plan', 'must be 1-5000 characters');
  await ownActiveSession(ctx, sessionId);
  return ctx.prisma.caseSession.update({ where: { id: sessionId }, data: { managementPlan: trimmed } });
}

/** The session's record as scoring sees it. */
async function sessionRecord(db: Prisma.TransactionClient | Ctx['prisma'], session: CaseSession): Promise<SessionRecord> {
  const [turns, orders] = await Promise.all([
    db.sessionTurn.findMany({ where: { sessionId: session.id, role: 'LEARNER' }, orderBy: { seq: 'asc' } }),
    db.investigationOrder.findMany({ where: { sessionId: session.id }, orderBy: { orderedAt: 'asc' } }),
  ]);
  return {
    learnerTurns: turns.map((t) => t.text),
    revealedFactIds: [...new Set(turns.flatMap((t) => t.revealedFactIds))],
    examinedFindingIds: [...new Set(turns.flatMap((t) => t.examinedFindingIds))],
    orderedCodes: orders.map((o) => o.code),
    diagnosis: session.diagnosis,
    managementPlan: session.managementPlan,
  };
}

export interface SessionSummary {
  sessionId: string;
  caseId: string;
  caseVersion: number;
  cohortId: string;
  learnerId: string;
  status: 'ACTIVE' | 'COMPLETED';
  startedAt: Date;
  endedAt: Date | null;
  durationSeconds: number | null;
  score: ScoreCard | null;
}

export async function summarize(db: Ctx['prisma'] | Prisma.TransactionClient, session: CaseSession): Promise<SessionSummary> {
  const version = await db.caseVersion.findUniqueOrThrow({ where: { id: session.caseVersionId }, select: { caseId: true, number: true } });
  return {
    sessionId: session.id,
    caseId: version.caseId,
    caseVersion: version.number,
    cohortId: session.cohortId,
    learnerId: session.learnerId,
    status: session.status,
    startedAt: session.startedAt,
    endedAt: session.endedAt,
    durationSeconds: session.endedAt ? Math.round((session.endedAt.getTime() - session.startedAt.getTime()) / 1000) : null,
    score: (session.score as unknown as ScoreCard | null) ?? null,
  };
}

/** Scores the session, completes it, and queues its summary for the partner, in one transaction. */
export async function completeSession(ctx: Ctx, sessionId: string): Promise<CaseSession> {
  const session = await ownActiveSession(ctx, sessionId);
  return ctx.prisma.$transaction(async (tx) => {
    const card = scoreSession(session.content, await sessionRecord(tx, session));
    const completed = await tx.caseSession.update({
      where: { id: sessionId, status: 'ACTIVE' },
      data: { status: 'COMPLETED', endedAt: new Date(), score: card as unknown as Prisma.InputJsonValue, totalScore: card.total },
    });
    const summary = await summarize(tx, completed);
    await recordEvent(tx, {
      source: SOURCE, type: TRAINING_EVENTS.sessionCompleted, aggregateId: sessionId, organizationId: completed.organizationId, partnerId: completed.partnerId,
      payload: JSON.parse(JSON.stringify(summary)) as Prisma.InputJsonValue,
    });
    return completed;
  });
}

/** Scores a session again from its stored record: the same result every time. */
export async function rescoreSession(ctx: Ctx, sessionId: string): Promise<ScoreCard> {
  const session = await loadSession(ctx, sessionId);
  const version = await ctx.prisma.caseVersion.findUniqueOrThrow({ where: { id: session.caseVersionId } });
  return scoreSession(version.content as unknown as CaseContent, await sessionRecord(ctx.prisma, session));
}

export async function sessionSummary(ctx: Ctx, sessionId: string): Promise<SessionSummary> {
  return summarize(ctx.prisma, await loadSession(ctx, sessionId));
}

/** `query` is the Prisma plugin's selection (relations the requested fields need), so a list loads in one query. */
export async function listSessions<Q extends Omit<Prisma.CaseSessionFindManyArgs, 'where' | 'orderBy'>>(ctx: Ctx, filter: { cohortId?: string | null }, query?: Q) {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.LEARNER) return ctx.prisma.caseSession.findMany({ ...query, where: { learnerId: identity.subject, ...(filter.cohortId ? { cohortId: filter.cohortId } : {}) }, orderBy: { startedAt: 'desc' } });
  if (identity.role === Role.BI) throw forbidden('BI reads figures, not sessions');
  if (!filter.cohortId) throw badUserInput('cohortId', 'is required');
  await loadCohort(ctx, filter.cohortId);
  return ctx.prisma.caseSession.findMany({ ...query, where: { cohortId: filter.cohortId }, orderBy: { startedAt: 'desc' } });
}

// ---------------------------------------------------------------- retention

/**
 * Retention: deletes a cohort's learner data (sessions with their turns and orders,
 * enrollments, and learners left with no enrollment). Audited: who, which cohort, why.
 */
export async function deleteCohortLearnerData(ctx: Ctx, cohortId: string, reason: string): Promise<{ sessions: number; learners: number }> {
  const identity = requireIdentity(ctx);
  const cohort = await ctx.prisma.cohort.findUnique({ where: { id: cohortId } });
  if (!cohort) throw notFound('Cohort');
  if (identity.role !== Role.ADMIN || identity.organizationId !== cohort.organizationId) throw forbidden('Only an admin of the cohort’s organization may delete its learner data');
  if (reason.trim().length < 3) throw badUserInput('reason', 'say why (at least 3 characters)');
  return ctx.prisma.$transaction(async (tx) => {
    const enrolled = await tx.enrollment.findMany({ where: { cohortId }, select: { learnerId: true } });
    const sessions = await tx.caseSession.deleteMany({ where: { cohortId } });
    await tx.enrollment.deleteMany({ where: { cohortId } });
    const orphans = await tx.learner.deleteMany({ where: { id: { in: enrolled.map((e) => e.learnerId) }, enrollments: { none: {} } } });
    await audit(tx, ctx.identity, { source: SOURCE, action: 'delete-learner-data', entityType: 'Cohort', entityIds: [cohortId], reason: reason.trim() });
    await recordEvent(tx, { source: SOURCE, type: TRAINING_EVENTS.learnerDataDeleted, aggregateId: cohortId, organizationId: cohort.organizationId, partnerId: cohort.partnerId, payload: { cohortId, sessions: sessions.count, learners: orphans.count } });
    return { sessions: sessions.count, learners: orphans.count };
  });
}

// ---------------------------------------------------------------- directory

export interface PartnerRegistration {
  id: string;
  organizationId: string;
  name: string;
  launchIssuer: string;
  launchSecret?: string | null;
  jwksUri?: string | null;
  oidcAudience?: string | null;
  principalId?: string | null;
}

export interface CohortRegistration {
  id: string;
  organizationId: string;
  partnerId: string;
  name: string;
}

/**
 * Registers a partner (or updates it) and announces who acts for it, so domains that decide
 * partner access from events (analytics) learn it. Announced when something they rely on
 * changed, or when it never was announced (a database seeded before the event existed).
 */
export async function registerPartner(prisma: PrismaClient, partner: PartnerRegistration): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.partner.findUnique({ where: { id: partner.id } });
    await tx.partner.upsert({ where: { id: partner.id }, create: partner, update: partner });
    const unchanged = before?.organizationId === partner.organizationId && before.principalId === (partner.principalId ?? null);
    if (unchanged && (await announced(tx, TRAINING_EVENTS.partnerRegistered, partner.id))) return;
    await recordEvent(tx, {
      source: SOURCE, type: TRAINING_EVENTS.partnerRegistered, aggregateId: partner.id, organizationId: partner.organizationId, partnerId: partner.id,
      payload: { partnerId: partner.id, organizationId: partner.organizationId, principalId: partner.principalId ?? null },
    });
  });
}

/** Registers a cohort (or renames it) and announces it once, as registerPartner does. */
export async function registerCohort(prisma: PrismaClient, cohort: CohortRegistration): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const before = await tx.cohort.findUnique({ where: { id: cohort.id } });
    if (before && (before.partnerId !== cohort.partnerId || before.organizationId !== cohort.organizationId)) {
      throw conflict('A cohort cannot move to another partner or organization');
    }
    await tx.cohort.upsert({ where: { id: cohort.id }, create: cohort, update: { name: cohort.name } });
    if (await announced(tx, TRAINING_EVENTS.cohortRegistered, cohort.id)) return;
    await recordEvent(tx, {
      source: SOURCE, type: TRAINING_EVENTS.cohortRegistered, aggregateId: cohort.id, organizationId: cohort.organizationId, partnerId: cohort.partnerId,
      payload: { cohortId: cohort.id, partnerId: cohort.partnerId, organizationId: cohort.organizationId },
    });
  });
}

async function announced(tx: Prisma.TransactionClient, type: string, aggregateId: string): Promise<boolean> {
  return (await tx.outboxEvent.findFirst({ where: { type, aggregateId }, select: { id: true } })) !== null;
}
