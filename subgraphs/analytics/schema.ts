import type { GraphQLSchema } from 'graphql';
import { createBuilder, optionalPeriodArgs, organizationPeriodArgs, toSubgraphSchema } from '../kit/builder.js';
import type { CaseFigures, FlaggedErrorFigures, MoneyTotal, ScoreBucket, SubScoreFigures } from './domain/figures.js';
import * as analytics from './service.js';

/** The analytics subgraph's types. Resolvers translate; figures and rules live in service.ts. */
export function buildAnalyticsSchema(): GraphQLSchema {
  const builder = createBuilder({ mutations: false });

  const ScoreBucketRef = builder.objectRef<ScoreBucket>('ScoreBucket').implement({
    description: 'Completed sessions whose total score lies in [min, max].',
    fields: (t) => ({ min: t.exposeInt('min'), max: t.exposeInt('max'), sessions: t.exposeInt('sessions') }),
  });
  const CaseAnalyticsRef = builder.objectRef<CaseFigures>('CaseAnalytics').implement({
    fields: (t) => ({
      caseId: t.exposeID('caseId'),
      attempts: t.exposeInt('attempts', { description: 'Sessions started on the case.' }),
      completed: t.exposeInt('completed'),
      meanTotalScore: t.exposeFloat('meanTotalScore', { nullable: true }),
    }),
  });
  const SubScoreMeanRef = builder.objectRef<SubScoreFigures>('SubScoreMean').implement({
    fields: (t) => ({
      section: t.exposeString('section'),
      meanScore: t.exposeFloat('meanScore', { nullable: true }),
      sessions: t.exposeInt('sessions', { description: 'Completed sessions that scored this section.' }),
    }),
  });
  // The same enum as training's, so a client reads severities alike from both subgraphs.
  const SeverityEnum = builder.enumType('ErrorSeverity', { values: ['SAFETY', 'CRITICAL', 'MINOR'] as const });
  const severityOf = (severity: string): 'SAFETY' | 'CRITICAL' | 'MINOR' => {
    const upper = severity.toUpperCase();
    if (upper === 'SAFETY' || upper === 'CRITICAL' || upper === 'MINOR') return upper;
    throw new Error(`unknown error severity ${severity}`);
  };
  const FlaggedErrorFrequencyRef = builder.objectRef<FlaggedErrorFigures>('FlaggedErrorFrequency').implement({
    fields: (t) => ({
      code: t.exposeString('code'),
      severity: t.field({ type: SeverityEnum, resolve: (f) => severityOf(f.severity) }),
      sessions: t.exposeInt('sessions', { description: 'Completed sessions flagged with it.' }),
      rate: t.exposeFloat('rate', { description: 'Share of completed sessions flagged with it.' }),
    }),
  });

  // Owned by training; analytics adds its figures to it and the gateway joins the rest.
  const CohortRef = builder.externalRef('Cohort', builder.selection<{ id: string }>('id'));

  const CohortAnalyticsRef = builder.objectRef<analytics.CohortAnalytics>('CohortAnalytics').implement({
    description: 'A cohort’s training figures. A session counts in a range when it started in it; scores are those of completed sessions.',
    fields: (t) => ({
      cohortId: t.exposeID('cohortId'),
      cohort: t.field({ type: CohortRef, resolve: (a) => ({ id: a.cohortId }) }),
      from: t.expose('from', { type: 'DateTime', nullable: true }),
      to: t.expose('to', { type: 'DateTime', nullable: true }),
      enrolled: t.exposeInt('enrolled', { description: 'Learners enrolled by the end of the range.' }),
      started: t.exposeInt('started', { description: 'Learners with at least one session in the range.' }),
      completed: t.exposeInt('completed', { description: 'Learners with at least one completed session in the range.' }),
      completionRate: t.exposeFloat('completionRate', { nullable: true, description: 'completed / enrolled; null with nobody enrolled.' }),
      sessionsStarted: t.exposeInt('sessionsStarted'),
      sessionsCompleted: t.exposeInt('sessionsCompleted'),
      meanTotalScore: t.exposeFloat('meanTotalScore', { nullable: true }),
      medianTotalScore: t.exposeFloat('medianTotalScore', { nullable: true }),
      scoreDistribution: t.field({ type: [ScoreBucketRef], description: 'Ten buckets: 0–9, 10–19, …, 90–100.', resolve: (a) => a.scoreDistribution }),
      cases: t.field({ type: [CaseAnalyticsRef], description: 'Per case, most attempted first.', resolve: (a) => a.cases }),
      subScores: t.field({ type: [SubScoreMeanRef], resolve: (a) => a.subScores }),
      flaggedErrors: t.field({
        type: [FlaggedErrorFrequencyRef],
        description: 'The most frequent flagged errors: safety first, then critical, then minor.',
        args: { limit: t.arg.int({ required: false, defaultValue: 10 }) },
        resolve: (a, args) => a.flaggedErrors.slice(0, Math.max(0, Math.min(100, args.limit ?? 10))),
      }),
    }),
  });

  const rangeArgs = optionalPeriodArgs(builder);

  CohortRef.implement({
    externalFields: (t) => ({ id: t.id() }),
    fields: (t) => ({
      analytics: t.field({
        type: CohortAnalyticsRef,
        args: rangeArgs,
        resolve: (cohort, args, ctx) => analytics.cohortAnalytics(ctx, cohort.id, { from: args.from ?? null, to: args.to ?? null }),
      }),
    }),
  });

  const MoneyTotalRef = builder.objectRef<MoneyTotal>('MoneyTotal').implement({
    fields: (t) => ({ currency: t.exposeString('currency'), amount: t.exposeInt('amount', { description: 'Minor units (cents, kobo, paise).' }) }),
  });
  const UrgencyVolumeRef = builder.objectRef<{ urgency: string; entries: number }>('QueueUrgencyVolume').implement({
    fields: (t) => ({ urgency: t.exposeString('urgency'), entries: t.exposeInt('entries') }),
  });
  const SourceVolumeRef = builder.objectRef<{ source: string; entries: number }>('QueueSourceVolume').implement({
    fields: (t) => ({ source: t.exposeString('source'), entries: t.exposeInt('entries') }),
  });
  const QueueMetricsRef = builder.objectRef<analytics.OrganizationMetrics['nurseQueue']>('NurseQueueMetrics').implement({
    description: 'Queue entries created in the window.',
    fields: (t) => ({
      entries: t.exposeInt('entries'),
      byUrgency: t.field({ type: [UrgencyVolumeRef], description: 'By the urgency they arrived with.', resolve: (q) => q.byUrgency }),
      bySource: t.field({ type: [SourceVolumeRef], resolve: (q) => q.bySource }),
      pickedUp: t.exposeInt('pickedUp', { description: 'Entries a nurse has acted on.' }),
      closed: t.exposeInt('closed', { description: 'Approved, overridden or resolved.' }),
      escalated: t.exposeInt('escalated'),
      stillOpen: t.exposeInt('stillOpen'),
      medianWaitSeconds: t.exposeInt('medianWaitSeconds', { nullable: true, description: 'Arrival to first nurse action, over entries picked up.' }),
      p90WaitSeconds: t.exposeInt('p90WaitSeconds', { nullable: true }),
      slaBreaches: t.exposeInt('slaBreaches', { description: 'First action after the SLA due time, or none yet and past it. The due time is the entry’s current one (an urgency change moves it), as the nurse dashboard counts.' }),
      slaBreachRate: t.exposeFloat('slaBreachRate', { nullable: true }),
    }),
  });
  const TrainingActivityRef = builder.objectRef<analytics.OrganizationMetrics['training']>('TrainingActivity').implement({
    fields: (t) => ({
      sessionsStarted: t.exposeInt('sessionsStarted'),
      sessionsCompleted: t.exposeInt('sessionsCompleted'),
      activeLearners: t.exposeInt('activeLearners'),
      meanTotalScore: t.exposeFloat('meanTotalScore', { nullable: true, description: 'Of sessions completed in the window.' }),
      sessionsWithSafetyErrors: t.exposeInt('sessionsWithSafetyErrors'),
    }),
  });
  const BillingMetricsRef = builder.objectRef<analytics.OrganizationMetrics['billing']>('BillingMetrics').implement({
    fields: (t) => ({
      paymentsSucceeded: t.exposeInt('paymentsSucceeded'),
      collected: t.field({ type: [MoneyTotalRef], resolve: (b) => b.collected }),
      refundsIssued: t.exposeInt('refundsIssued'),
      refunded: t.field({ type: [MoneyTotalRef], resolve: (b) => b.refunded }),
      net: t.field({ type: [MoneyTotalRef], description: 'Collected less refunded, per currency.', resolve: (b) => b.net }),
    }),
  });
  const ClaimsMetricsRef = builder.objectRef<analytics.OrganizationMetrics['claims']>('ClaimsMetrics').implement({
    fields: (t) => ({
      submitted: t.exposeInt('submitted', { description: 'Claims sent to payers in the window.' }),
      approved: t.exposeInt('approved', { description: 'Adjudicated in the window, approved in full or in part.' }),
      denied: t.exposeInt('denied'),
      denialRate: t.exposeFloat('denialRate', { nullable: true, description: 'Denied over adjudicated in the window.' }),
      paid: t.exposeInt('paid'),
      meanDaysToPayment: t.exposeFloat('meanDaysToPayment', { nullable: true, description: 'From sending to payment, over claims paid in the window.' }),
    }),
  });
  const OrganizationMetricsRef = builder.objectRef<analytics.OrganizationMetrics>('OrganizationMetrics').implement({
    fields: (t) => ({
      organizationId: t.exposeID('organizationId'),
      from: t.expose('from', { type: 'DateTime' }),
      to: t.expose('to', { type: 'DateTime' }),
      nurseQueue: t.field({ type: QueueMetricsRef, resolve: (m) => m.nurseQueue }),
      training: t.field({ type: TrainingActivityRef, resolve: (m) => m.training }),
      billing: t.field({ type: BillingMetricsRef, resolve: (m) => m.billing }),
      claims: t.field({ type: ClaimsMetricsRef, description: 'Insurance claims: sent, adjudicated, paid.', resolve: (m) => m.claims }),
    }),
  });

  builder.queryFields((t) => ({
    cohortAnalytics: t.field({
      type: CohortAnalyticsRef,
      description: 'A cohort’s training figures: its organization’s staff and BI, or its partner.',
      args: { cohortId: t.arg.id({ required: true }), ...rangeArgs },
      resolve: (_root, args, ctx) => analytics.cohortAnalytics(ctx, String(args.cohortId), { from: args.from ?? null, to: args.to ?? null }),
    }),
    organizationCohortAnalytics: t.field({
      type: [CohortAnalyticsRef],
      description: 'Every cohort of the organization (a partner: its own cohorts), one row each for BI.',
      args: { organizationId: t.arg.id({ required: true }), ...rangeArgs },
      resolve: (_root, args, ctx) => analytics.organizationCohortAnalytics(ctx, String(args.organizationId), { from: args.from ?? null, to: args.to ?? null }),
    }),
    organizationMetrics: t.field({
      type: OrganizationMetricsRef,
      description: 'The organization’s operations over [from, to): nurse queue, training activity, billing.',
      args: organizationPeriodArgs(builder),
      resolve: (_root, args, ctx) => analytics.organizationMetrics(ctx, String(args.organizationId), args.from, args.to),
    }),
  }));

  return toSubgraphSchema(builder);
}
