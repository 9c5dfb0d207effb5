import { z } from 'zod';
import { defineEvent } from './define.js';
import { count, id, int32, isoTime, seconds } from './fields.js';

const score = z.object({
  total: z.number().int().min(0).max(100),
  subScores: z.array(z.object({ section: z.string(), score: z.number().int().min(0).max(100).nullable(), achieved: z.number().optional(), possible: z.number().optional() })),
  /** Safety errors first, then critical, then minor. */
  flaggedErrors: z.array(z.object({ code: z.string().min(1).max(200), severity: z.enum(['safety', 'critical', 'minor']), message: z.string().optional() })),
  metItemIds: z.array(z.string()).optional(),
});

/** The Virtual AI Patient: partners, cohorts, learners and their scored case sessions. */
export const TrainingEvents = {
  partnerRegistered: defineEvent({
    type: 'training.partner.registered',
    version: 1,
    source: 'training',
    description: 'A training partner was registered, or who acts for it changed.',
    payload: z.object({ partnerId: id, organizationId: id, principalId: id.nullable() }),
  }),
  cohortRegistered: defineEvent({
    type: 'training.cohort.registered',
    version: 1,
    source: 'training',
    description: 'A cohort of a partner was registered.',
    payload: z.object({ cohortId: id, partnerId: id, organizationId: id }),
  }),
  learnerEnrolled: defineEvent({
    type: 'training.learner.enrolled',
    version: 1,
    source: 'training',
    description: 'A learner joined a cohort (on their first launch or sign-in into it).',
    payload: z.object({ cohortId: id, learnerId: id, enrolledAt: isoTime.optional() }),
  }),
  sessionStarted: defineEvent({
    type: 'training.session.started',
    version: 1,
    source: 'training',
    description: 'A learner started a case session. Case fields are absent on events recorded before they were added.',
    payload: z.object({
      sessionId: id, cohortId: id, learnerId: id,
      caseVersionId: id.optional(), caseId: id.optional(), caseVersion: int32.optional(), startedAt: isoTime.optional(),
    }),
  }),
  sessionCompleted: defineEvent({
    type: 'training.session.completed',
    version: 1,
    source: 'training',
    description: 'A case session was completed and scored: the session summary partners receive (total, sub-scores, flagged safety errors).',
    payload: z.object({
      sessionId: id, caseId: id, caseVersion: int32, cohortId: id, learnerId: id,
      status: z.enum(['ACTIVE', 'COMPLETED']), startedAt: isoTime, endedAt: isoTime.nullable(), durationSeconds: seconds.nullable(),
      score: score.nullable(),
    }),
  }),
  learnerDataDeleted: defineEvent({
    type: 'training.cohort.learner_data_deleted',
    version: 1,
    source: 'training',
    description: 'Retention: a cohort’s learner data (sessions, enrolments, learners left without one) was deleted. `learnerIds` names the learners deleted (absent on events recorded before it was added).',
    payload: z.object({ cohortId: id, sessions: count, learners: count, learnerIds: z.array(id).optional() }),
  }),
} as const;
