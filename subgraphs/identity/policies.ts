import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, Role, type Identity, type RoleName } from '../kit/identity.js';

/**
 * Who may read and change identity's rows (kit/access.ts applies these to every query a request
 * makes through `ctx.db`). Organizations are the tenancy boundary: staff work in their
 * organization and, for a chain, the clinics under it; a patient sees only their own record;
 * API keys and webhooks are their organization's admins' business. Provisioning users (OIDC
 * sign-in), resolving credentials for the gateway and seeding are system work on the process's
 * client and never come through here.
 *
 * Audited (PHI): patients. Every other model here describes staff, keys and plumbing.
 */

/** Roles that work inside an organization and may see its patients (and its people). */
export const CLINICAL_STAFF: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.PHARMACIST, Role.BILLING, Role.ADMIN];
/** Roles that may register patients and correct their records. */
export const PATIENT_EDITORS: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];
/** Who administers an organization's users, API keys and webhooks. */
export const ADMINS: readonly RoleName[] = [Role.ADMIN];
/** Who follows the messages sent to a patient (besides the patient). */
export const NOTIFICATION_READERS: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];

/** The caller's organization and, for a chain, the organizations under it (once per request). */
export function accessibleOrganizations(scope: Scope): Promise<string[]> {
  const identity = scope.identity;
  if (!isAuthenticated(identity) || !identity.organizationId) return Promise.resolve([]);
  const own = identity.organizationId;
  return scope.memo('identity:accessibleOrganizations', async () => {
    const children = await scope.system.organization.findMany({ where: { parentId: own }, select: { id: true } });
    return [own, ...children.map((child) => child.id)];
  });
}

const hasRole = (identity: Identity, roles: readonly RoleName[]): boolean => isAuthenticated(identity) && roles.includes(identity.role);

/** The organization the caller administers, or null. */
function administeredOrganization(identity: Identity): string | null {
  return isAuthenticated(identity) && ADMINS.includes(identity.role) && identity.organizationId ? identity.organizationId : null;
}

/** Patients of the caller's organizations, for staff in `roles`; a patient's own record. */
async function patientsFor(scope: Scope, roles: readonly RoleName[]): Promise<WhereOf<'Patient'>> {
  const identity = scope.identity;
  if (!isAuthenticated(identity)) return NOTHING;
  if (identity.role === Role.PATIENT) return identity.patientId ? { id: identity.patientId } : NOTHING;
  if (!roles.includes(identity.role)) return NOTHING;
  return { organizationId: { in: await accessibleOrganizations(scope) } };
}

/** Oneself, and for staff the people who share one of their organizations (who claimed, who acted). */
async function visibleUsers(scope: Scope): Promise<WhereOf<'User'>> {
  const identity = scope.identity;
  if (!isAuthenticated(identity)) return NOTHING;
  const clauses: Array<WhereOf<'User'>> = [];
  if (identity.kind === 'user') clauses.push({ id: identity.subject });
  if (CLINICAL_STAFF.includes(identity.role)) clauses.push({ memberships: { some: { organizationId: { in: await accessibleOrganizations(scope) } } } });
  return clauses.length > 0 ? { OR: clauses } : NOTHING;
}

/** Rows that belong to the organization the caller administers. */
function administered(scope: Scope): { organizationId: string } | typeof NOTHING {
  const organizationId = administeredOrganization(scope.identity);
  return organizationId ? { organizationId } : NOTHING;
}

function requireAdministered(scope: Scope, data: Record<string, unknown>, what: string): void {
  const organizationId = administeredOrganization(scope.identity);
  if (!organizationId || data['organizationId'] !== organizationId) throw forbidden(`Only an organization admin may create ${what} for their organization`);
}

export const identityPolicies: AccessPolicies = {
  Organization: {
    // One's own organization, the clinics under it (a chain) and the chain above it.
    async read(scope) {
      const identity = scope.identity;
      if (!isAuthenticated(identity) || !identity.organizationId) return NOTHING;
      return { OR: [{ id: { in: await accessibleOrganizations(scope) } }, { children: { some: { id: identity.organizationId } } }] };
    },
    write: () => NOTHING,
  },
  User: {
    read: visibleUsers,
    // Admins manage (deactivate) the members of their own organization.
    write: (scope) => {
      const organizationId = administeredOrganization(scope.identity);
      return organizationId ? { memberships: { some: { organizationId } } } : NOTHING;
    },
  },
  Membership: {
    read: async (scope) => ({ user: await visibleUsers(scope) }),
    write: () => NOTHING,
  },
  ExternalIdentity: {
    read: (scope) => (isAuthenticated(scope.identity) && scope.identity.kind === 'user' ? { userId: scope.identity.subject } : NOTHING),
    write: () => NOTHING,
  },
  Patient: {
    read: (scope) => patientsFor(scope, CLINICAL_STAFF),
    // A patient changes their own record (which fields: service); editors their organizations' patients.
    write: (scope) => patientsFor(scope, PATIENT_EDITORS),
    async create(scope, data) {
      const organizationId = data['organizationId'];
      const allowed = hasRole(scope.identity, PATIENT_EDITORS) && typeof organizationId === 'string' && (await accessibleOrganizations(scope)).includes(organizationId);
      if (!allowed) throw forbidden('You may not register patients in that organization');
    },
    audited: true,
  },
  Practitioner: {
    read: async (scope) => (hasRole(scope.identity, CLINICAL_STAFF) ? { organizationId: { in: await accessibleOrganizations(scope) } } : NOTHING),
    write: () => NOTHING,
  },
  ApiKey: {
    read: administered,
    create: (scope, data) => requireAdministered(scope, data, 'API keys'),
  },
  WebhookEndpoint: {
    read: administered,
    create: (scope, data) => requireAdministered(scope, data, 'webhook endpoints'),
  },
  // Messages to patients (notifications.ts): written by the system; the patient reads their own, nurses, clinicians and admins their organizations' patients'.
  Notification: {
    async read(scope) {
      const identity = scope.identity;
      if (!isAuthenticated(identity)) return NOTHING;
      if (identity.role === Role.PATIENT) return identity.patientId ? { patientId: identity.patientId } : NOTHING;
      return NOTIFICATION_READERS.includes(identity.role) ? { organizationId: { in: await accessibleOrganizations(scope) } } : NOTHING;
    },
    write: () => NOTHING,
    audited: true,
  },
  NotificationTemplate: {
    read: administered,
    write: administered,
    create: (scope, data) => requireAdministered(scope, data, 'message templates'),
  },
  NotificationOptOut: { read: () => ({ addressDigest: { in: [] } }), write: () => ({ addressDigest: { in: [] } }) },
  // Created by the outbox relay (system work); admins read and replay their endpoints' deliveries.
  WebhookDelivery: {
    read: (scope) => {
      const organizationId = administeredOrganization(scope.identity);
      return organizationId ? { endpoint: { organizationId } } : NOTHING;
    },
  },
};
