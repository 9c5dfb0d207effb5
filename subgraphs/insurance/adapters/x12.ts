import { randomInt } from 'node:crypto';
import { build270, build276, build837P } from '../x12/build.js';
import { generateInterchange, type TransactionSpec } from '../x12/generate.js';
import { parseX12, transactionsOf } from '../x12/parse.js';
import { minorUnits, type AcknowledgmentView, type EligibilityView, type StatusView, type TransactionView } from '../x12/views.js';
import { compactDate, MalformedAnswer, PayerUnavailable, payerHttp, stamp, type Benefit, type ClaimAcknowledgment, type ClaimStatusAnswer, type EligibilityAnswer, type Member, type PayerAdapter, type PayerEndpoint } from './payer.js';

/** CareGraph's interchange sender id toward X12 payers. */
const SENDER_ID = 'CAREGRAPH';

/**
 * A payer that speaks ASC X12 5010 over HTTP (a clearinghouse-style real-time endpoint):
 * POST an interchange to `{baseUrl}/x12` as `application/edi-x12`, the answer interchange in
 * the response body. Eligibility is 270 → 271.
 */
export function x12Payer(endpoint: PayerEndpoint): PayerAdapter {
  return {
    protocol: 'X12',
    async checkEligibility(request, signal) {
      const body = await exchange(endpoint, request.payer.code, { functionalId: 'HS', version: '005010X279A1', controlNumber: String(randomInt(1, 999_999_999)), acknowledgmentRequested: false }, (now, payerId) => build270({
        controlNumber: '0001', reference: request.trace.slice(0, 30), createdDate: now.compact, createdTime: now.time,
        payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
        provider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX' },
        subscriber: subscriberOf(request.member),
        serviceTypes: [request.serviceType],
        trace: request.trace.slice(0, 50),
      }), signal);
      return eligibilityFrom271(body, endpoint.currency ?? 'USD');
    },

    async claimStatus(request, signal) {
      const body = await exchange(endpoint, request.payer.code, { functionalId: 'HR', version: '005010X212', controlNumber: String(randomInt(1, 999_999_999)), acknowledgmentRequested: false }, (now, payerId) => build276({
        controlNumber: '0001', reference: `STATUS${now.time}`, createdDate: now.compact, createdTime: now.time,
        payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
        submitter: { name: 'CAREGRAPH', id: SENDER_ID, idQualifier: '46' },
        provider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX' },
        claims: request.claims.map((claim) => ({
          patientControlNumber: claim.claimId, payerClaimNumber: claim.payerClaimNumber, totalCharge: claim.totalCharge, subscriber: subscriberOf(claim.member),
          serviceDates: claim.serviceDates.from === claim.serviceDates.to ? compactDate(claim.serviceDates.from) : `${compactDate(claim.serviceDates.from)}-${compactDate(claim.serviceDates.to)}`,
        })),
      }), signal);
      return statusesFrom277(body, request.claims.map((claim) => claim.claimId));
    },

    async providerNetwork(request) {
      // Provider directories (274) are not among the transactions exchanged here.
      throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} publishes no provider network this platform can read (X12 274 is not supported here)`);
    },

    async requestPreAuthorization(request) {
      // Services review (278) is not among the transactions this platform exchanges in X12.
      throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} takes pre-authorization requests only through its own channel (X12 278 is not supported here)`);
    },

    async submitClaims(request, signal) {
      const body = await exchange(endpoint, request.payer.code, { functionalId: 'HC', version: '005010X222A1', controlNumber: request.controlNumber, acknowledgmentRequested: true }, (now, payerId) => build837P({
        controlNumber: '0001', reference: request.controlNumber, createdDate: now.compact, createdTime: now.time,
        submitter: { name: 'CAREGRAPH', id: SENDER_ID, idQualifier: '46', contactName: 'BILLING', contactEmail: 'billing@caregraph.example.invalid' },
        receiver: { name: request.payer.name, id: payerId, idQualifier: '46' },
        billingProvider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX', taxId: request.provider.taxId, address: { line: 'ON FILE', city: 'ON FILE', state: 'NA', postalCode: '00000' } },
        claims: request.claims.map((claim) => ({
          claimId: claim.claimId, totalCharge: claim.totalCharge, placeOfService: claim.placeOfService, frequency: claim.frequency,
          subscriber: subscriberOf(claim.subscriber),
          payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
          diagnoses: claim.diagnoses,
          ...(claim.priorAuthorization ? { priorAuthorization: claim.priorAuthorization } : {}),
          ...(claim.originalPayerClaimNumber ? { originalReference: claim.originalPayerClaimNumber } : {}),
          lines: claim.lines.map((line) => ({ procedureCode: line.procedureCode, modifiers: line.modifiers, charge: line.charge, units: String(line.units), diagnosisPointers: line.diagnosisPointers, serviceDate: compactDate(line.serviceDate) })),
        })),
      }), signal);
      return acknowledgmentsFrom(body, request.claims.map((claim) => claim.claimId));
    },
  };
}

