import type { Bundle, Claim, ClaimResponse, Communication, CoverageEligibilityRequest, CoverageEligibilityResponse, DocumentReference, Money, Organization, Resource } from 'fhir/r4.js';
import { bundleResources, readFhir } from '../fhir/read.js';
import { LosslessNumber, stringify as stringifyLossless } from 'lossless-json';
import { fixedDecimalFromMinor, minorUnits } from '../x12/views.js';
import { MalformedAnswer, payerHttp, stamp, type Benefit, type ClaimAcknowledgment, type ClaimStatusAnswer, type ClaimToSubmit, type DocumentToSend, type EligibilityAnswer, type Member, type NetworkProvider, type PayerAdapter, type PayerEndpoint, type PreAuthorizationRequest, type AppealRequest } from './payer.js';

/** The identifier system CareGraph uses for a payer's member ids in resources it sends. */
export const MEMBER_ID_SYSTEM = 'urn:caregraph:payer-member-id';

/**
 * A payer that speaks FHIR R4: eligibility is a CoverageEligibilityRequest posted to
 * `{baseUrl}/CoverageEligibilityRequest/$submit`, answered by a CoverageEligibilityResponse,
 * which must pass the R4 checks (fhir/read.ts) before anything is read from it.
 */
export function fhirPayer(endpoint: PayerEndpoint): PayerAdapter {
  return {
    protocol: 'FHIR',
    async checkEligibility(request, signal) {
      const now = stamp(new Date());
      const resource: CoverageEligibilityRequest = {
        resourceType: 'CoverageEligibilityRequest',
        identifier: [{ system: 'urn:caregraph:eligibility-trace', value: request.trace }],
        status: 'active',
        purpose: ['validation', 'benefits'],
        patient: {
          identifier: { system: MEMBER_ID_SYSTEM, value: request.member.memberId },
          display: `${request.member.firstName} ${request.member.lastName}`,
        },
        created: now.date,
        provider: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: request.provider.npi }, display: request.provider.name },
        insurer: { identifier: { value: endpoint.payerId ?? request.payer.code }, display: request.payer.name },
        insurance: [{ focal: true, coverage: { identifier: { system: MEMBER_ID_SYSTEM, value: request.member.memberId } } }],
        item: [{ category: { coding: [{ system: 'https://x12.org/codes/service-type-codes', code: request.serviceType }] } }],
      };
      return eligibilityFromResponse(await exchange(endpoint, '/CoverageEligibilityRequest/$submit', signal, JSON.stringify(resource)));
    },

    async providerNetwork(request, signal) {
      return networkFromSearch(await exchange(endpoint, `/Organization?address-city=${encodeURIComponent(request.location)}&type=prov`, signal), request.location);
    },

    async claimStatus(request, signal) {
      const answers: ClaimStatusAnswer[] = [];
      for (const claim of request.claims) {
        const search = `request.identifier=${encodeURIComponent(`urn:caregraph:claim|${claim.claimId}`)}`;
        answers.push(statusFromSearch(await exchange(endpoint, `/ClaimResponse?${search}`, signal), claim.claimId));
      }
      return answers;
    },

    async requestPreAuthorization(request, signal) {
      const body = await exchange(endpoint, '/Claim/$submit', signal, stringifyLossless(bundleWith(preauthorizationResource(request, endpoint), request.documents)) ?? '');
      const response = readAnswer<ClaimResponse>(body, 'ClaimResponse').resource;
      if (response.outcome === 'error') return { status: 'DENIED', authCode: null, reasons: errorCodes(response) };
      if (response.outcome === 'queued' || !response.preAuthRef) return { status: 'PENDED', authCode: null, reasons: [] };
      return { status: 'APPROVED', authCode: response.preAuthRef, reasons: [] };
    },

    async submitClaims(request, signal) {
      const acknowledgments: ClaimAcknowledgment[] = [];
      // One Claim per $submit (in a Bundle with its documents when it has any), in order; a payer answers each with a ClaimResponse.
      for (const claim of request.claims) {
        const body = await exchange(endpoint, '/Claim/$submit', signal, stringifyLossless(bundleWith(claimResource(claim, request, endpoint), claim.documents)) ?? '');
        acknowledgments.push(acknowledgmentFromResponse(body, claim.claimId));
      }
      return acknowledgments;
    },

    async submitAppeal(request, signal) {
      const body = await exchange(endpoint, '/Communication', signal, JSON.stringify(appealResource(request, endpoint)));
      const answer = readAnswer<Communication>(body, 'Communication').resource;
      return { reference: answer.id ?? answer.identifier?.[0]?.value ?? null };
    },
  };
}

