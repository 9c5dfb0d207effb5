import type { AnalyticsCohort, Prisma } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import type { SubgraphContext } from '../kit/context.js';
import { badUserInput, forbidden } from '../kit/errors.js';
import { requireRole, requireStaffOf, Role } from '../kit/identity.js';
import {
  billingFigures, claimsFigures, cohortFigures, queueFigures, trainingActivity,
  type BillingFigures, type ClaimsFigures, type CohortFigures, type FlagFact, type QueueFigures, type SessionFacts, type SubScoreFact, type TrainingActivity,
} from './domain/figures.js';
import { COHORT_VIEWERS, METRICS_VIEWERS } from './policies.js';

/**
 * Analytics reads: cohort figures for partners and training staff, organization metrics for
 * dashboards and BI. Everything comes from the read models (projections.ts), read through
 * `ctx.db`: which cohorts, sessions and metrics a caller sees is policies.ts, on the one path
 * root fields and entity lookups share. What is left here is about the arguments: the role a
 * field needs, and that an organization asked for is the caller's own (FORBIDDEN, rather than
 * the empty answer the row filters alone would give).
 */

/** What the services use of a request: `db` for every read; `prisma` only for visibleRows' system lookup. */
type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders'>;

/** A longer window is a job for an export, not a request. */
const MAX_RANGE_DAYS = 400;

export interface DateRange {
  from: Date | null;
  to: Date | null;
}

export function checkRange(range: DateRange): DateRange {
  if (range.from && range.to) {
    if (range.from >= range.to) throw badUserInput('from', 'must be before to');
    if (range.to.getTime() - range.from.getTime() > MAX_RANGE_DAYS * 86_400_000) throw badUserInput('to', `the range may span at most ${MAX_RANGE_DAYS} days`);
  }
  return range;
}

const startedIn = (range: DateRange): Prisma.DateTimeFilter => ({ ...(range.from ? { gte: range.from } : {}), ...(range.to ? { lt: range.to } : {}) });

/** A cohort by id through the policies, batched per request: FORBIDDEN when it is someone else's, NOT_FOUND when unknown. */
function loadCohort(ctx: Ctx, cohortId: string): Promise<AnalyticsCohort> {
  // Named in the API's words (`Cohort`), not the read model's.
  return loadVisible<AnalyticsCohort>(ctx, 'AnalyticsCohort', cohortId, 'Cohort');
}

export interface CohortAnalytics extends CohortFigures {
  cohortId: string;
  from: Date | null;
  to: Date | null;
}

/** Figures for cohorts the caller may see, one query per table whatever the number of cohorts. */
async function figuresFor(ctx: Ctx, cohorts: readonly AnalyticsCohort[], range: DateRange): Promise<CohortAnalytics[]> {
  const ids = cohorts.map((c) => c.id);
  if (ids.length === 0) return [];
  const [enrollments, sessions] = await Promise.all([
    ctx.db.analyticsEnrollment.groupBy({ by: ['cohortId'], where: { cohortId: { in: ids }, ...(range.to ? { enrolledAt: { lt: range.to } } : {}) }, _count: { _all: true } }),
    ctx.db.analyticsTrainingSession.findMany({
      where: { cohortId: { in: ids }, startedAt: startedIn(range) },
      select: { cohortId: true, learnerId: true, caseId: true, completedAt: true, totalScore: true, subScores: true, flaggedErrors: true },
      orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    }),
  ]);
  const enrolledBy = new Map(enrollments.map((e) => [e.cohortId, e._count._all]));
  const factsBy = new Map<string, SessionFacts[]>();
  for (const s of sessions) {
    const facts = factsBy.get(s.cohortId) ?? [];
    // The JSON columns hold what the projection wrote from a checked payload.
    facts.push({ learnerId: s.learnerId, caseId: s.caseId, completed: s.completedAt !== null, totalScore: s.totalScore, subScores: s.subScores as unknown as SubScoreFact[], flaggedErrors: s.flaggedErrors as unknown as FlagFact[] });
    factsBy.set(s.cohortId, facts);
  }
  return cohorts.map((cohort) => ({ cohortId: cohort.id, from: range.from, to: range.to, ...cohortFigures(enrolledBy.get(cohort.id) ?? 0, factsBy.get(cohort.id) ?? []) }));
}

