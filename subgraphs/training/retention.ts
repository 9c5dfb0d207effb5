import { audit } from '../kit/audit.js';
import { badUserInput } from '../kit/errors.js';
import { TrainingEvents } from '../kit/events/training.js';
import { requireRole, Role } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import type { Ctx } from './access.js';

/** The audit source of training's own audit entries. */
const SOURCE = 'training';

/**
 * Retention: deletes a cohort's learner data (sessions with their turns and orders,
 * enrolments, and learners left with no enrolment), for an admin of the cohort's organization.
 * Audited with who, which cohort and why: a deletion with a reason is more than a row change.
 */
export async function deleteCohortLearnerData(ctx: Ctx, cohortId: string, reason: string): Promise<{ sessions: number; learners: number }> {
  requireRole(ctx.identity, [Role.ADMIN], 'Only an admin of the cohort’s organization may delete its learner data');
  const cohort = await ctx.db.cohort.findUniqueOrThrow({ where: { id: cohortId } });
  if (reason.trim().length < 3) throw badUserInput('reason', 'say why (at least 3 characters)');
  return ctx.db.$transaction(async (tx) => {
    // Learners enrolled here and nowhere else: read while still enrolled (so still visible).
    const orphanIds = (await tx.learner.findMany({ where: { enrollments: { some: { cohortId }, every: { cohortId } } }, select: { id: true } })).map((l) => l.id);
    const sessions = await tx.caseSession.deleteMany({ where: { cohortId } });
    await tx.enrollment.deleteMany({ where: { cohortId } });
    const orphans = await tx.learner.deleteMany({ where: { id: { in: orphanIds } } });
    await audit(tx, ctx.identity, { source: SOURCE, action: 'delete-learner-data', entityType: 'Cohort', entityIds: [cohortId], reason: reason.trim() });
    // Names the deleted learners, so identity deletes their user accounts too.
    await recordEvent(tx, TrainingEvents.learnerDataDeleted, {
      aggregateId: cohortId, organizationId: cohort.organizationId, partnerId: cohort.partnerId,
      payload: { cohortId, sessions: sessions.count, learners: orphans.count, learnerIds: orphanIds },
    });
    return { sessions: sessions.count, learners: orphans.count };
  });
}
