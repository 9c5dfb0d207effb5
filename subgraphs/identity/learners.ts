import type { PrismaClient } from '../../prisma/generated/client/client.js';
import { catchUp, MalformedEvent, on, type EventConsumer } from '../kit/events/consumers.js';
import { TrainingEvents } from '../kit/events/training.js';
import { Role } from '../kit/identity.js';
import type { Logger } from '../kit/logger.js';

/**
 * Learners as users of the platform. Training creates learners (a partner's launch or SSO
 * sign-in) and announces each enrolment; identity keeps a user for each learner — same id,
 * role LEARNER in the cohort's organization, a placeholder address and no personal data — so
 * `me` and everything keyed by user answer for them. Which partner and cohorts a learner
 * belongs to stays training's (its Learner and Enrollment rows); retention's deletion removes
 * the user with the learner.
 */

export const LEARNER_ACCOUNTS_CONSUMER = 'identity.learners';

/** Never deliverable (RFC 2606 `.invalid`), unique per learner, says nothing about the person. */
const placeholderEmail = (learnerId: string): string => `learner-${learnerId}@learners.caregraph.invalid`;

export const learnerAccounts: EventConsumer = {
  name: LEARNER_ACCOUNTS_CONSUMER,
  handlers: [
    on(TrainingEvents.learnerEnrolled, async (event, tx) => {
      if (!event.organizationId) throw new MalformedEvent(`${event.type} ${event.id} has no organizationId`);
      const userId = event.payload.learnerId;
      await tx.user.upsert({ where: { id: userId }, create: { id: userId, email: placeholderEmail(userId), displayName: 'Learner' }, update: {} });
      await tx.membership.createMany({ data: [{ userId, organizationId: event.organizationId, role: Role.LEARNER }], skipDuplicates: true });
    }),
    on(TrainingEvents.learnerDataDeleted, async (event, tx) => {
      const learnerIds = event.payload.learnerIds ?? [];
      if (learnerIds.length === 0) return;
      // Only accounts that are nothing but a learner: a person with another role keeps theirs.
      await tx.user.deleteMany({ where: { id: { in: learnerIds }, patientId: null, memberships: { every: { role: Role.LEARNER } } } });
    }),
  ],
};

/** Applies learner announcements still waiting, for a learner who asks about themselves a moment after their launch. */
export const catchUpLearnerAccounts = (prisma: PrismaClient, log: Logger): Promise<void> => catchUp(prisma, log, learnerAccounts);
