import { randomInt } from 'node:crypto';
import { build270 } from '../x12/build.js';
import { generateInterchange } from '../x12/generate.js';
import { parseX12, transactionsOf } from '../x12/parse.js';
import { minorUnits, type EligibilityView } from '../x12/views.js';
import { compactDate, MalformedAnswer, payerHttp, stamp, type Benefit, type EligibilityAnswer, type PayerAdapter, type PayerEndpoint } from './payer.js';

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
      const now = stamp(new Date());
      const payerId = endpoint.payerId ?? request.payer.code;
      const interchange = generateInterchange({
        sender: { qualifier: 'ZZ', id: SENDER_ID }, receiver: { qualifier: 'ZZ', id: payerId.slice(0, 15) },
        date: now.compact.slice(2), time: now.time, controlNumber: String(randomInt(1, 999_999_999)), usage: 'P', acknowledgmentRequested: false,
        groups: [{
          functionalId: 'HS', senderCode: SENDER_ID, receiverCode: payerId, date: now.compact, time: now.time, controlNumber: '1', version: '005010X279A1',
          transactions: [build270({
            controlNumber: '0001', reference: request.trace.slice(0, 30), createdDate: now.compact, createdTime: now.time,
            payer: { name: request.payer.name, id: payerId, idQualifier: 'PI' },
            provider: { name: request.provider.name, id: request.provider.npi, idQualifier: 'XX' },
            subscriber: { lastName: request.member.lastName, firstName: request.member.firstName, memberId: request.member.memberId, ...(request.member.birthDate ? { birthDate: compactDate(request.member.birthDate) } : {}) },
            serviceTypes: [request.serviceType],
            trace: request.trace.slice(0, 50),
          })],
        }],
      });
      const { body } = await payerHttp(`${endpoint.baseUrl}/x12`, {
        method: 'POST', signal, body: interchange,
        headers: { 'content-type': 'application/edi-x12', ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}) },
      });
      return eligibilityFrom271(body, endpoint.currency ?? 'USD');
    },
  };
}

/** A 271's answer for the subscriber, amounts in minor units; a 271 that does not read is a malformed answer. */
export function eligibilityFrom271(text: string, currency: string): EligibilityAnswer {
  const document = parseX12(text);
  const firstError = document.issues.find((issue) => issue.severity === 'error');
  if (firstError) throw new MalformedAnswer(`271 ${firstError.code} at ${firstError.segmentId ?? 'the start'}${firstError.element ? ` element ${firstError.element}` : ''}`);
  const view = transactionsOf(document).map((transaction) => transaction.view).find((candidate): candidate is EligibilityView => candidate.kind === 'eligibility' && candidate.direction === 'response');
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