/** One cohort's figures over an optional range (sessions count by when they started). */
export async function cohortAnalytics(ctx: Ctx, cohortId: string, range: DateRange): Promise<CohortAnalytics> {
  requireRole(ctx.identity, COHORT_VIEWERS, 'You may not see cohort analytics');
  checkRange(range);
  const cohort = await loadCohort(ctx, cohortId);
  const [figures] = await figuresFor(ctx, [cohort], range);
  return figures as CohortAnalytics;
}

/** Every cohort of an organization (staff and BI), or the caller's own partner's cohorts in it. */
export async function organizationCohortAnalytics(ctx: Ctx, organizationId: string, range: DateRange): Promise<CohortAnalytics[]> {
  const caller = requireRole(ctx.identity, COHORT_VIEWERS, 'You may not see cohort analytics');
  checkRange(range);
  if (caller.role === Role.PARTNER) {
    // The partners the caller acts for (policies.ts): one of them must belong to the organization.
    if ((await ctx.db.analyticsPartner.count({ where: { organizationId } })) === 0) throw forbidden('You may see only your own cohorts');
  } else if (caller.organizationId !== organizationId) {
    throw forbidden('You may see only your organization’s cohorts');
  }
  // The policy narrows a partner to its own cohorts.
  const cohorts = await ctx.db.analyticsCohort.findMany({ where: { organizationId }, orderBy: { id: 'asc' } });
  return figuresFor(ctx, cohorts, range);
}

export interface OrganizationMetrics {
  organizationId: string;
  from: Date;
  to: Date;
  nurseQueue: QueueFigures;
  training: TrainingActivity;
  billing: BillingFigures;
  claims: ClaimsFigures;
}

/** An organization's operations over [from, to): the nurse queue, training activity, money collected. */
export async function organizationMetrics(ctx: Ctx, organizationId: string, from: Date, to: Date): Promise<OrganizationMetrics> {
  const caller = requireStaffOf(ctx.identity, METRICS_VIEWERS, 'You may see only your organization’s metrics');
  if (caller.organizationId !== organizationId) throw forbidden('You may see only your organization’s metrics');
  checkRange({ from, to });
  const window = { gte: from, lt: to };
  const claimFacts = { submittedAt: true, adjudication: true, adjudicatedAt: true, paidAt: true } as const;
  const [entries, started, completed, movements, sent, adjudicated, paidClaims] = await Promise.all([
    ctx.db.analyticsQueueEntry.findMany({ where: { organizationId, createdAt: window } }),
    ctx.db.analyticsTrainingSession.findMany({ where: { organizationId, startedAt: window }, select: { learnerId: true } }),
    ctx.db.analyticsTrainingSession.findMany({ where: { organizationId, completedAt: window }, select: { learnerId: true, totalScore: true, flaggedErrors: true } }),
    ctx.db.analyticsMoneyMovement.findMany({ where: { organizationId, at: window }, select: { kind: true, amount: true, currency: true } }),
    ctx.db.analyticsClaim.findMany({ where: { organizationId, submittedAt: window }, select: claimFacts }),
    ctx.db.analyticsClaim.findMany({ where: { organizationId, adjudicatedAt: window }, select: claimFacts }),
    ctx.db.analyticsClaim.findMany({ where: { organizationId, paidAt: window }, select: claimFacts }),
  ]);
  return {
    organizationId,
    from,
    to,
    nurseQueue: queueFigures(entries, new Date()),
    training: trainingActivity(started, completed.map((s) => ({ ...s, flaggedErrors: s.flaggedErrors as unknown as FlagFact[] }))),
    billing: billingFigures(movements),
    claims: claimsFigures(sent, adjudicated, paidClaims),
  };
}
