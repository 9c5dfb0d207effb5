import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { RESULT_READERS } from './policies.js';

/**
 * Nurses, clinicians and administrators of the organization read results and reconcile
 * unmatched ones; a patient reads their own. Device integrations post through `/hl7/v2` and
 * MLLP, not GraphQL. Nobody else (policies.ts decides whose rows are whose).
 */
const staff = hasRole(...RESULT_READERS);
const staffOrPatient = hasRole(Role.PATIENT, ...RESULT_READERS);

export const devicesPermissions: IRules = {
  Query: { observation: staffOrPatient, unmatchedResults: staff },
  Mutation: { assignResult: staff },
  Subscription: { observationAdded: staffOrPatient },
  // What the lab called the patient is for reconciliation by staff.
  Observation: { '*': staffOrPatient, sourcePatient: staff },
  SourcePatient: staff,
  Patient: staffOrPatient,
};
