import { hasRole, type IRules } from '../kit/shield.js';
import { COHORT_VIEWERS, METRICS_VIEWERS } from './policies.js';

/** Deny by default: cohort figures for their viewers, organization metrics for admins and BI. Which cohorts and organizations is policies.ts (applied by ctx.db) and service.ts (the organization asked for). */
const cohortViewers = hasRole(...COHORT_VIEWERS);
const metricsViewers = hasRole(...METRICS_VIEWERS);

export const analyticsPermissions: IRules = {
  Query: { cohortAnalytics: cohortViewers, organizationCohortAnalytics: cohortViewers, organizationMetrics: metricsViewers },
  Cohort: cohortViewers,
  CohortAnalytics: cohortViewers,
  ScoreBucket: cohortViewers,
  CaseAnalytics: cohortViewers,
  SubScoreMean: cohortViewers,
  FlaggedErrorFrequency: cohortViewers,
  OrganizationMetrics: metricsViewers,
  NurseQueueMetrics: metricsViewers,
  QueueUrgencyVolume: metricsViewers,
  QueueSourceVolume: metricsViewers,
  TrainingActivity: metricsViewers,
  BillingMetrics: metricsViewers,
  ClaimsMetrics: metricsViewers,
  MoneyTotal: metricsViewers,
};
