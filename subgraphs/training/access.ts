import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import type { SubgraphContext, SubgraphDeps } from '../kit/context.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, partnerActedFor, Role, type RoleName } from '../kit/identity.js';

/**
 * Who sees and changes which training rows. kit/access.ts applies these to every query a
 * request makes through `ctx.db`, so the services never check ownership by hand:
 *
 * - a learner: their own sessions (and turns, orders), the cohorts their token names, the
 *   cases assigned to those cohorts;
 * - a partner: an API key bound to the partner, or the principal (user or key) a Partner names
 *   as `principalId`: its partner's cohorts, learners and sessions, and its organization's
 *   cases (to assign them);
 * - organization staff (TRAINING_STAFF): their organization's cohorts, cases and sessions; an
 *   ADMIN may also delete its learner data (retention);
 * - BI: its organization's cohorts, to label figures: never sessions or learners.
 *
 * Child models follow their parent. Partners and cohorts are registered and changed by an admin
 * of their organization (onboarding.ts) or by seeds; learners and enrolments only by system
 * work (a verified launch or SSO token): no request creates them through `ctx.db`. Nothing here is PHI (synthetic cases, learners are trainees), so nothing is audited
 * by the path; retention's deletion is audited with its reason by the service.
 */

/** Staff who see and manage their organization's cohorts and cases. */
export const TRAINING_STAFF: readonly RoleName[] = [Role.ADMIN, Role.CLINICIAN];

/** What the services use of a request: `db` for every read and write; `prisma` only for system work (said where). */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'pubsub'> & Partial<Pick<SubgraphDeps, 'issueToken' | 'llm' | 'publicUrl' | 'background'>>;

/** The caller as the policies see it, computed once per request. */
type Viewer =
  | { kind: 'staff'; organizationId: string; admin: boolean }
  | { kind: 'bi'; organizationId: string }
  | { kind: 'partner'; partnerId: string; organizationId: string }
  | { kind: 'learner'; learnerId: string; cohortIds: string[] }
  | { kind: 'none' };

const NONE: Viewer = { kind: 'none' };
/** Matches no id: the organization of a caller who manages none. */
const NO_ID = { in: [] as string[] };

function viewerOf(scope: Scope): Promise<Viewer> {
  return scope.memo('training.viewer', async (): Promise<Viewer> => {
    const identity = scope.identity;
    if (!isAuthenticated(identity)) return NONE;
    if (TRAINING_STAFF.includes(identity.role)) return identity.organizationId ? { kind: 'staff', organizationId: identity.organizationId, admin: identity.role === Role.ADMIN } : NONE;
    if (identity.role === Role.BI) return identity.organizationId ? { kind: 'bi', organizationId: identity.organizationId } : NONE;
    if (identity.role === Role.LEARNER) return { kind: 'learner', learnerId: identity.subject, cohortIds: identity.cohortIds ?? [] };
    if (identity.role === Role.PARTNER) {
      const partner = await scope.system.partner.findFirst({ where: partnerActedFor(identity), select: { id: true, organizationId: true } });
      return partner ? { kind: 'partner', partnerId: partner.id, organizationId: partner.organizationId } : NONE;
    }
    return NONE;
  });
}

const staffOrganization = (v: Viewer): string | null => (v.kind === 'staff' ? v.organizationId : null);
const adminOrganization = (v: Viewer): string | null => (v.kind === 'staff' && v.admin ? v.organizationId : null);
/** Rows of the organization `organizationId`, or none when the caller manages none. */
const ofOrganization = (organizationId: string | null): { organizationId: string | typeof NO_ID } => ({ organizationId: organizationId ?? NO_ID });

function cohortsSeen(v: Viewer): WhereOf<'Cohort'> {
  switch (v.kind) {
    case 'staff':
    case 'bi':
      return { organizationId: v.organizationId };
    case 'partner':
      return { partnerId: v.partnerId };
    case 'learner':
      return { id: { in: v.cohortIds } };
    default:
      return NOTHING;
  }
}

/** Cohorts whose assignments the caller manages: staff of its organization, its partner. */
function cohortsManaged(v: Viewer): WhereOf<'Cohort'> {
  if (v.kind === 'staff') return { organizationId: v.organizationId };
  if (v.kind === 'partner') return { partnerId: v.partnerId };
  return NOTHING;
}

function sessionsSeen(v: Viewer): WhereOf<'CaseSession'> {
  switch (v.kind) {
    case 'learner':
      return { learnerId: v.learnerId };
    case 'staff':
      return { organizationId: v.organizationId };
    case 'partner':
      return { partnerId: v.partnerId };
    default:
      return NOTHING;
  }
}

/** Only the learner works a session; an admin of its organization deletes it (retention). */
function sessionsChanged(v: Viewer): WhereOf<'CaseSession'> {
  if (v.kind === 'learner') return { learnerId: v.learnerId };
  if (v.kind === 'staff' && v.admin) return { organizationId: v.organizationId };
  return NOTHING;
}

