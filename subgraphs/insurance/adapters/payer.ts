import {
  BrokenCircuitError, ConsecutiveBreaker, ExponentialBackoff, TaskCancelledError, TimeoutStrategy, circuitBreaker, handleWhen, retry, timeout, wrap, type IPolicy,
} from 'cockatiel';
import type { InsuranceSettings } from '../../kit/config.js';
import { DomainError, ErrorCode } from '../../kit/errors.js';

/**
 * One interface for every payer, whatever it speaks: FHIR R4 (fhir.ts), ASC X12 5010 over
 * HTTP (x12.ts) or a private JSON API described by a mapping (rest.ts). Each call goes
 * through the payer's resilience policy: a timeout per attempt, retries with exponential
 * backoff for calls that are safe to repeat, and a circuit breaker per payer, so a payer that
 * is down fails fast instead of holding every request. Whatever goes wrong ends as one precise
 * error, PAYER_UNAVAILABLE, naming the payer and why (never the payer's own error text, which
 * may carry member data).
 */
export type PayerProtocol = PayerEndpoint['protocol'];

/**
 * Where and how a payer is reached (kit/config.ts InsuranceSettings, which documents each
 * field): from configuration, never stored with the payer or shown in the API.
 */
export type PayerEndpoint = InsuranceSettings['payers'][string];
/** How a REST payer's private API names things (rest.ts). */
export type RestMapping = NonNullable<PayerEndpoint['mapping']>;

export interface Member {
  memberId: string;
  lastName: string;
  firstName: string;
  /** YYYY-MM-DD. */
  birthDate: string | null;
}

export interface EligibilityRequest {
  payer: { code: string; name: string };
  provider: { name: string; npi: string };
  member: Member;
  /** X12 service type code (30 health benefit plan coverage, 98 professional visit, 48 hospital inpatient…). */
  serviceType: string;
  /** Our reference for this inquiry, echoed by payers that support it. */
  trace: string;
}

export interface Benefit {
  /** X12 EB01 vocabulary for every protocol: 1 active, 6 inactive, A co-insurance, B co-payment, C deductible, F limitation… */
  code: string;
  serviceTypes: string[];
  /** Minor units (kobo, cents). */
  amount: number | null;
  /** Percent, as a decimal string ("20"). */
  percent: string | null;
  inNetwork: boolean | null;
  description: string | null;
}

export interface EligibilityAnswer {
  inForce: boolean;
  planName: string | null;
  currency: string;
  /** Minor units. */
  copay: number | null;
  coinsurancePercent: string | null;
  /** Minor units. */
  deductibleRemaining: number | null;
  benefits: Benefit[];
  /** Why the payer could not confirm cover (member not found, invalid id…). */
  rejection: string | null;
}

/** What an institutional claim adds (837I, FHIR Claim type institutional). */
export interface InstitutionalDetails {
  /** Facility type code, the first two digits of the bill type (11 hospital inpatient, 13 hospital outpatient…). */
  facilityType: string;
  /** Inpatient stays: admitted when (YYYY-MM-DDTHH:MM), and the admission type (1 emergency, 2 urgent, 3 elective) and source codes. */
  admission: { at: string; type: string; source: string } | null;
  /** Patient status at the end of the claim (01 discharged home, 30 still a patient…). */
  dischargeStatus: string;
  attending: { lastName: string; firstName: string; npi: string };
}

/**
 * A supporting document as it leaves: its content inline (base64) or where the payer can
 * fetch it. X12 payers get only its control number (PWK); the content is kept for their request.
 */
export interface DocumentToSend {
  id: string;
  title: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Base64, or null when the document is a reference to a URL. */
  data: string | null;
  url: string | null;
}

export interface ClaimToSubmit {
  /** Our claim id: CLM01 / Claim.identifier, echoed back in every acknowledgment and remittance. */
  claimId: string;
  kind: 'PROFESSIONAL' | 'INSTITUTIONAL';
  /** Institutional claims only. */
  institutional: InstitutionalDetails | null;
  documents: DocumentToSend[];
  /** Exact decimals in the payer's currency ("120.50"). */
  totalCharge: string;
  placeOfService: string;
  /** 1 original, 7 replacement (a corrected claim), 8 void. */
  frequency: '1' | '7' | '8';
  /** The payer's number of the claim this one replaces (frequency 7). */
  originalPayerClaimNumber: string | null;
  priorAuthorization: string | null;
  subscriber: Member;
  diagnoses: string[];
  /** `revenueCode` on institutional lines only. */
  lines: Array<{ procedureCode: string; revenueCode: string | null; modifiers: string[]; charge: string; units: number; diagnosisPointers: number[]; serviceDate: string }>;
}

