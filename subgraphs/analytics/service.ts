import type { AnalyticsCohort, AnalyticsPartner, Prisma } from '../../prisma/generated/client/client.js';
import type { SubgraphContext } from '../kit/context.js';
import { badUserInput, forbidden, notFound, unauthenticated } from '../kit/errors.js';
import { isAuthenticated, Role, type AuthenticatedIdentity, type RoleName } from '../kit/identity.js';
import {
  billingFigures, cohortFigures, queueFigures, trainingActivity,
  type BillingFigures, type CohortFigures, type FlagFact, type QueueFigures, type SessionFacts, type SubScoreFact, type TrainingActivity,
} from './domain/figures.js';

/**
 * Analytics reads: cohort figures for partners and training staff, organization metrics for
 * dashboards and BI. Everything comes from the read models (projections.ts); access is
 * decided here, on the one path root fields and entity lookups share.
 */

type Ctx = Pick<SubgraphContext, 'prisma' | 'identity' | 'loaders'>;

/** Who reads cohort figures: the cohort's organization's training staff and BI, and its partner. */
export const COHORT_VIEWERS: readonly RoleName[] = [Role.ADMIN, Role.CLINICIAN, Role.BI, Role.PARTNER];
/** Who reads an organization's operational metrics. */
export const METRICS_VIEWERS: readonly RoleName[] = [Role.ADMIN, Role.BI];
const ORGANIZATION_COHORT_VIEWERS: readonly RoleName[] = [Role.ADMIN, Role.CLINICIAN, Role.BI];
/** A longer window is a job for an export, not a request. */
const MAX_RANGE_DAYS = 400;

export interface DateRange {
  from: Date | null;
  to: Date | null;
}

function requireIdentity(ctx: Ctx): AuthenticatedIdentity {
  if (!isAuthenticated(ctx.identity)) throw unauthenticated();
  return ctx.identity;
}

export function checkRange(range: DateRange): DateRange {
  if (range.from && range.to) {
    if (range.from >= range.to) throw badUserInput('from', 'must be before to');
    if (range.to.getTime() - range.from.getTime() > MAX_RANGE_DAYS * 86_400_000) throw badUserInput('to', `the range may span at most ${MAX_RANGE_DAYS} days`);
  }
  return range;
}

const startedIn = (range: DateRange): Prisma.DateTimeFilter => ({ ...(range.from ? { gte: range.from } : {}), ...(range.to ? { lt: range.to } : {}) });

/** The partner the caller acts for (a partner principal: user or API key), if any. */
async function callerPartner(ctx: Ctx, identity: AuthenticatedIdentity): Promise<AnalyticsPartner | null> {
  if (identity.role !== Role.PARTNER) return null;
  return ctx.loaders
    .get<string, AnalyticsPartner | null>('analyticsPartnerByPrincipal', async (principals) => {
      const rows = await ctx.prisma.analyticsPartner.findMany({ where: { principalId: { in: [...principals] } } });
      return principals.map((principal) => rows.find((row) => row.principalId === principal) ?? null);
    })
    .load(identity.subject);
}

async function canSeeCohort(ctx: Ctx, identity: AuthenticatedIdentity, cohort: AnalyticsCohort): Promise<boolean> {
  if (identity.role === Role.PARTNER) return (await callerPartner(ctx, identity))?.id === cohort.partnerId;
  return ORGANIZATION_COHORT_VIEWERS.includes(identity.role) && identity.organizationId === cohort.organizationId;
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
    ctx.prisma.analyticsEnrollment.groupBy({ by: ['cohortId'], where: { cohortId: { in: ids }, ...(range.to ? { enrolledAt: { lt: range.to } } : {}) }, _count: { _all: true } }),
    ctx.prisma.analyticsTrainingSession.findMany({
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
  const identity = requireIdentity(ctx);
  if (!COHORT_VIEWERS.includes(identity.role)) throw forbidden('You may not see cohort analytics');
  checkRange(range);
  const cohort = await ctx.loaders.byId('analyticsCohortById', (ids) => ctx.prisma.analyticsCohort.findMany({ where: { id: { in: ids } } })).load(cohortId);
  if (!cohort) throw notFound('Cohort');
  if (!(await canSeeCohort(ctx, identity, cohort))) throw forbidden('You may not see this cohort');
  const [figures] = await figuresFor(ctx, [cohort], range);
  return figures as CohortAnalytics;
}

/** Every cohort of an organization (staff and BI), or the caller's own partner's cohorts in it. */
export async function organizationCohortAnalytics(ctx: Ctx, organizationId: string, range: DateRange): Promise<CohortAnalytics[]> {
  const identity = requireIdentity(ctx);
  checkRange(range);
  let where: Prisma.AnalyticsCohortWhereInput;
  if (identity.role === Role.PARTNER) {
    const partner = await callerPartner(ctx, identity);
    if (!partner || partner.organizationId !== organizationId) throw forbidden('You may see only your own cohorts');
    where = { organizationId, partnerId: partner.id };
  } else {
    if (!ORGANIZATION_COHORT_VIEWERS.includes(identity.role) || identity.organizationId !== organizationId) throw forbidden('You may see only your organization’s cohorts');
    where = { organizationId };
  }
  const cohorts = await ctx.prisma.analyticsCohort.findMany({ where, orderBy: { id: 'asc' } });
  return figuresFor(ctx, cohorts, range);
}

export interface OrganizationMetrics {
  organizationId: string;
  from: Date;
  to: Date;
  nurseQueue: QueueFigures;
  training: TrainingActivity;
  billing: BillingFigures;
}

/** An organization's operations over [from, to): the nurse queue, training activity, money collected. */
export async function organizationMetrics(ctx: Ctx, organizationId: string, from: Date, to: Date): Promise<OrganizationMetrics> {
  const identity = requireIdentity(ctx);
  if (!METRICS_VIEWERS.includes(identity.role) || identity.organizationId !== organizationId) throw forbidden('You may see only your organization’s metrics');
  checkRange({ from, to });
  const window = { gte: from, lt: to };
  const [entries, started, completed, movements] = await Promise.all([
    ctx.prisma.analyticsQueueEntry.findMany({ where: { organizationId, createdAt: window } }),
    ctx.prisma.analyticsTrainingSession.findMany({ where: { organizationId, startedAt: window }, select: { learnerId: true } }),
    ctx.prisma.analyticsTrainingSession.findMany({ where: { organizationId, completedAt: window }, select: { learnerId: true, totalScore: true, flaggedErrors: true } }),
    ctx.prisma.analyticsMoneyMovement.findMany({ where: { organizationId, at: window }, select: { kind: true, amount: true, currency: true } }),
  ]);
  return {
    organizationId,
    from,
    to,
    nurseQueue: queueFigures(entries, new Date()),
    training: trainingActivity(started, completed.map((s) => ({ ...s, flaggedErrors: s.flaggedErrors as unknown as FlagFact[] }))),
    billing: billingFigures(movements),
  };
}