/**
 * What the payer said of each claim: the 999 for the transaction set (R rejects every claim in
 * it), then the 277CA per claim, matched by the patient control number (our claim id) it echoes.
 * A claim the answer does not mention is a malformed answer: nothing is assumed.
 */
export function acknowledgmentsFrom(text: string, claimIds: string[]): ClaimAcknowledgment[] {
  const views = viewsOf(text, 'acknowledgment');
  const functional = views.find((view): view is AcknowledgmentView => view.kind === 'acknowledgment');
  if (!functional) throw new MalformedAnswer('the answer holds no 999');
  const code = functional.transactions[0]?.code;
  if (code === 'R' || code === undefined) {
    const reason = functional.transactions[0]?.errors.map((error) => `999 ${error.segmentId} ${error.code}`)[0] ?? '999 R';
    return claimIds.map((claimId) => ({ claimId, accepted: false, payerClaimNumber: null, reasons: [reason] }));
  }
  const report = views.find((view): view is StatusView => view.kind === 'status' && view.direction === 'acknowledgment');
  if (!report) throw new MalformedAnswer('the answer holds no 277CA');
  const byClaim = new Map<string, StatusView['levels'][number]>();
  for (const level of report.levels) for (const trace of level.traces) if (level.statuses.length > 0) byClaim.set(trace, level);
  return claimIds.map((claimId) => {
    const level = byClaim.get(claimId);
    const status = level?.statuses[0];
    if (!level || !status) throw new MalformedAnswer(`the 277CA does not mention claim ${claimId}`);
    const accepted = status.category === 'A1' || status.category === 'A2';
    return {
      claimId,
      accepted,
      payerClaimNumber: level.references.find((reference) => reference.qualifier === '1K')?.value ?? null,
      reasons: accepted ? [] : level.statuses.map((stc) => `${stc.category}:${stc.code}${stc.entity ? `:${stc.entity}` : ''}`),
    };
  });
}

/** The transaction sets of a payer's answer; an interchange that does not read is a malformed answer, named by its first error. */
function viewsOf(text: string, label: string): TransactionView[] {
  const document = parseX12(text);
  const firstError = document.issues.find((issue) => issue.severity === 'error');
  if (firstError) throw new MalformedAnswer(`${label} ${firstError.code} at ${firstError.segmentId ?? 'the start'}${firstError.element ? ` element ${firstError.element}` : ''}`);
  return transactionsOf(document).map((transaction) => transaction.view);
}

/**
 * One exchange with the payer's real-time endpoint: our transaction set in an interchange
 * addressed to the payer (control numbers as given), POSTed to `{baseUrl}/x12`; the answer's text.
 */
async function exchange(endpoint: PayerEndpoint, payerCode: string, group: { functionalId: string; version: string; controlNumber: string; acknowledgmentRequested: boolean }, build: (stamp: { compact: string; time: string }, payerId: string) => TransactionSpec, signal: AbortSignal): Promise<string> {
  const now = stamp(new Date());
  const payerId = endpoint.payerId ?? payerCode;
  const interchange = generateInterchange({
    sender: { qualifier: 'ZZ', id: SENDER_ID }, receiver: { qualifier: 'ZZ', id: payerId.slice(0, 15) },
    date: now.compact.slice(2), time: now.time, controlNumber: group.controlNumber, usage: 'P', acknowledgmentRequested: group.acknowledgmentRequested,
    groups: [{ functionalId: group.functionalId, senderCode: SENDER_ID, receiverCode: payerId, date: now.compact, time: now.time, controlNumber: group.controlNumber, version: group.version, transactions: [build(now, payerId)] }],
  });
  const { body } = await payerHttp(`${endpoint.baseUrl}/x12`, {
    method: 'POST', signal, body: interchange,
    headers: { 'content-type': 'application/edi-x12', ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}) },
  });
  return body;
}

