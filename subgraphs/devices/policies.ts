import { NOTHING, type AccessPolicies, type Scope, type WhereOf } from '../kit/access.js';
import { forbidden } from '../kit/errors.js';
import { isAuthenticated, Role, type Identity, type RoleName } from '../kit/identity.js';

/**
 * Who may read and change devices' rows (kit/access.ts applies these through `ctx.db`). Nurses,
 * clinicians and administrators read their organization's results and assign unmatched ones; a
 * patient reads their own; device integrations only write, through their route (system work).
 * Messages as received and the identifier digests are system data: nobody reads them here.
 *
 * A patient manages their own wearable connections; staff of the organization see them. The
 * sync requests webhooks queue are system data.
 *
 * Audited (PHI): observations (a patient's results, and the name the lab sent), wearable connections.
 */
export const RESULT_READERS: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];

function staffOrganization(identity: Identity): string | null {
  return isAuthenticated(identity) && RESULT_READERS.includes(identity.role) && identity.organizationId ? identity.organizationId : null;
}

function ownPatient(identity: Identity): { patientId: string } | typeof NOTHING {
  return isAuthenticated(identity) && identity.role === Role.PATIENT && identity.patientId ? { patientId: identity.patientId } : NOTHING;
}

function visibleObservations(scope: Scope): WhereOf<'Observation'> {
  const organizationId = staffOrganization(scope.identity);
  // A patient sees their own results; unmatched ones belong to nobody yet.
  return organizationId ? { organizationId } : ownPatient(scope.identity);
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
  // A patient manages their own connections; staff of the organization see that they exist and how they sync.
  WearableConnection: {
    read: (scope) => {
      const organizationId = staffOrganization(scope.identity);
      return organizationId ? { organizationId } : ownPatient(scope.identity);
    },
    write: (scope) => ownPatient(scope.identity),
    create: (scope, data) => {
      const own = ownPatient(scope.identity);
      if (!('patientId' in own) || data['patientId'] !== own.patientId || !isAuthenticated(scope.identity) || data['organizationId'] !== scope.identity.organizationId) {
        throw forbidden('Patients connect their own wearables');
      }
    },
    audited: true,
  },
  WearableSyncRequest: { read: () => NOTHING, write: () => NOTHING },
  Hl7Message: { read: () => NOTHING, write: () => NOTHING },
  // Keyed by patient, so "nothing" is no patient.
  PatientIdentifier: { read: () => ({ patientId: { in: [] } }), write: () => ({ patientId: { in: [] } }) },
};
