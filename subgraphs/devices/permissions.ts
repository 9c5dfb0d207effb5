import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { RESULT_READERS } from './policies.js';

/**
 * Nurses, clinicians and administrators of the organization read results and reconcile
 * unmatched ones; a patient reads their own and manages their wearables, which staff see. Device integrations post through `/hl7/v2` and
 * MLLP, not GraphQL. Nobody else (policies.ts decides whose rows are whose).
 */
const staff = hasRole(...RESULT_READERS);
const staffOrPatient = hasRole(Role.PATIENT, ...RESULT_READERS);
const patient = hasRole(Role.PATIENT);

export const devicesPermissions: IRules = {
  Query: { observation: staffOrPatient, unmatchedResults: staff },
  // Patients manage their own wearables (the services check it is their own).
  Mutation: { assignResult: staff, connectWearable: patient, completeWearableConnection: patient, syncWearable: patient, disconnectWearable: patient },
  Subscription: { observationAdded: staffOrPatient },
  // What the lab called the patient is for reconciliation by staff.
  Observation: { '*': staffOrPatient, sourcePatient: staff },
  SourcePatient: staff,
  WearableConnection: staffOrPatient,
  WearableAuthorization: patient,
  Patient: staffOrPatient,
  // Telemedicine's consultation, extended with the patient's readings around it.
  Consultation: staffOrPatient,
};
