import { randomInt } from 'node:crypto';
import { build270, build276, build837I, build837P } from '../x12/build.js';
import { generateInterchange, type TransactionSpec } from '../x12/generate.js';
import { parseX12, transactionsOf } from '../x12/parse.js';
import { minorUnits, type AcknowledgmentView, type EligibilityView, type StatusView, type TransactionView } from '../x12/views.js';
import { compactDate, MalformedAnswer, PayerUnavailable, payerHttp, stamp, type Benefit, type ClaimAcknowledgment, type ClaimStatusAnswer, type ClaimToSubmit, type EligibilityAnswer, type InstitutionalDetails, type Member, type PayerAdapter, type PayerEndpoint } from './payer.js';

/** CareGraph's interchange sender id toward X12 payers. */
const SENDER_ID = 'CAREGRAPH';

/**
 * A payer that speaks ASC X12 5010 over HTTP (a clearinghouse-style real-time endpoint):
 * POST an interchange to `{baseUrl}/x12` as `application/edi-x12`, the answer interchange in
 * the response body. Eligibility is 270 → 271, claims 837P/837I → 999 + 277CA, status 276 → 277.
 */
export function x12Payer(endpoint: PayerEndpoint): PayerAdapter {
  return {
    protocol: 'X12',
    async checkEligibility(request, signal) {
      const body = await exchange(endpoint, request.payer.code, { controlNumber: String(randomInt(1, 999_999_999)), acknowledgmentRequested: false }, [{ functionalId: 'HS', version: '005010X279A1', build: (now, payerId) => build270({
        controlNumber: '0001', reference: request.trace.slice(0, 30), createdDate: now.compact, createdTime: now.time,
        payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
        provider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX' },
        subscriber: subscriberOf(request.member),
        serviceTypes: [request.serviceType],
        trace: request.trace.slice(0, 50),
      }) }], signal);
      return eligibilityFrom271(body, endpoint.currency ?? 'USD');
    },

    async claimStatus(request, signal) {
      const body = await exchange(endpoint, request.payer.code, { controlNumber: String(randomInt(1, 999_999_999)), acknowledgmentRequested: false }, [{ functionalId: 'HR', version: '005010X212', build: (now, payerId) => build276({
        controlNumber: '0001', reference: `STATUS${now.time}`, createdDate: now.compact, createdTime: now.time,
        payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
        submitter: { name: 'CAREGRAPH', id: SENDER_ID, idQualifier: '46' },
        provider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX' },
        claims: request.claims.map((claim) => ({
          patientControlNumber: claim.claimId, payerClaimNumber: claim.payerClaimNumber, totalCharge: claim.totalCharge, subscriber: subscriberOf(claim.member),
          serviceDates: claim.serviceDates.from === claim.serviceDates.to ? compactDate(claim.serviceDates.from) : `${compactDate(claim.serviceDates.from)}-${compactDate(claim.serviceDates.to)}`,
        })),
      }) }], signal);
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

    async submitAppeal(request) {
      // X12 has no appeal transaction: appeals go through the payer's own channel.
      throw new PayerUnavailable(request.payer.code, 'NOT_SUPPORTED', `Payer ${request.payer.code} takes appeals only through its own channel (X12 has no appeal transaction)`);
    },

    async submitClaims(request, signal) {
      // One interchange: a functional group per kind present (837P and 837I are two implementation guides).
      const professional = request.claims.filter((claim) => claim.kind === 'PROFESSIONAL');
      const institutional = request.claims.filter((claim) => claim.kind === 'INSTITUTIONAL');
      const header = (now: { compact: string; time: string }, payerId: string) => ({
        controlNumber: '0001', reference: request.controlNumber, createdDate: now.compact, createdTime: now.time,
        submitter: { name: 'CAREGRAPH', id: SENDER_ID, idQualifier: '46', contactName: 'BILLING', contactEmail: 'billing@caregraph.example.invalid' },
        receiver: { name: request.payer.name, id: payerId, idQualifier: '46' },
        billingProvider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX', taxId: request.provider.taxId, address: { line: 'ON FILE', city: 'ON FILE', state: 'NA', postalCode: '00000' } },
      });
      const common = (claim: ClaimToSubmit, payerId: string) => ({
        claimId: claim.claimId, totalCharge: claim.totalCharge, frequency: claim.frequency,
        subscriber: subscriberOf(claim.subscriber),
        payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
        diagnoses: claim.diagnoses,
        attachments: claim.documents.map((document) => document.id),
        ...(claim.priorAuthorization ? { priorAuthorization: claim.priorAuthorization } : {}),
        ...(claim.originalPayerClaimNumber ? { originalReference: claim.originalPayerClaimNumber } : {}),
      });
      const groups: Array<Group & { claimIds: string[] }> = [];
      if (professional.length) {
        groups.push({ functionalId: 'HC', version: '005010X222A1', claimIds: professional.map((claim) => claim.claimId), build: (now, payerId) => build837P({
          ...header(now, payerId),
          claims: professional.map((claim) => ({
            ...common(claim, payerId), placeOfService: claim.placeOfService,
            lines: claim.lines.map((line) => ({ procedureCode: line.procedureCode, modifiers: line.modifiers, charge: line.charge, units: String(line.units), diagnosisPointers: line.diagnosisPointers, serviceDate: compactDate(line.serviceDate) })),
          })),
        }) });
      }
      if (institutional.length) {
        groups.push({ functionalId: 'HC', version: '005010X223A2', claimIds: institutional.map((claim) => claim.claimId), build: (now, payerId) => build837I({
          ...header(now, payerId),
          claims: institutional.map((claim) => {
            const details = claim.institutional as InstitutionalDetails;
            const dates = claim.lines.map((line) => compactDate(line.serviceDate)).sort();
            return {
              ...common(claim, payerId),
              facilityType: details.facilityType, dischargeStatus: details.dischargeStatus, attending: details.attending,
              statementFrom: dates[0] as string, statementTo: dates.at(-1) as string,
              ...(details.admission ? { admission: { at: compactDate(details.admission.at.slice(0, 10)) + details.admission.at.slice(11, 16).replace(':', ''), type: details.admission.type, source: details.admission.source } } : {}),
              lines: claim.lines.map((line) => ({ revenueCode: line.revenueCode ?? '', procedureCode: line.procedureCode, modifiers: line.modifiers, charge: line.charge, units: String(line.units), serviceDate: compactDate(line.serviceDate) })),
            };
          }),
        }) });
      }
      const body = await exchange(endpoint, request.payer.code, { controlNumber: request.controlNumber, acknowledgmentRequested: true }, groups, signal);
      return acknowledgmentsFrom(body, groups.map((group, index) => ({ controlNumber: groupControlNumber(request.controlNumber, index), claimIds: group.claimIds })));
    },
  };
}

/** One functional group of an interchange we send: its transaction set, built with the envelope's date and the payer's id. */
interface Group {
  functionalId: string;
  version: string;
  build: (stamp: { compact: string; time: string }, payerId: string) => TransactionSpec;
}

/** GS06 of the interchange's groups: the first is the interchange's own number, the next ones follow it. */
const groupControlNumber = (controlNumber: string, index: number): string => String(((Number(controlNumber) - 1 + index) % 999_999_999) + 1);

/**
 * What the payer said of each claim: the 999 for each functional group sent (R rejects every
 * claim in it), then the 277CA per claim, matched by the patient control number (our claim id)
 * it echoes. A group or a claim the answer does not mention is a malformed answer: nothing is assumed.
 */
export function acknowledgmentsFrom(text: string, groups: Array<{ controlNumber: string; claimIds: string[] }>): ClaimAcknowledgment[] {
  const views = viewsOf(text, 'acknowledgment');
  const functionals = views.filter((view): view is AcknowledgmentView => view.kind === 'acknowledgment');
  if (functionals.length === 0) throw new MalformedAnswer('the answer holds no 999');
  const report = views.find((view): view is StatusView => view.kind === 'status' && view.direction === 'acknowledgment');
  const byClaim = new Map<string, StatusView['levels'][number]>();
  for (const level of report?.levels ?? []) for (const trace of level.traces) if (level.statuses.length > 0) byClaim.set(trace, level);
  return groups.flatMap((group) => {
    // A single group's 999 may not echo its number (older payers answer AK1 with their own); with one group there is no doubt which it is.
    const functional = functionals.find((candidate) => candidate.group.controlNumber === group.controlNumber) ?? (groups.length === 1 ? functionals[0] : undefined);
    if (!functional) throw new MalformedAnswer(`the answer holds no 999 for group ${group.controlNumber}`);
    const code = functional.transactions[0]?.code;
    if (code === 'R' || code === undefined) {
      const reason = functional.transactions[0]?.errors.map((error) => `999 ${error.segmentId} ${error.code}`)[0] ?? '999 R';
      return group.claimIds.map((claimId) => ({ claimId, accepted: false, payerClaimNumber: null, reasons: [reason] }));
    }
    if (!report) throw new MalformedAnswer('the answer holds no 277CA');
    return group.claimIds.map((claimId) => {
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
 * One exchange with the payer's real-time endpoint: our transaction sets in an interchange
 * addressed to the payer (a functional group each, control numbers from the interchange's),
 * POSTed to `{baseUrl}/x12`; the answer's text.
 */
async function exchange(endpoint: PayerEndpoint, payerCode: string, envelope: { controlNumber: string; acknowledgmentRequested: boolean }, groups: Group[], signal: AbortSignal): Promise<string> {
  const now = stamp(new Date());
  const payerId = endpoint.payerId ?? payerCode;
  const interchange = generateInterchange({
    sender: { qualifier: 'ZZ', id: SENDER_ID }, receiver: { qualifier: 'ZZ', id: payerId.slice(0, 15) },
    date: now.compact.slice(2), time: now.time, controlNumber: envelope.controlNumber, usage: 'P', acknowledgmentRequested: envelope.acknowledgmentRequested,
    groups: groups.map((group, index) => ({
      functionalId: group.functionalId, senderCode: SENDER_ID, receiverCode: payerId, date: now.compact, time: now.time,
      controlNumber: groupControlNumber(envelope.controlNumber, index), version: group.version, transactions: [group.build(now, payerId)],
    })),
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
