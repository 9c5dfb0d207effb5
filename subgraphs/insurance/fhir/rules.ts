/**
 * The FHIR R4 (4.0.1) rules checked at CareGraph's boundary, for the resources the payer
 * adapters exchange and the samples they are tested with: elements a resource must have
 * (cardinality 1..1 or 1..*), and codes bound with binding strength "required" — a value
 * outside those value sets is not R4, whatever the sender meant.
 */

const FINANCIAL_STATUS = ['active', 'cancelled', 'draft', 'entered-in-error'];
const CLAIM_USE = ['claim', 'preauthorization', 'predetermination'];
const OUTCOME = ['queued', 'complete', 'error', 'partial'];
const ELIGIBILITY_PURPOSE = ['auth-requirements', 'benefits', 'discovery', 'validation'];
const GENDER = ['male', 'female', 'other', 'unknown'];

export interface ResourceRules {
  /** Elements that must be present (arrays must be non-empty). */
  required: string[];
  /** Element → the codes its required binding allows (arrays: every item). */
  codes: Record<string, string[]>;
}

export const RESOURCE_RULES: Record<string, ResourceRules> = {
  Claim: {
    required: ['status', 'type', 'use', 'patient', 'created', 'provider', 'priority', 'insurance'],
    codes: { status: FINANCIAL_STATUS, use: CLAIM_USE },
  },
  ClaimResponse: {
    required: ['status', 'type', 'use', 'patient', 'created', 'insurer', 'outcome'],
    codes: { status: FINANCIAL_STATUS, use: CLAIM_USE, outcome: OUTCOME },
  },
  CoverageEligibilityRequest: {
    required: ['status', 'purpose', 'patient', 'created', 'insurer'],
    codes: { status: FINANCIAL_STATUS, purpose: ELIGIBILITY_PURPOSE },
  },
  CoverageEligibilityResponse: {
    required: ['status', 'purpose', 'patient', 'created', 'request', 'outcome', 'insurer'],
    codes: { status: FINANCIAL_STATUS, purpose: ELIGIBILITY_PURPOSE, outcome: OUTCOME },
  },
  Coverage: {
    required: ['status', 'beneficiary', 'payor'],
    codes: { status: FINANCIAL_STATUS },
  },
  ExplanationOfBenefit: {
    required: ['status', 'type', 'use', 'patient', 'created', 'insurer', 'provider', 'outcome', 'insurance'],
    codes: { status: ['active', 'cancelled', 'draft', 'entered-in-error'], use: CLAIM_USE, outcome: OUTCOME },
  },
  Patient: { required: [], codes: { gender: GENDER } },
  Practitioner: { required: [], codes: { gender: GENDER } },
  Organization: { required: [], codes: {} },
  Observation: {
    required: ['status', 'code'],
    codes: { status: ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'] },
  },
  MedicationRequest: {
    required: ['status', 'intent', 'subject'],
    codes: {
      status: ['active', 'on-hold', 'cancelled', 'completed', 'entered-in-error', 'stopped', 'draft', 'unknown'],
      intent: ['proposal', 'plan', 'order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'option'],
    },
  },
  Medication: { required: [], codes: { status: ['active', 'inactive', 'entered-in-error'] } },
  Provenance: { required: ['target', 'recorded', 'agent'], codes: {} },
  Appointment: {
    required: ['status', 'participant'],
    codes: { status: ['proposed', 'pending', 'booked', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error', 'checked-in', 'waitlist'] },
  },
  DocumentReference: {
    required: ['status', 'content'],
    codes: { status: ['current', 'superseded', 'entered-in-error'] },
  },
  Bundle: {
    required: ['type'],
    codes: { type: ['document', 'message', 'transaction', 'transaction-response', 'batch', 'batch-response', 'history', 'searchset', 'collection'] },
  },
};

/** ISO 4217, the required binding of Money.currency (from the runtime's ICU data). */
export const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** Quantity.comparator's required codes. */
export const COMPARATORS: ReadonlySet<string> = new Set(['<', '<=', '>=', '>']);
