import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import { isAuthenticated, Role, type Identity, type RoleName } from '../kit/identity.js';

/**
 * Who may read and change devices' rows (kit/access.ts applies these through `ctx.db`). Nurses,
 * clinicians and administrators read their organization's results and assign unmatched ones; a
 * patient reads their own; device integrations only write, through their route (system work).
 * Messages as received and the identifier digests are system data: nobody reads them here.
 *
 * Audited (PHI): observations (a patient's results, and the name the lab sent).
 */
export const RESULT_READERS: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];

function staffOrganization(identity: Identity): string | null {
  return isAuthenticated(identity) && RESULT_READERS.includes(identity.role) && identity.organizationId ? identity.organizationId : null;
}

function visibleObservations(scope: Scope): WhereOf<'Observation'> {
  const organizationId = staffOrganization(scope.identity);
  if (organizationId) return { organizationId };
  const identity = scope.identity;
  // A patient sees their own results; unmatched ones belong to nobody yet.
  if (isAuthenticated(identity) && identity.role === Role.PATIENT && identity.patientId) return { patientId: identity.patientId };
  return NOTHING;
}

export const devicesPolicies: AccessPolicies = {
  Observation: {
    read: visibleObservations,
    write: (scope) => {
      const organizationId = staffOrganization(scope.identity);
      return organizationId ? { organizationId } : NOTHING;
    },
    audited: true,
  },
  Hl7Message: { read: () => NOTHING, write: () => NOTHING },
  // Keyed by patient, so "nothing" is no patient.
  PatientIdentifier: { read: () => ({ patientId: { in: [] } }), write: () => ({ patientId: { in: [] } }) },
};