/** Cases assigned to the given cohorts, on their own or through a case set. */
const assignedTo = (cohortIds: string[]): WhereOf<'Case'> => ({
  OR: [
    { assignments: { some: { cohortId: { in: cohortIds } } } },
    { setItems: { some: { caseSet: { assignments: { some: { cohortId: { in: cohortIds } } } } } } },
  ],
});

function casesSeen(v: Viewer): WhereOf<'Case'> {
  switch (v.kind) {
    case 'staff':
    case 'partner':
      // A partner reads its organization's cases to assign them to its cohorts.
      return { organizationId: v.organizationId };
    case 'learner':
      return assignedTo(v.cohortIds);
    default:
      return NOTHING;
  }
}

function caseSetsSeen(v: Viewer): WhereOf<'CaseSet'> {
  switch (v.kind) {
    case 'staff':
    case 'partner':
      return { organizationId: v.organizationId };
    case 'learner':
      return { assignments: { some: { cohortId: { in: v.cohortIds } } } };
    default:
      return NOTHING;
  }
}

function learnersSeen(v: Viewer): WhereOf<'Learner'> {
  switch (v.kind) {
    case 'learner':
      return { id: v.learnerId };
    case 'staff':
      return { enrollments: { some: { cohort: { organizationId: v.organizationId } } } };
    case 'partner':
      return { partnerId: v.partnerId };
    default:
      return NOTHING;
  }
}

function enrollmentsSeen(v: Viewer): WhereOf<'Enrollment'> {
  switch (v.kind) {
    case 'learner':
      // The cohorts of the learner's token, as for cohorts themselves.
      return { learnerId: v.learnerId, cohortId: { in: v.cohortIds } };
    case 'staff':
      return { cohort: { organizationId: v.organizationId } };
    case 'partner':
      return { cohort: { partnerId: v.partnerId } };
    default:
      return NOTHING;
  }
}

const idIn = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Refuses a create unless `found` (a system lookup of what the row refers to) found it. */
async function requireFound(found: Promise<unknown>, message: string): Promise<void> {
  if (!(await found)) throw forbidden(message);
}

/** A create check: staff create rows of their own organization only. */
const inOwnOrganization = (what: string) => async (scope: Scope, data: Record<string, unknown>): Promise<void> => {
  const organizationId = staffOrganization(await viewerOf(scope));
  if (!organizationId || data['organizationId'] !== organizationId) throw forbidden(`Only organization staff author its ${what}`);
};

/** A create check: an admin creates rows of their own organization only. */
const inAdminsOrganization = (what: string) => async (scope: Scope, data: Record<string, unknown>): Promise<void> => {
  const organizationId = adminOrganization(await viewerOf(scope));
  if (!organizationId || data['organizationId'] !== organizationId) throw forbidden(`Only an admin of the organization registers its ${what}`);
};

async function managedCase(scope: Scope, caseId: unknown): Promise<void> {
  const organization = ofOrganization(staffOrganization(await viewerOf(scope)));
  await requireFound(scope.system.case.findFirst({ where: { id: idIn(caseId), ...organization }, select: { id: true } }), 'Only the organization’s staff change its cases');
}

