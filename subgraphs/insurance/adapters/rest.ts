import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { minorUnits } from '../x12/views.js';
import { MalformedAnswer, PayerUnavailable, payerHttp, type ClaimAcknowledgment, type ClaimStatusAnswer, type EligibilityAnswer, type PayerAdapter, type PayerEndpoint, type RestMapping } from './payer.js';

/**
 * A payer with a private JSON API (the Nigerian HMOs), described by a mapping in its endpoint
 * configuration: where to ask, how to authenticate, and where in the answer each fact is. The
 * answer is read losslessly, so "1500.50" or 1500.50 become 150050 kobo exactly. A 404 is an
 * answer (no such member: not in force), not a failure.
 */
export function restPayer(endpoint: PayerEndpoint): PayerAdapter {
  const mapping = endpoint.mapping;
  return {
    protocol: 'REST',
    async checkEligibility(request, signal) {
      if (!mapping) throw new MalformedAnswer('no mapping is configured for this REST payer');
      const values: Record<string, string> = {
        memberId: request.member.memberId, serviceType: request.serviceType, lastName: request.member.lastName, firstName: request.member.firstName, birthDate: request.member.birthDate ?? '',
      };
      const path = mapping.eligibilityPath.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
      const method = mapping.method ?? 'GET';
      const headers = authHeaders(endpoint, mapping);
      let body: string | undefined;
      if (method === 'POST') {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(Object.fromEntries(Object.entries(mapping.requestFields ?? {}).map(([theirs, ours]) => [theirs, values[ours] ?? null])));
      }
      const answer = await payerHttp(`${endpoint.baseUrl}${path}`, { method, headers, signal, ...(body ? { body } : {}) }, { notFoundIsAnswer: true });
      if (answer.status === 404) return notCovered('member not found', endpoint.currency ?? 'NGN');
      return eligibilityFromJson(answer.body, mapping, endpoint.currency ?? 'NGN');
    },

    async providerNetwork(request, signal) {
      const path = mapping?.networkPath;
      if (!mapping || !path) throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} publishes no provider network by API`);
      const answer = await payerHttp(`${endpoint.baseUrl}${path.replace('{location}', encodeURIComponent(request.location))}`, { method: 'GET', signal, headers: authHeaders(endpoint, mapping) });
      let json: { providers?: unknown };
      try {
        json = JSON.parse(answer.body) as typeof json;
      } catch {
        throw new MalformedAnswer('the answer is not JSON');
      }
      if (!Array.isArray(json.providers)) throw new MalformedAnswer('providers is missing');
      return (json.providers as Array<Record<string, unknown>>).map((provider, index) => {
        const tier = String(provider['tier'] ?? '').toUpperCase();
        if (typeof provider['providerNumber'] !== 'string' || (tier !== 'PREMIUM' && tier !== 'STANDARD' && tier !== 'TEACHING')) throw new MalformedAnswer(`providers[${index}] needs a providerNumber and a tier (Premium, Standard, Teaching)`);
        return { providerNumber: provider['providerNumber'], name: String(provider['name'] ?? provider['providerNumber']), tier, location: String(provider['location'] ?? request.location) };
      });
    },

    async claimStatus(request, signal) {
      const path = mapping?.claimStatusPath;
      if (!mapping || !path) throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} answers no claim status by API`);
      const answers: ClaimStatusAnswer[] = [];
      for (const claim of request.claims) {
        const answer = await payerHttp(`${endpoint.baseUrl}${path.replace('{claimId}', encodeURIComponent(claim.claimId))}`, { method: 'GET', signal, headers: authHeaders(endpoint, mapping) }, { notFoundIsAnswer: true });
        if (answer.status === 404) {
          answers.push({ claimId: claim.claimId, category: 'A4', code: '35', message: 'The payer has no record of the claim', payerClaimNumber: null });
          continue;
        }
        let json: { status?: unknown; reference?: unknown; message?: unknown };
        try {
          json = JSON.parse(answer.body) as typeof json;
        } catch {
          throw new MalformedAnswer('the answer is not JSON');
        }
        // The HMO profile's statuses in X12's vocabulary.
        const mapped = ({ RECEIVED: ['A1', '20'], IN_REVIEW: ['P1', '1'], APPROVED: ['F1', '1'], PAID: ['F1', '3'], DENIED: ['F2', '2'], REJECTED: ['A3', '21'] } as Record<string, [string, string]>)[String(json.status)];
        if (!mapped) throw new MalformedAnswer(`status "${String(json.status)}" is not one of RECEIVED, IN_REVIEW, APPROVED, PAID, DENIED, REJECTED`);
        answers.push({ claimId: claim.claimId, category: mapped[0], code: mapped[1], message: typeof json.message === 'string' ? json.message : null, payerClaimNumber: typeof json.reference === 'string' ? json.reference : null });
      }
      return answers;
    },

    async requestPreAuthorization(request, signal) {
      if (!mapping?.preauthorizationPath) throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} takes no pre-authorization requests by API`);
      const answer = await payerHttp(`${endpoint.baseUrl}${mapping.preauthorizationPath}`, {
        method: 'POST', signal, headers: authHeaders(endpoint, mapping, { 'content-type': 'application/json', 'idempotency-key': request.requestId }),
        body: JSON.stringify({ requestId: request.requestId, provider: request.provider, member: request.member, diagnoses: request.diagnoses, services: request.services, documents: request.documents }),
      });
      let json: { status?: unknown; authCode?: unknown; reasons?: unknown };
      try {
        json = JSON.parse(answer.body) as typeof json;
      } catch {
        throw new MalformedAnswer('the answer is not JSON');
      }
      if (json.status !== 'APPROVED' && json.status !== 'DENIED' && json.status !== 'PENDED') throw new MalformedAnswer('status must be APPROVED, DENIED or PENDED');
      if (json.status === 'APPROVED' && typeof json.authCode !== 'string') throw new MalformedAnswer('an approval carries its authCode');
      return { status: json.status, authCode: typeof json.authCode === 'string' ? json.authCode : null, reasons: Array.isArray(json.reasons) ? json.reasons.map(String) : [] };
    },

    async submitAppeal(request, signal) {
      if (!mapping?.appealPath) throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} takes no appeals by API`);
      const answer = await payerHttp(`${endpoint.baseUrl}${mapping.appealPath.replace('{claimId}', encodeURIComponent(request.claimId))}`, {
        method: 'POST', signal, headers: authHeaders(endpoint, mapping, { 'content-type': 'application/json', 'idempotency-key': request.appealId }),
        body: JSON.stringify({ appealId: request.appealId, claimId: request.claimId, reference: request.payerClaimNumber, provider: request.provider, member: request.member, reason: request.reason, documents: request.documents }),
      });
      let json: { reference?: unknown };
      try {
        json = JSON.parse(answer.body) as typeof json;
      } catch {
        throw new MalformedAnswer('the answer is not JSON');
      }
      if (typeof json.reference !== 'string') throw new MalformedAnswer('the answer carries no appeal reference');
      return { reference: json.reference };
    },

    async submitClaims(request, signal) {
      if (!mapping?.claimsPath) throw new MalformedAnswer('no claims path is configured for this REST payer');
      const headers = authHeaders(endpoint, mapping, { 'content-type': 'application/json', 'idempotency-key': request.controlNumber });
      // CareGraph's claim profile for HMO APIs: amounts as decimal strings in the payer's currency, documents inline (base64).
      const body = JSON.stringify({ batchReference: request.controlNumber, provider: request.provider, claims: request.claims });
      const answer = await payerHttp(`${endpoint.baseUrl}${mapping.claimsPath}`, { method: 'POST', headers, signal, body });
      return acknowledgmentsFromJson(answer.body, request.claims.map((claim) => claim.claimId));
    },
  };
}

