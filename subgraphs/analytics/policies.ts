import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import { isAuthenticated, partnerActedFor, Role, type AuthenticatedIdentity, type RoleName } from '../kit/identity.js';

/**
 * Which analytics rows a request may read (kit/access.ts applies these to every query made
 * through `ctx.db`):
 *
 * - a cohort, its enrolments and its sessions: the cohort's partner (the principal a partner
 *   names), and admins, clinicians and BI of the cohort's organization;
 * - an organization's queue entries and money movements (and its sessions, for training
 *   activity): its admins and BI.
 *
 * Requests never change the read models: projections and the rebuild write them as system work
 * (the consumer's transaction), so every write through `ctx.db` matches nothing and no create
 * is allowed. Nothing here is PHI (ids, codes, counts, times and amounts; no patient identifiers,
 * learners are trainees), so the path audits nothing.
 */

/** Who reads cohort figures: the cohort's organization's training staff and BI, and its partner. */
export const COHORT_VIEWERS: readonly RoleName[] = [Role.ADMIN, Role.CLINICIAN, Role.BI, Role.PARTNER];
/** Who reads an organization's operational metrics. */
export const METRICS_VIEWERS: readonly RoleName[] = [Role.ADMIN, Role.BI];
/** Cohort viewers who see every cohort of their organization (a partner sees only its own). */
export const ORGANIZATION_COHORT_VIEWERS: readonly RoleName[] = [Role.ADMIN, Role.CLINICIAN, Role.BI];

/** The caller as the policies see it. */
type Viewer =
  | { kind: 'organization'; organizationId: string; metrics: boolean }
  | { kind: 'partner'; partnerIds: string[] }
  | { kind: 'none' };

/** The partners a partner caller acts for (kit's partnerActedFor), looked up once per request. */
const partnersActedFor = (scope: Scope, caller: AuthenticatedIdentity): Promise<string[]> =>
  scope.memo('analytics.partners', async () => (await scope.system.analyticsPartner.findMany({ where: partnerActedFor(caller), select: { id: true } })).map((p) => p.id));

async function viewerOf(scope: Scope): Promise<Viewer> {
  const caller = scope.identity;
  if (!isAuthenticated(caller)) return { kind: 'none' };
  if (caller.role === Role.PARTNER) return { kind: 'partner', partnerIds: await partnersActedFor(scope, caller) };
  if (!ORGANIZATION_COHORT_VIEWERS.includes(caller.role) || !caller.organizationId) return { kind: 'none' };
  return { kind: 'organization', organizationId: caller.organizationId, metrics: METRICS_VIEWERS.includes(caller.role) };
}

async function cohortsSeen(scope: Scope): Promise<WhereOf<'AnalyticsCohort'>> {
  const v = await viewerOf(scope);
  if (v.kind === 'organization') return { organizationId: v.organizationId };
  if (v.kind === 'partner') return { partnerId: { in: v.partnerIds } };
  return NOTHING;
}

/** The ids of the cohorts the caller sees: enrolments carry no organization or partner of their own. */
function cohortIdsSeen(scope: Scope): Promise<string[]> {
  return scope.memo('analytics.cohortIds', async () => (await scope.system.analyticsCohort.findMany({ where: await cohortsSeen(scope), select: { id: true } })).map((c) => c.id));
}

/** An organization's operational rows (queue entries, money): its admins and BI. */
async function metricsOrganization(scope: Scope): Promise<{ organizationId: string } | typeof NOTHING> {
  const v = await viewerOf(scope);
  return v.kind === 'organization' && v.metrics ? { organizationId: v.organizationId } : NOTHING;
}

const NO_ENROLLMENT: WhereOf<'AnalyticsEnrollment'> = { cohortId: { in: [] } };

export const analyticsPolicies: AccessPolicies = {
  AnalyticsPartner: {
    async read(scope) {
      const v = await viewerOf(scope);
      if (v.kind === 'partner') return { id: { in: v.partnerIds } };
      if (v.kind === 'organization') return { organizationId: v.organizationId };
      return NOTHING;
    },
    write: () => NOTHING,
  },
  AnalyticsCohort: { read: cohortsSeen, write: () => NOTHING },
  AnalyticsEnrollment: {
    read: async (scope) => ({ cohortId: { in: await cohortIdsSeen(scope) } }),
    write: () => NO_ENROLLMENT,
  },
  AnalyticsTrainingSession: {
    async read(scope) {
      const v = await viewerOf(scope);
      // A session's organization is its cohort's (the projection copies it from the cohort row).
      if (v.kind === 'organization') return { organizationId: v.organizationId };
      if (v.kind === 'partner') return { cohortId: { in: await cohortIdsSeen(scope) } };
      return NOTHING;
    },
    write: () => NOTHING,
  },
  AnalyticsQueueEntry: { read: metricsOrganization, write: () => NOTHING },
  AnalyticsMoneyMovement: { read: metricsOrganization, write: () => NOTHING },
  AnalyticsClaim: { read: metricsOrganization, write: () => NOTHING },
};