/**
 * An appeal as an R4 Communication about the claim (ours and the payer's number), from the
 * provider to the payer: the reasons as text, each document as an attachment.
 */
export function appealResource(request: AppealRequest, endpoint: PayerEndpoint): Communication {
  return {
    resourceType: 'Communication',
    identifier: [{ system: 'urn:caregraph:appeal', value: request.appealId }],
    status: 'completed',
    category: [{ coding: [{ system: 'urn:caregraph:communication-category', code: 'claim-appeal' }], text: 'Claim appeal' }],
    subject: { identifier: { system: MEMBER_ID_SYSTEM, value: request.member.memberId } },
    about: [
      { identifier: { system: 'urn:caregraph:claim', value: request.claimId } },
      ...(request.payerClaimNumber ? [{ identifier: { value: request.payerClaimNumber } }] : []),
    ],
    sent: new Date().toISOString(),
    recipient: [{ identifier: { value: endpoint.payerId ?? request.payer.code }, display: request.payer.name }],
    sender: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: request.provider.npi }, display: request.provider.name },
    payload: [
      { contentString: request.reason },
      ...request.documents.map((document) => ({ contentAttachment: documentReferenceOf(document, true).content[0]?.attachment ?? {} })),
    ],
  };
}

/** One exchange with the payer's FHIR server: a GET, or a POST of `body`; the answer's text. */
async function exchange(endpoint: PayerEndpoint, path: string, signal: AbortSignal, body?: string): Promise<string> {
  const headers = { accept: 'application/fhir+json', ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}) };
  return (await payerHttp(`${endpoint.baseUrl}${path}`, { method: body !== undefined ? 'POST' : 'GET', signal, headers, ...(body !== undefined ? { body } : {}) })).body;
}

/** A payer's answer as the resource type expected, after the R4 checks: anything else is a malformed answer. */
function readAnswer<R extends Resource>(text: string, type: R['resourceType']): { resource: R; decimals: ReadonlyMap<string, string> } {
  const document = readFhir(text);
  const firstError = document.issues.find((issue) => issue.severity === 'error');
  if (firstError) throw new MalformedAnswer(`${firstError.code} at ${firstError.path || 'the root'}`);
  if (document.resource?.resourceType !== type) throw new MalformedAnswer(`expected a ${type}, got ${document.resource?.resourceType ?? 'nothing'}`);
  return { resource: document.resource as R, decimals: document.decimals };
}

/** A ClaimResponse's error codes, as the claim's reasons. */
const errorCodes = (response: ClaimResponse): string[] => (response.error ?? []).map((error) => `FHIR ${error.code.coding?.[0]?.code ?? 'error'}`);

/**
 * What every Claim CareGraph sends shares: our identifier, the member, the payer, the provider,
 * the diagnoses and the focal coverage. `use` says whether it is a claim or a request for
 * authorization.
 */