/** `{"results": [{"claimId", "status": "RECEIVED" | "REJECTED", "reference", "reasons": []}]}`, one per claim sent. */
export function acknowledgmentsFromJson(text: string, claimIds: string[]): ClaimAcknowledgment[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MalformedAnswer('the answer is not JSON');
  }
  const results = (json as { results?: unknown }).results;
  if (!Array.isArray(results)) throw new MalformedAnswer('results is missing');
  type Result = { claimId?: unknown; status?: unknown; reference?: unknown; reasons?: unknown };
  const byClaim = new Map<string, Result>();
  for (const result of results as Result[]) if (typeof result.claimId === 'string') byClaim.set(result.claimId, result);
  return claimIds.map((claimId) => {
    const result = byClaim.get(claimId);
    if (!result || (result.status !== 'RECEIVED' && result.status !== 'REJECTED')) throw new MalformedAnswer(`no result for claim ${claimId}`);
    const accepted = result.status === 'RECEIVED';
    return {
      claimId,
      accepted,
      payerClaimNumber: typeof result.reference === 'string' ? result.reference : null,
      reasons: accepted ? [] : Array.isArray(result.reasons) ? result.reasons.map(String) : ['REJECTED'],
    };
  });
}

/** The value at a dot path (`member.plan.name`) of JSON read losslessly; undefined when any step is missing. */
export function valueAtPath(json: unknown, path: string | undefined): unknown {
  if (!path) return undefined;
  let value: unknown = json;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null || isLosslessNumber(value)) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