export interface ClaimsRequest {
  payer: { code: string; name: string };
  provider: { name: string; npi: string; taxId: string };
  /** Unique per payer: the 837's ISA13, the request's id. A resend with it is the same submission. */
  controlNumber: string;
  claims: ClaimToSubmit[];
}

export interface ClaimAcknowledgment {
  claimId: string;
  accepted: boolean;
  payerClaimNumber: string | null;
  /** The payer's codes for a rejection (STC A7:562, IK5 R, FHIR error codes…). */
  reasons: string[];
}

export interface PreAuthorizationRequest {
  payer: { code: string; name: string };
  provider: { name: string; npi: string };
  /** Our authorization id, echoed back. */
  requestId: string;
  member: Member;
  diagnoses: string[];
  /** Estimated costs as exact decimals of the payer's currency. */
  services: Array<{ procedureCode: string; units: number; estimatedCost: string }>;
  documents: DocumentToSend[];
}

export interface PreAuthorizationAnswer {
  status: 'APPROVED' | 'DENIED' | 'PENDED';
  authCode: string | null;
  reasons: string[];
}

export interface StatusRequest {
  payer: { code: string; name: string };
  provider: { name: string; npi: string };
  claims: Array<{ claimId: string; payerClaimNumber: string | null; member: Member; totalCharge: string; serviceDates: { from: string; to: string } }>;
}

export interface ClaimStatusAnswer {
  claimId: string;
  /** Claim status category (X12 507 vocabulary): A acknowledged, P pending, F finalized, R request more information, E error. */
  category: string;
  /** Claim status code (X12 508): 20 accepted for processing, 1 for review, 3 finalized payment… */
  code: string;
  message: string | null;
  payerClaimNumber: string | null;
}

export interface AppealRequest {
  payer: { code: string; name: string };
  provider: { name: string; npi: string };
  /** Our appeal id, echoed back and used as the idempotency key. */
  appealId: string;
  claimId: string;
  payerClaimNumber: string | null;
  member: Member;
  reason: string;
  documents: DocumentToSend[];
}

export type NetworkTier = 'PREMIUM' | 'STANDARD' | 'TEACHING';

export interface NetworkProvider {
  /** The payer's number for the provider (what enrollments record). */
  providerNumber: string;
  name: string;
  tier: NetworkTier;
  location: string;
}

export interface PayerAdapter {
  readonly protocol: PayerProtocol;
  /** The providers in the payer's network at a location, with their tiers (the HMO's directory, FHIR Organizations). */
  providerNetwork(request: { payer: { code: string; name: string }; location: string }, signal: AbortSignal): Promise<NetworkProvider[]>;
  /** Where the payer has got to with claims (276 → 277, a ClaimResponse search, the HMO's API). */
  claimStatus(request: StatusRequest, signal: AbortSignal): Promise<ClaimStatusAnswer[]>;
  /** Asks the payer to authorize services before care (FHIR Claim use=preauthorization, the HMO's API). */
  requestPreAuthorization(request: PreAuthorizationRequest, signal: AbortSignal): Promise<PreAuthorizationAnswer>;
  checkEligibility(request: EligibilityRequest, signal: AbortSignal): Promise<EligibilityAnswer>;
  /** Asks the payer to reconsider an adjudicated claim (a FHIR Communication about it, the HMO's appeals API): the payer's reference. */
  submitAppeal(request: AppealRequest, signal: AbortSignal): Promise<{ reference: string | null }>;
  /** Transmits claims and reads the payer's acknowledgment of each (999 + 277CA, ClaimResponse, the JSON answer). */
  submitClaims(request: ClaimsRequest, signal: AbortSignal): Promise<ClaimAcknowledgment[]>;
}