function claimSkeleton(use: 'claim' | 'preauthorization', id: string, member: Member, diagnoses: string[], request: { payer: { code: string; name: string }; provider: { name: string; npi: string } }, endpoint: PayerEndpoint, kind: 'professional' | 'institutional' = 'professional'): Claim {
  return {
    resourceType: 'Claim',
    identifier: [{ system: use === 'claim' ? 'urn:caregraph:claim' : 'urn:caregraph:preauthorization', value: id }],
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: kind }] },
    use,
    patient: { identifier: { system: MEMBER_ID_SYSTEM, value: member.memberId }, display: `${member.firstName} ${member.lastName}` },
    created: new Date().toISOString().slice(0, 10),
    insurer: { identifier: { value: endpoint.payerId ?? request.payer.code }, display: request.payer.name },
    provider: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: request.provider.npi }, display: request.provider.name },
    priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
    diagnosis: diagnoses.map((code, index) => ({ sequence: index + 1, diagnosisCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code }] } })),
    insurance: [{ sequence: 1, focal: true, coverage: { identifier: { system: MEMBER_ID_SYSTEM, value: member.memberId } } }],
  };
}

/** A pre-authorization request: an R4 Claim with use `preauthorization`. */
export function preauthorizationResource(request: PreAuthorizationRequest, endpoint: PayerEndpoint): Claim {
  const currency = endpoint.currency ?? 'USD';
  const total = request.services.reduce((sum, service) => sum + minorUnits(service.estimatedCost), 0n);
  return {
    ...claimSkeleton('preauthorization', request.requestId, request.member, request.diagnoses, request, endpoint),
    item: request.services.map((service, index) => ({
      sequence: index + 1,
      productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: service.procedureCode }] },
      quantity: { value: service.units },
      net: fhirMoney(service.estimatedCost, currency),
    })),
    total: fhirMoney(fixedDecimalFromMinor(total), currency),
  };
}

/**
 * Money as FHIR keeps it: the value written with its two decimal places ("25000.50"), as a
 * lossless number so it goes out exactly as written rather than through a float.
 */
function fhirMoney(decimal: string, currency: string): { value: number; currency: string } {
  return { value: new LosslessNumber(fixedDecimalFromMinor(minorUnits(decimal))) as unknown as number, currency };
}

/** Our claim as an R4 Claim with use `claim`; a replacement names the claim it replaces. */
export function claimResource(claim: ClaimToSubmit, request: { payer: { code: string; name: string }; provider: { name: string; npi: string } }, endpoint: PayerEndpoint): Claim {
  const currency = endpoint.currency ?? 'USD';
  const skeleton = claimSkeleton('claim', claim.claimId, claim.subscriber, claim.diagnoses, request, endpoint, claim.kind === 'INSTITUTIONAL' ? 'institutional' : 'professional');
  const dates = claim.lines.map((line) => line.serviceDate).sort();
  return {
    ...skeleton,
    ...(claim.institutional ? {
      subType: { coding: [{ system: 'https://www.nubc.org/CodeSystem/TypeOfBill', code: claim.institutional.facilityType }] },
      billablePeriod: { start: claim.institutional.admission?.at.slice(0, 10) ?? dates[0], end: dates.at(-1) },
      careTeam: [{ sequence: 1, provider: { identifier: { system: 'http://hl7.org/fhir/sid/us-npi', value: claim.institutional.attending.npi }, display: `${claim.institutional.attending.firstName} ${claim.institutional.attending.lastName}` }, role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claimcareteamrole', code: 'primary' }] } }],
    } : {}),
    ...(claim.originalPayerClaimNumber ? { related: [{ claim: { identifier: { value: claim.originalPayerClaimNumber } }, relationship: { coding: [{ code: 'prior' }] } }] } : {}),
    insurance: skeleton.insurance.map((insurance) => ({ ...insurance, ...(claim.priorAuthorization ? { preAuthRef: [claim.priorAuthorization] } : {}) })),
    item: claim.lines.map((line, index) => ({
      sequence: index + 1,
      diagnosisSequence: line.diagnosisPointers,
      ...(line.revenueCode ? { revenue: { coding: [{ system: 'https://www.nubc.org/CodeSystem/RevenueCodes', code: line.revenueCode }] } } : {}),
      productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: line.procedureCode }] },
      ...(line.modifiers.length ? { modifier: line.modifiers.map((modifier) => ({ coding: [{ code: modifier }] })) } : {}),
      servicedDate: line.serviceDate,
      quantity: { value: line.units },
      net: fhirMoney(line.charge, currency),
    })),
    total: fhirMoney(claim.totalCharge, currency),
  };
}