const subscriberOf = (member: Member) => ({ lastName: member.lastName, firstName: member.firstName, memberId: member.memberId, ...(member.birthDate ? { birthDate: compactDate(member.birthDate) } : {}) });

/** A 271's answer for the subscriber, amounts in minor units; a 271 that does not read is a malformed answer. */
export function eligibilityFrom271(text: string, currency: string): EligibilityAnswer {
  const view = viewsOf(text, '271').find((candidate): candidate is EligibilityView => candidate.kind === 'eligibility' && candidate.direction === 'response');
  if (!view) throw new MalformedAnswer('the answer holds no 271');
  const minor = (amount: string | undefined): number | null => {
    if (amount === undefined) return null;
    try {
      return Number(minorUnits(amount));
    } catch {
      throw new MalformedAnswer(`271 amount "${amount}" is not money`);
    }
  };
  const percent = (fraction: string | undefined): string | null => {
    if (fraction === undefined) return null;
    if (!/^\d*\.?\d+$/.test(fraction)) throw new MalformedAnswer(`271 percent "${fraction}" is not a fraction`);
    return percentOfFraction(fraction);
  };
  const benefits: Benefit[] = view.benefits.map((benefit) => ({
    code: benefit.code,
    serviceTypes: benefit.serviceTypes,
    amount: minor(benefit.amount),
    percent: percent(benefit.percent),
    inNetwork: benefit.inNetwork === 'Y' ? true : benefit.inNetwork === 'N' ? false : null,
    description: benefit.planDescription || benefit.messages[0] || null,
  }));
  const active = view.benefits.find((benefit) => benefit.code === '1');
  const rejection = view.rejections[0];
  return {
    inForce: !rejection && active !== undefined && !view.benefits.some((benefit) => benefit.code === '6'),
    planName: active?.planDescription || null,
    currency,
    copay: benefits.find((benefit) => benefit.code === 'B')?.amount ?? null,
    coinsurancePercent: benefits.find((benefit) => benefit.code === 'A')?.percent ?? null,
    // EB06 29: the amount remaining.
    deductibleRemaining: minor(view.benefits.find((benefit) => benefit.code === 'C' && benefit.timePeriod === '29')?.amount),
    benefits,
    rejection: rejection ? `AAA ${rejection.reason}` : null,
  };
}

/** EB08 is a fraction (0.2); people and the API speak percent ("20"). Exact: the decimal point moves two places. */
export function percentOfFraction(fraction: string): string {
  const [whole = '', decimals = ''] = fraction.split('.');
  const shifted = `${whole}${decimals.padEnd(2, '0').slice(0, 2)}`;
  const rest = decimals.slice(2).replace(/0+$/, '');
  return `${BigInt(shifted || '0')}${rest ? `.${rest}` : ''}`;
}

/** A 277's status of each claim asked about, matched by the TRN02 it echoes (our claim id). */
export function statusesFrom277(text: string, claimIds: string[]): ClaimStatusAnswer[] {
  const report = viewsOf(text, '277').find((view): view is StatusView => view.kind === 'status' && view.direction === 'response');
  if (!report) throw new MalformedAnswer('the answer holds no 277');
  return claimIds.map((claimId) => {
    const level = report.levels.find((candidate) => candidate.traces.includes(claimId) && candidate.statuses.length > 0);
    const status = level?.statuses[0];
    if (!level || !status) throw new MalformedAnswer(`the 277 does not mention claim ${claimId}`);
    return { claimId, category: status.category, code: status.code, message: status.message || null, payerClaimNumber: level.references.find((reference) => reference.qualifier === '1K')?.value ?? null };
  });
}