export type PayerFailure = 'TIMEOUT' | 'UNREACHABLE' | 'PAYER_ERROR' | 'MALFORMED_ANSWER' | 'CIRCUIT_OPEN' | 'NOT_CONFIGURED' | 'REFUSED' | 'NOT_SUPPORTED';

export class PayerUnavailable extends DomainError {
  constructor(readonly payer: string, readonly reason: PayerFailure, message: string) {
    super(ErrorCode.PAYER_UNAVAILABLE, message, { payer, reason });
  }
}

/** The payer answered, but not with something we can read: not retried (it would answer the same). */
export class MalformedAnswer extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'MalformedAnswer';
  }
}

/** The payer refused the request itself (4xx other than not-found): not retried. */
export class PayerRefusal extends Error {
  constructor(readonly status: number) {
    super(`the payer refused the request (HTTP ${status})`);
    this.name = 'PayerRefusal';
  }
}

export interface ResilienceSettings {
  attempts: number;
  initialBackoffMs: number;
  /** Consecutive failures that open a payer's circuit, and how long it stays open. */
  breakerThreshold: number;
  breakerOpenMs: number;
  defaultTimeoutMs: number;
}

export const DEFAULT_RESILIENCE: ResilienceSettings = { attempts: 3, initialBackoffMs: 200, breakerThreshold: 5, breakerOpenMs: 30_000, defaultTimeoutMs: 8_000 };

/**
 * The payers this process talks to: each one's adapter behind its own circuit breaker (one
 * payer being down never opens another's).
 */
export class PayerConnections {
  private readonly policies = new Map<string, { idempotent: IPolicy; once: IPolicy }>();

  constructor(
    private readonly endpoints: Readonly<Record<string, PayerEndpoint>>,
    private readonly adapterFor: (endpoint: PayerEndpoint) => PayerAdapter,
    private readonly settings: ResilienceSettings = DEFAULT_RESILIENCE,
  ) {}

  /** Whether a payer has an endpoint configured here. */
  configured(code: string): boolean {
    return this.endpoints[code] !== undefined;
  }

  endpoint(code: string): PayerEndpoint {
    const endpoint = this.endpoints[code];
    if (!endpoint) throw new PayerUnavailable(code, 'NOT_CONFIGURED', `No endpoint is configured for payer ${code}`);
    return endpoint;
  }

  async checkEligibility(request: EligibilityRequest): Promise<EligibilityAnswer> {
    // An inquiry changes nothing at the payer: safe to repeat.
    return this.run(request.payer.code, true, (adapter, signal) => adapter.checkEligibility(request, signal));
  }

  /** A directory read: safe to repeat. */
  async providerNetwork(request: { payer: { code: string; name: string }; location: string }): Promise<NetworkProvider[]> {
    return this.run(request.payer.code, true, (adapter, signal) => adapter.providerNetwork(request, signal));
  }

  /** A status question changes nothing at the payer: safe to repeat. */
  async claimStatus(request: StatusRequest): Promise<ClaimStatusAnswer[]> {
    return this.run(request.payer.code, true, (adapter, signal) => adapter.claimStatus(request, signal));
  }

  /** A request for authorization is a new request each time: not retried (the payer would see two). */
  async requestPreAuthorization(request: PreAuthorizationRequest): Promise<PreAuthorizationAnswer> {
    return this.run(request.payer.code, false, (adapter, signal) => adapter.requestPreAuthorization(request, signal));
  }

  /** An appeal carries our id as its idempotency key, but is a new request to the payer: not retried blindly. */
  async submitAppeal(request: AppealRequest): Promise<{ reference: string | null }> {
    return this.run(request.payer.code, false, (adapter, signal) => adapter.submitAppeal(request, signal));
  }

  /**
   * Claims are not retried here: a transmission the payer may have received must not be sent
   * twice blindly. A failed transmission leaves the claims as they were, to be sent again
   * under a new control number (payers de-duplicate claim ids).
   */
  async submitClaims(request: ClaimsRequest): Promise<ClaimAcknowledgment[]> {
    return this.run(request.payer.code, false, (adapter, signal) => adapter.submitClaims(request, signal));
  }