/** A document as an R4 DocumentReference: the one given, or one describing the uploaded PDF. */
export function documentReferenceOf(document: DocumentToSend, inline: boolean): DocumentReference {
  const data = document.data;
  return {
    resourceType: 'DocumentReference',
    id: document.id,
    identifier: [{ system: 'urn:caregraph:document', value: document.id }],
    status: 'current',
    description: document.title,
    content: [{
      attachment: {
        contentType: document.contentType, title: document.title, size: document.size,
        ...(inline && data ? { data } : {}),
        ...(document.url ? { url: document.url } : {}),
      },
    }],
  };
}

/**
 * A claim (or authorization request) and its documents as one R4 Bundle (type collection): the
 * Claim first, citing each DocumentReference from `supportingInfo` (category attachment).
 */
export function bundleWith(claim: Claim, documents: readonly DocumentToSend[], inline = true): Claim | Bundle {
  if (documents.length === 0) return claim;
  const fullUrl = (document: DocumentToSend) => `urn:uuid:${document.id}`;
  const supported: Claim = {
    ...claim,
    supportingInfo: documents.map((document, index) => ({
      sequence: index + 1,
      category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claiminformationcategory', code: 'attachment' }] },
      valueReference: { reference: fullUrl(document), display: document.title },
    })),
  };
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [{ fullUrl: `urn:uuid:${claim.identifier?.[0]?.value ?? 'claim'}`, resource: supported }, ...documents.map((document) => ({ fullUrl: fullUrl(document), resource: documentReferenceOf(document, inline) }))],
  };
}

/** The extension a FHIR payer marks an in-network Organization's tier with. */
export const NETWORK_TIER_EXTENSION = 'https://caregraph.example/fhir/StructureDefinition/network-tier';

/** An Organization search as network providers: the payer's provider number (an identifier) and the tier extension. */
export function networkFromSearch(text: string, location: string): NetworkProvider[] {
  return bundleResources(readAnswer<Bundle>(text, 'Bundle').resource).flatMap((resource) => {
    if (resource.resourceType !== 'Organization') return [];
    const organization = resource as Organization;
    const tier = organization.extension?.find((extension) => extension.url === NETWORK_TIER_EXTENSION)?.valueCode?.toUpperCase();
    const providerNumber = organization.identifier?.[0]?.value;
    if (!providerNumber || (tier !== 'PREMIUM' && tier !== 'STANDARD' && tier !== 'TEACHING')) throw new MalformedAnswer(`Organization ${organization.id ?? ''} has no provider number or tier`);
    return [{ providerNumber, name: organization.name ?? providerNumber, tier, location: organization.address?.[0]?.city ?? location }];
  });
}

/**
 * A ClaimResponse search (a searchset Bundle) as a claim status: the latest response's outcome
 * in X12's status vocabulary — queued is pending (P1), complete or partial is finalized (F1),
 * error is rejected (A3); none at all is not found (A4).
 */
export function statusFromSearch(text: string, claimId: string): ClaimStatusAnswer {
  const responses = bundleResources(readAnswer<Bundle>(text, 'Bundle').resource).filter((resource): resource is ClaimResponse => resource.resourceType === 'ClaimResponse');
  const latest = responses.at(-1);
  if (!latest) return { claimId, category: 'A4', code: '35', message: 'The payer has no record of the claim', payerClaimNumber: null };
  const [category, code] = latest.outcome === 'queued' ? ['P1', '20'] : latest.outcome === 'error' ? ['A3', '21'] : ['F1', '1'];
  return { claimId, category: category as string, code: code as string, message: latest.disposition ?? null, payerClaimNumber: latest.identifier?.[0]?.value ?? latest.id ?? null };
}

