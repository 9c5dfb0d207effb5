import type { Prisma } from '../../prisma/generated/client/client.js';
import { NOTHING, type AccessPolicies } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, requireStaffOf, type Identity, type RoleName } from '../kit/identity.js';
import { DASHBOARD_VIEWERS, QUEUE_STAFF } from './service.js';

/** The caller's organization's queue, for callers in one of `roles`; nothing for anyone else. */
function queueOf(identity: Identity, roles: readonly RoleName[]): Prisma.QueueEntryWhereInput {
  return isAuthenticated(identity) && roles.includes(identity.role) && identity.organizationId ? { organizationId: identity.organizationId } : NOTHING;
}

/**
 * Nurses and clinicians read and work their organization's queue. Admins read it too, for the
 * dashboard's figures only (the shield and the service keep them from the entries themselves).
 * Entries name a patient and red-flag codes: PHI, audited.
 */
export const nursePolicies: AccessPolicies = {
  QueueEntry: {
    audited: true,
    read: (scope) => queueOf(scope.identity, DASHBOARD_VIEWERS),
    write: (scope) => queueOf(scope.identity, QUEUE_STAFF),
    create: (scope, data) => {
      const caller = requireStaffOf(scope.identity, QUEUE_STAFF, 'Only nurses and clinicians add to the queue');
      if (data['organizationId'] !== caller.organizationId) throw forbidden('You may add only to your organization’s queue');
    },
  },
  NurseAction: {
    read: (scope) => ({ entry: queueOf(scope.identity, DASHBOARD_VIEWERS) }),
    // What nurses did, as it happened: written only with its entry's change (nested in the
    // entry's guarded update), never edited and never created on its own.
    write: () => NOTHING,
  },
};