  /** Calls the payer's adapter through its policy (with retries when `idempotent`); every failure as PAYER_UNAVAILABLE. */
  private run<T>(payer: string, idempotent: boolean, call: (adapter: PayerAdapter, signal: AbortSignal) => Promise<T>): Promise<T> {
    const endpoint = this.endpoint(payer);
    const adapter = this.adapterFor(endpoint);
    const policy = this.policyOf(payer, endpoint);
    return (idempotent ? policy.idempotent : policy.once)
      .execute(({ signal }) => call(adapter, signal))
      .catch((error: unknown) => {
        throw asUnavailable(payer, error);
      });
  }

  private policyOf(payer: string, endpoint: PayerEndpoint): { idempotent: IPolicy; once: IPolicy } {
    let policy = this.policies.get(payer);
    if (!policy) {
      const { settings } = this;
      // A payer that does not offer an operation is not failing: that answer never opens its circuit.
      const failing = handleWhen((error) => !(error instanceof PayerUnavailable && error.reason === 'NOT_SUPPORTED'));
      const breaker = circuitBreaker(failing, { halfOpenAfter: settings.breakerOpenMs, breaker: new ConsecutiveBreaker(settings.breakerThreshold) });
      const perAttempt = timeout(endpoint.timeoutMs ?? settings.defaultTimeoutMs, TimeoutStrategy.Aggressive);
      // Only failures a second attempt could cure are retried: not an open circuit, a refusal or an unreadable answer.
      const transient = handleWhen((error) => !(error instanceof BrokenCircuitError || error instanceof MalformedAnswer || error instanceof PayerRefusal || error instanceof PayerUnavailable));
      const retries = retry(transient, { maxAttempts: settings.attempts - 1, backoff: new ExponentialBackoff({ initialDelay: settings.initialBackoffMs, maxDelay: settings.initialBackoffMs * 8 }) });
      policy = { idempotent: wrap(retries, breaker, perAttempt), once: wrap(breaker, perAttempt) };
      this.policies.set(payer, policy);
    }
    return policy;
  }
}

function asUnavailable(payer: string, error: unknown): Error {
  if (error instanceof PayerUnavailable) return error;
  if (error instanceof BrokenCircuitError) return new PayerUnavailable(payer, 'CIRCUIT_OPEN', `Payer ${payer} is failing; not asked again for a while`);
  if (error instanceof TaskCancelledError) return new PayerUnavailable(payer, 'TIMEOUT', `Payer ${payer} did not answer in time`);
  if (error instanceof MalformedAnswer) return new PayerUnavailable(payer, 'MALFORMED_ANSWER', `Payer ${payer} answered with something that could not be read: ${error.detail}`);
  if (error instanceof PayerRefusal) return new PayerUnavailable(payer, 'REFUSED', `Payer ${payer} refused the request (HTTP ${error.status})`);
  if (error instanceof PayerHttpError) return new PayerUnavailable(payer, 'PAYER_ERROR', `Payer ${payer} failed (HTTP ${error.status})`);
  return new PayerUnavailable(payer, 'UNREACHABLE', `Payer ${payer} could not be reached`);
}

/** The payer failed on its side (5xx): worth another attempt. */
export class PayerHttpError extends Error {
  constructor(readonly status: number) {
    super(`the payer failed (HTTP ${status})`);
    this.name = 'PayerHttpError';
  }
}

/** An HTTP exchange with a payer: the body on 2xx (and on 404 when `notFoundIsAnswer`), the right error otherwise. */
export async function payerHttp(url: string, init: RequestInit & { signal: AbortSignal }, options: { notFoundIsAnswer?: boolean } = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(url, init);
  const body = await response.text();
  if (response.ok || (options.notFoundIsAnswer && response.status === 404)) return { status: response.status, body };
  if (response.status >= 500 || response.status === 429) throw new PayerHttpError(response.status);
  throw new PayerRefusal(response.status);
}

/** YYYY-MM-DD to CCYYMMDD and back, for X12. */
export const compactDate = (date: string): string => date.replaceAll('-', '');

/** Today as YYYY-MM-DD and HHMM in UTC (what envelopes and resources stamp). */
export function stamp(now: Date): { date: string; compact: string; time: string } {
  const date = now.toISOString().slice(0, 10);
  return { date, compact: compactDate(date), time: now.toISOString().slice(11, 16).replace(':', '') };
}
