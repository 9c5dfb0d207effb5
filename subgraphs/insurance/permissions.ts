import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { INSURANCE_STAFF } from './policies.js';

/**
 * Billing staff and administrators check cover and manage coverages for their organization;
 * a patient sees their own coverage. Nobody else (policies.ts decides whose rows are whose).
 */
const staff = hasRole(...INSURANCE_STAFF);
const staffOrPatient = hasRole(Role.PATIENT, ...INSURANCE_STAFF);

export const insurancePermissions: IRules = {
  Query: { payers: staffOrPatient, coverage: staffOrPatient, checkEligibility: staff, claim: staffOrPatient, claims: staff, claimStatus: staff, priorAuthorization: staffOrPatient, providerNetwork: staffOrPatient },
  Mutation: { addCoverage: staff, requestPreAuthorization: staff, createClaim: staff, submitClaim: staff, submitClaimBatch: staff },
  PriorAuthorization: staffOrPatient,
  ServiceEstimate: staffOrPatient,
  Claim: staffOrPatient,
  ClaimLine: staffOrPatient,
  ClaimTransition: staffOrPatient,
  ClaimBatchResult: staff,
  ClaimStatusAnswer: staff,
  ProviderNetwork: staffOrPatient,
  NetworkProvider: staffOrPatient,
  ClaimSubmissionFailure: staff,
  Payer: staffOrPatient,
  Coverage: staffOrPatient,
  Subscriber: staffOrPatient,
  Eligibility: staffOrPatient,
  EligibilityBenefit: staffOrPatient,
  Patient: staffOrPatient,
};