/** JSON headers with the payer's API key where its mapping says. */
function authHeaders(endpoint: PayerEndpoint, mapping: RestMapping, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json', ...extra };
  if (endpoint.apiKey) {
    const header = mapping.authHeader ?? 'authorization';
    headers[header] = header.toLowerCase() === 'authorization' ? `Bearer ${endpoint.apiKey}` : endpoint.apiKey;
  }
  return headers;
}

function notCovered(rejection: string, currency: string): EligibilityAnswer {
  return { inForce: false, planName: null, currency, copay: null, coinsurancePercent: null, deductibleRemaining: null, benefits: [], rejection };
}

export function eligibilityFromJson(text: string, mapping: RestMapping, defaultCurrency: string): EligibilityAnswer {
  let json: unknown;
  try {
    json = parseLossless(text);
  } catch {
    throw new MalformedAnswer('the answer is not JSON');
  }
  const at = (path: string | undefined): unknown => valueAtPath(json, path);
  const valueAt = (path: string | undefined): string | null => {
    const value = at(path);
    if (value === undefined || value === null) return null;
    if (typeof value === 'string' || typeof value === 'boolean' || isLosslessNumber(value)) return String(value);
    throw new MalformedAnswer(`${path} is not a value`);
  };
  const money = (path: string | undefined): number | null => {
    const value = valueAt(path);
    if (value === null || value === '') return null;
    try {
      return Number(minorUnits(value));
    } catch {
      throw new MalformedAnswer(`${path} "${value}" is not an amount`);
    }
  };
  const response = mapping.response;
  const status = at(response.inForce);
  if (status === undefined) throw new MalformedAnswer(`${response.inForce} is missing`);
  const inForce = status === true || (status !== false && (response.inForceValues ?? []).includes(String(status)));
  const currency = valueAt(response.currency) ?? defaultCurrency;
  const copay = money(response.copay);
  const coinsurance = valueAt(response.coinsurancePercent);
  if (coinsurance !== null && !/^\d+(\.\d+)?$/.test(coinsurance)) throw new MalformedAnswer(`${response.coinsurancePercent} "${coinsurance}" is not a percent`);
  const deductibleRemaining = money(response.deductibleRemaining);
  const planName = valueAt(response.planName);
  return {
    inForce,
    planName,
    currency,
    copay,
    coinsurancePercent: coinsurance,
    deductibleRemaining,
    benefits: [
      ...(inForce ? [{ code: '1', serviceTypes: [], amount: null, percent: null, inNetwork: null, description: planName }] : []),
      ...(copay !== null ? [{ code: 'B', serviceTypes: [], amount: copay, percent: null, inNetwork: null, description: null }] : []),
      ...(coinsurance !== null ? [{ code: 'A', serviceTypes: [], amount: null, percent: coinsurance, inNetwork: null, description: null }] : []),
      ...(deductibleRemaining !== null ? [{ code: 'C', serviceTypes: [], amount: deductibleRemaining, percent: null, inNetwork: null, description: null }] : []),
    ],
    rejection: inForce ? null : (valueAt(response.rejection) ?? `status ${String(status)}`),
  };
}
