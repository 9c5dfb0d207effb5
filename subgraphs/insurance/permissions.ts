import { Role } from '../kit/identity.js';
import { hasRole, type IRules } from '../kit/shield.js';
import { INSURANCE_STAFF } from './policies.js';

/**
 * Billing staff and administrators check cover and manage coverages for their organization;
 * a patient sees their own coverage, claims (with their appeals and documents) and
 * authorizations. Nobody else (policies.ts decides whose rows are whose).
 */
const staff = hasRole(...INSURANCE_STAFF);
const staffOrPatient = hasRole(Role.PATIENT, ...INSURANCE_STAFF);

export const insurancePermissions: IRules = {
  Query: { payers: staffOrPatient, coverage: staffOrPatient, checkEligibility: staff, claim: staffOrPatient, claims: staff, claimStatus: staff, priorAuthorization: staffOrPatient, providerNetwork: staffOrPatient },
  Mutation: {
    addCoverage: staff, requestPreAuthorization: staff, createClaim: staff, submitClaim: staff, submitClaimBatch: staff,
    correctClaim: staff, appealClaim: staff, sendAppeal: staff, recordAppealDecision: staff, closeClaim: staff, uploadSupportingDocument: staff, attachClaimDocuments: staff,
  },
  PriorAuthorization: staffOrPatient,
  ServiceEstimate: staffOrPatient,
  // The payer's wire format of a claim is billing staff's working material.
  Claim: { '*': staffOrPatient, fhirBundle: staff },
  ClaimLine: staffOrPatient,
  ClaimTransition: staffOrPatient,
  ClaimAppeal: staffOrPatient,
  AppealOutcome: staff,
  AppealDeliveryError: staff,
  SupportingDocument: staffOrPatient,
  InstitutionalDetails: staffOrPatient,
  Admission: staffOrPatient,
  AttendingProvider: staffOrPatient,
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