/** A ClaimResponse for one claim: queued, complete or partial is received; error is a rejection with its codes. */
export function acknowledgmentFromResponse(text: string, claimId: string): ClaimAcknowledgment {
  const response = readAnswer<ClaimResponse>(text, 'ClaimResponse').resource;
  const accepted = response.outcome !== 'error';
  return {
    claimId,
    accepted,
    payerClaimNumber: response.identifier?.[0]?.value ?? response.id ?? null,
    reasons: accepted ? [] : errorCodes(response),
  };
}

/** What a CoverageEligibilityResponse says, amounts in minor units as written (never through a float). */
export function eligibilityFromResponse(text: string): EligibilityAnswer {
  const { resource: response, decimals } = readAnswer<CoverageEligibilityResponse>(text, 'CoverageEligibilityResponse');
  const written = (money: Money | undefined, path: string): { minor: number; currency: string | undefined } | null => {
    if (!money || money.value === undefined) return null;
    const text = decimals.get(`${path}.value`) ?? String(money.value);
    try {
      return { minor: Number(minorUnits(text)), currency: money.currency };
    } catch {
      throw new MalformedAnswer(`${path}.value "${text}" is not money`);
    }
  };
  const insurance = response.insurance?.[0];
  const benefits: Benefit[] = [];
  let currency: string | undefined;
  let copay: number | null = null;
  let coinsurance: string | null = null;
  let deductibleRemaining: number | null = null;
  (insurance?.item ?? []).forEach((item, itemIndex) => {
    const serviceTypes = (item.category?.coding ?? []).flatMap((coding) => (coding.code ? [coding.code] : []));
    const inNetwork = item.network?.coding?.[0]?.code === 'in' ? true : item.network?.coding?.[0]?.code === 'out' ? false : null;
    (item.benefit ?? []).forEach((benefit, benefitIndex) => {
      const path = `CoverageEligibilityResponse.insurance[0].item[${itemIndex}].benefit[${benefitIndex}]`;
      const kind = benefit.type.coding?.[0]?.code;
      const allowed = written(benefit.allowedMoney, `${path}.allowedMoney`);
      const used = written(benefit.usedMoney, `${path}.usedMoney`);
      currency ??= allowed?.currency ?? used?.currency;
      if (kind === 'copay' && allowed) {
        copay = allowed.minor;
        benefits.push({ code: 'B', serviceTypes, amount: allowed.minor, percent: null, inNetwork, description: item.name ?? null });
      } else if (kind === 'copay-percent' && benefit.allowedUnsignedInt !== undefined) {
        coinsurance = String(benefit.allowedUnsignedInt);
        benefits.push({ code: 'A', serviceTypes, amount: null, percent: coinsurance, inNetwork, description: item.name ?? null });
      } else if (kind === 'deductible' && allowed) {
        deductibleRemaining = allowed.minor - (used?.minor ?? 0);
        benefits.push({ code: 'C', serviceTypes, amount: deductibleRemaining, percent: null, inNetwork, description: item.name ?? null });
      }
    });
  });
  const error = response.error?.[0]?.code.coding?.[0];
  const inForce = response.outcome !== 'error' && insurance?.inforce === true;
  return {
    inForce,
    planName: insurance?.item?.find((item) => item.name)?.name ?? null,
    currency: currency ?? 'USD',
    copay,
    coinsurancePercent: coinsurance,
    deductibleRemaining,
    benefits: inForce ? [{ code: '1', serviceTypes: [], amount: null, percent: null, inNetwork: null, description: response.disposition ?? null }, ...benefits] : benefits,
    rejection: response.outcome === 'error' ? `FHIR ${error?.code ?? 'error'}${response.disposition ? `: ${response.disposition}` : ''}` : null,
  };
}