export const trainingPolicies: AccessPolicies = {
  Partner: {
    async read(scope) {
      const v = await viewerOf(scope);
      if (v.kind === 'partner') return { id: v.partnerId };
      if (v.kind === 'staff') return { organizationId: v.organizationId };
      return NOTHING;
    },
    // Onboarded by an admin of the organization (onboarding.ts); seeds register them as system work.
    write: async (scope) => ofOrganization(adminOrganization(await viewerOf(scope))),
    create: inAdminsOrganization('partners'),
  },
  Cohort: {
    read: async (scope) => cohortsSeen(await viewerOf(scope)),
    write: async (scope) => ofOrganization(adminOrganization(await viewerOf(scope))),
    async create(scope, data) {
      await inAdminsOrganization('cohorts')(scope, data);
      // The partner named must be of the same organization.
      await requireFound(scope.system.partner.findFirst({ where: { id: idIn(data['partnerId']), organizationId: idIn(data['organizationId']) }, select: { id: true } }), 'That partner is not of your organization');
    },
  },
  Case: {
    read: async (scope) => casesSeen(await viewerOf(scope)),
    write: async (scope) => ofOrganization(staffOrganization(await viewerOf(scope))),
    create: inOwnOrganization('cases'),
  },
  CaseVersion: {
    read: async (scope) => ({ case: casesSeen(await viewerOf(scope)) }),
    write: async (scope) => ({ case: ofOrganization(staffOrganization(await viewerOf(scope))) }),
    create: (scope, data) => managedCase(scope, data['caseId']),
  },
  CaseSet: {
    read: async (scope) => caseSetsSeen(await viewerOf(scope)),
    write: async (scope) => ofOrganization(staffOrganization(await viewerOf(scope))),
    create: inOwnOrganization('case sets'),
  },
  CaseSetItem: {
    read: async (scope) => ({ caseSet: caseSetsSeen(await viewerOf(scope)) }),
    write: async (scope) => ({ caseSet: ofOrganization(staffOrganization(await viewerOf(scope))) }),
    async create(scope, data) {
      const organization = ofOrganization(staffOrganization(await viewerOf(scope)));
      await requireFound(scope.system.caseSet.findFirst({ where: { id: idIn(data['caseSetId']), ...organization }, select: { id: true } }), 'Only the organization’s staff change its case sets');
      await managedCase(scope, data['caseId']);
    },
  },
  CohortAssignment: {
    read: async (scope) => ({ cohort: cohortsSeen(await viewerOf(scope)) }),
    write: async (scope) => ({ cohort: cohortsManaged(await viewerOf(scope)) }),
    async create(scope, data) {
      // The cohort is the caller's to manage, and what it assigns is of the cohort's organization.
      const cohort = await scope.system.cohort.findFirst({ where: { AND: [{ id: idIn(data['cohortId']) }, cohortsManaged(await viewerOf(scope))] }, select: { organizationId: true } });
      if (!cohort) throw forbidden('You may not assign cases to this cohort');
      if (data['caseId']) await requireFound(scope.system.case.findFirst({ where: { id: idIn(data['caseId']), organizationId: cohort.organizationId }, select: { id: true } }), 'That case is not of the cohort’s organization');
      if (data['caseSetId']) await requireFound(scope.system.caseSet.findFirst({ where: { id: idIn(data['caseSetId']), organizationId: cohort.organizationId }, select: { id: true } }), 'That case set is not of the cohort’s organization');
    },
  },
  Learner: {
    read: async (scope) => learnersSeen(await viewerOf(scope)),
    // Retention deletes learners left without an enrolment, so not through their enrolments.
    write: async (scope) => ({ partner: ofOrganization(adminOrganization(await viewerOf(scope))) }),
  },
  Enrollment: {
    read: async (scope) => enrollmentsSeen(await viewerOf(scope)),
    write: async (scope) => ({ cohort: ofOrganization(adminOrganization(await viewerOf(scope))) }),
  },
  LtiPlatform: {
    read: async (scope) => ofOrganization(adminOrganization(await viewerOf(scope))),
    write: async (scope) => ofOrganization(adminOrganization(await viewerOf(scope))),
    create: inAdminsOrganization('LTI platforms'),
  },
  // Written only by the LTI login and launch (system work, the platform's signature the authority).
  LtiLogin: { read: () => ({ state: { in: [] } }) },
  LtiContext: { read: () => ({ platformId: { in: [] } }) },
  LtiScoreTarget: { read: () => ({ sessionId: { in: [] } }) },
  LaunchNonce: {
    // Written only by a verified launch (system work); no request reads them.
    read: () => ({ jti: { in: [] } }),
  },
  CaseSession: {
    read: async (scope) => sessionsSeen(await viewerOf(scope)),
    write: async (scope) => sessionsChanged(await viewerOf(scope)),
    async create(scope, data) {
      // A signed-in learner starts their own session, in a cohort of their token they are
      // enrolled in, under that cohort's organization and partner (launches are system work).
      const v = await viewerOf(scope);
      const cohortId = idIn(data['cohortId']);
      if (v.kind !== 'learner' || data['learnerId'] !== v.learnerId || !v.cohortIds.includes(cohortId)) throw forbidden('Only a learner starts their own sessions');
      const enrolled = await scope.system.enrollment.findFirst({ where: { learnerId: v.learnerId, cohortId }, select: { cohort: { select: { organizationId: true, partnerId: true } } } });
      if (!enrolled || enrolled.cohort.organizationId !== data['organizationId'] || enrolled.cohort.partnerId !== data['partnerId']) throw forbidden('You are not enrolled in that cohort');
    },
  },
  SessionTurn: {
    read: async (scope) => ({ session: sessionsSeen(await viewerOf(scope)) }),
    write: async (scope) => ({ session: sessionsChanged(await viewerOf(scope)) }),
    create: (scope, data) => ownSession(scope, data['sessionId']),
  },
  InvestigationOrder: {
    read: async (scope) => ({ session: sessionsSeen(await viewerOf(scope)) }),
    write: async (scope) => ({ session: sessionsChanged(await viewerOf(scope)) }),
    create: (scope, data) => ownSession(scope, data['sessionId']),
  },
};

/** A turn or an order is added by the session's learner only. */
async function ownSession(scope: Scope, sessionId: unknown): Promise<void> {
  const v = await viewerOf(scope);
  const learnerId = v.kind === 'learner' ? v.learnerId : NO_ID;
  await requireFound(scope.system.caseSession.findFirst({ where: { id: idIn(sessionId), learnerId }, select: { id: true } }), 'Only the learner working this session may do that');
}
