import type { CaseSession, Cohort, Learner, Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import type { Ctx } from './access.js';
import { badUserInput, conflict, forbidden, type DomainError } from '../kit/errors.js';
import { TrainingEvents } from '../kit/events/training.js';
import { recordEvent } from '../kit/outbox.js';

/**
 * What a launch and a sign-in share: a partner's user becomes a learner (on first arrival),
 * joins a cohort, and starts a session of a case assigned to it, each announced through the
 * outbox in the caller's transaction.
 */

export interface ChosenVersion {
  id: string;
  caseId: string;
  number: number;
}

/** An archived cohort keeps its records but takes no one new and starts nothing. */
export const cohortArchived = (): DomainError => conflict('That cohort is archived');
type OpenCohort = Pick<Cohort, 'id' | 'organizationId' | 'partnerId' | 'archivedAt'>;

/** The partner's user as a learner: created on first arrival, the display name kept current. */
export function learnerFor(tx: Prisma.TransactionClient, partnerId: string, externalSubject: string, displayName: string | null): Promise<Learner> {
  return tx.learner.upsert({
    where: { partnerId_externalSubject: { partnerId, externalSubject } },
    create: { partnerId, externalSubject, displayName },
    update: displayName ? { displayName } : {},
  });
}

/** Enrolls a learner in a cohort, announcing it only when the enrolment is new. */
export async function enroll(tx: Prisma.TransactionClient, cohort: OpenCohort, learnerId: string): Promise<void> {
  if (cohort.archivedAt) throw cohortArchived();
  const { count } = await tx.enrollment.createMany({ data: [{ cohortId: cohort.id, learnerId }], skipDuplicates: true });
  if (count === 0) return;
  const enrollment = await tx.enrollment.findUniqueOrThrow({ where: { cohortId_learnerId: { cohortId: cohort.id, learnerId } } });
  await recordEvent(tx, TrainingEvents.learnerEnrolled, {
    aggregateId: cohort.id, organizationId: cohort.organizationId, partnerId: cohort.partnerId,
    payload: { cohortId: cohort.id, learnerId, enrolledAt: enrollment.createdAt.toISOString() },
  });
}

/**
 * The case to start: the one named, else the first of the named set, else the cohort's first
 * assignment; its latest published version. `db` is the caller's scoped client, or the system
 * client for a verified launch; `field` names the input a refusal is about.
 */
export async function chooseCaseVersion(db: Pick<PrismaClient, 'cohortAssignment' | 'caseVersion'>, choice: { cohortId: string; caseId?: string | undefined; caseSetId?: string | undefined }, field: string): Promise<ChosenVersion> {
  const assigned = await db.cohortAssignment.findMany({ where: { cohortId: choice.cohortId }, include: { caseSet: { include: { items: { orderBy: { position: 'asc' } } } } }, orderBy: { createdAt: 'asc' } });
  const assignedCaseIds = assigned.flatMap((a) => (a.caseId ? [a.caseId] : (a.caseSet?.items.map((i) => i.caseId) ?? [])));
  let chosen: string | undefined;
  if (choice.caseId) {
    if (!assignedCaseIds.includes(choice.caseId)) throw forbidden('That case is not assigned to the cohort');
    chosen = choice.caseId;
  } else if (choice.caseSetId) {
    const set = assigned.find((a) => a.caseSetId === choice.caseSetId);
    if (!set) throw forbidden('That case set is not assigned to the cohort');
    chosen = set.caseSet?.items[0]?.caseId;
  } else {
    chosen = assignedCaseIds[0];
  }
  if (!chosen) throw badUserInput(field, 'the cohort has no case to launch');
  const version = await db.caseVersion.findFirst({ where: { caseId: chosen, status: 'PUBLISHED' }, orderBy: { number: 'desc' }, select: { id: true, caseId: true, number: true } });
  if (!version) throw badUserInput(field, 'the case has no published version');
  return version;
}

/** Starts a case session for an enrolled learner and announces it (analytics counts attempts per case from it). */
export async function openSession(tx: Prisma.TransactionClient, cohort: OpenCohort, learnerId: string, version: ChosenVersion): Promise<CaseSession> {
  if (cohort.archivedAt) throw cohortArchived();
  const session = await tx.caseSession.create({
    data: { organizationId: cohort.organizationId, partnerId: cohort.partnerId, cohortId: cohort.id, learnerId, caseVersionId: version.id },
  });
  await recordEvent(tx, TrainingEvents.sessionStarted, {
    aggregateId: session.id, organizationId: session.organizationId, partnerId: session.partnerId,
    payload: { sessionId: session.id, cohortId: session.cohortId, learnerId: session.learnerId, caseVersionId: version.id, caseId: version.caseId, caseVersion: version.number, startedAt: session.startedAt.toISOString() },
  });
  return session;
}

/**
 * Whether a learner still exists, and their cohorts, for the gateway (which refuses the tokens
 * of learners retention has deleted). `prisma` is the system client: the gateway asks about
 * any learner, for no user.
 */
export async function learnerStanding(prisma: PrismaClient, learnerId: string): Promise<{ active: true; cohortIds: string[] } | null> {
  const learner = await prisma.learner.findUnique({ where: { id: learnerId }, select: { enrollments: { select: { cohortId: true }, orderBy: { createdAt: 'asc' } } } });
  return learner ? { active: true, cohortIds: learner.enrollments.map((e) => e.cohortId) } : null;
}

export interface LearnerProfile {
  learnerId: string;
  displayName: string | null;
  partnerId: string;
  cohortIds: string[];
}

/**
 * The learner a platform user is (same id), with their partner and cohorts, when the caller may
 * see them (themselves, their partner, their organization's staff); null otherwise, or when the
 * user is not a learner.
 */
export async function learnerProfile(ctx: Ctx, userId: string): Promise<LearnerProfile | null> {
  const learner = await ctx.db.learner.findFirst({ where: { id: userId }, select: { id: true, displayName: true, partnerId: true, enrollments: { select: { cohortId: true }, orderBy: { createdAt: 'asc' } } } });
  return learner ? { learnerId: learner.id, displayName: learner.displayName, partnerId: learner.partnerId, cohortIds: learner.enrollments.map((e) => e.cohortId) } : null;
}
