import type { TransactionSet } from './envelope.js';
import { allLoops, hierarchy, segmentsOf, type Loop } from './loops.js';
import { component, components, element, repetitions, type Delimiters, type Segment, type X12Issue } from './syntax.js';

/**
 * The normalized view of each transaction type: what an integration engineer (and the payer
 * adapters) read out of it, with amounts kept as the exact decimals written (strings, never
 * floats; `minorUnits` converts them) and codes as sent.
 */
export type TransactionView = EligibilityView | ClaimsView | RemittanceView | StatusView | AcknowledgmentView | { kind: 'unknown' };

export interface Party {
  entity: string;
  name: string;
  firstName?: string;
  idQualifier?: string;
  id?: string;
}

export interface Rejection {
  loop: string;
  /** AAA03: why the request was rejected (72 invalid member id, 75 subscriber not found…). */
  reason: string;
  followUp: string;
}

export interface EligibilityView {
  kind: 'eligibility';
  direction: 'inquiry' | 'response';
  informationSource: Party | undefined;
  receiver: Party | undefined;
  subscriber: (Party & { birthDate?: string; gender?: string }) | undefined;
  dependent: Party | undefined;
  traces: string[];
  /** 270 EQ01: the service types asked about (30 health benefit plan coverage…). */
  serviceTypes: string[];
  benefits: Benefit[];
  rejections: Rejection[];
}

export interface Benefit {
  /** EB01: 1 active coverage, 6 inactive, A co-insurance, B co-payment, C deductible, F limitations, G out of pocket… */
  code: string;
  coverageLevel: string;
  serviceTypes: string[];
  insuranceType: string;
  planDescription: string;
  timePeriod: string;
  amount: string | undefined;
  /** EB08 as written: a fraction, 0.2 is 20 %. */
  percent: string | undefined;
  quantityQualifier: string;
  quantity: string | undefined;
  authorizationRequired: string;
  inNetwork: string;
  messages: string[];
  /** LS/LE 2120 loop: another party named for this benefit (a PCP, another payer). */
  relatedEntities: Party[];
}

export interface ClaimsView {
  kind: 'claims';
  variant: 'professional' | 'institutional' | 'dental' | 'unknown';
  submitter: Party | undefined;
  receiver: Party | undefined;
  billingProvider: (Party & { taxId?: string }) | undefined;
  claims: ClaimView[];
}

export interface ClaimView {
  claimId: string;
  totalCharge: string;
  facilityCode: string;
  frequency: string;
  subscriber: Party | undefined;
  patient: Party | undefined;
  payer: Party | undefined;
  diagnoses: Array<{ qualifier: string; code: string }>;
  priorAuthorization: string | undefined;
  /** REF*F8: the payer's number of the claim this one replaces or voids. */
  originalReference: string | undefined;
  /** PWK06: control numbers of the claim's attachments (paperwork sent or kept apart from the 837). */
  attachments: string[];
  lines: ClaimLineView[];
}

export interface ClaimLineView {
  lineNumber: string;
  procedure: Procedure | undefined;
  /** SV201 (institutional). */
  revenueCode: string | undefined;
  charge: string;
  unit: string;
  quantity: string;
  diagnosisPointers: string[];
  serviceDate: string | undefined;
}

export interface Procedure {
  qualifier: string;
  code: string;
  modifiers: string[];
}

export interface Adjustment {
  /** CAS01: CO contractual, PR patient responsibility, OA other, PI payer initiated, CR correction. */
  group: string;
  reason: string;
  amount: string;
  quantity: string | undefined;
}

export interface RemittanceView {
  kind: 'remittance';
  payment: { handling: string; amount: string; creditDebit: string; method: string; date: string; traceNumber: string; payerIdentifier: string };
  payer: Party | undefined;
  payee: Party | undefined;
  claims: RemittanceClaim[];
  providerAdjustments: Array<{ provider: string; date: string; reason: string; reference: string; amount: string }>;
}

export interface RemittanceClaim {
  patientControlNumber: string;
  /** CLP02: 1 processed as primary, 2 secondary, 3 tertiary, 4 denied, 19–22 forwarded/reversal, 25 predetermination. */
  status: string;
  charge: string;
  paid: string;
  patientResponsibility: string | undefined;
  filingIndicator: string;
  payerClaimControlNumber: string;
  facilityCode: string;
  frequency: string;
  patient: Party | undefined;
  adjustments: Adjustment[];
  services: Array<{ procedure: Procedure | undefined; charge: string; paid: string; revenueCode: string; units: string; serviceDate: string | undefined; adjustments: Adjustment[]; remarks: string[] }>;
}

export interface StatusView {
  kind: 'status';
  direction: 'request' | 'response' | 'acknowledgment';
  levels: Array<{ loop: string; levelCode: string; entity: Party | undefined; traces: string[]; references: Array<{ qualifier: string; value: string }>; statuses: ClaimStatus[]; amount: string | undefined }>;
}

export interface ClaimStatus {
  /** STC01-1: A1 acknowledged, A2 accepted, A3/A7 rejected, P pending, F finalized… */
  category: string;
  code: string;
  entity: string;
  date: string;
  action: string;
  amount: string | undefined;
  message: string;
  /** STC10 / STC11: further statuses in the same segment. */
  more: Array<{ category: string; code: string; entity: string }>;
}

export interface AcknowledgmentView {
  kind: 'acknowledgment';
  group: { functionalId: string; controlNumber: string; version: string };
  transactions: Array<{
    type: string;
    controlNumber: string;
    /** IK501: A accepted, E accepted with errors, R rejected, M/W/X rejected for other reasons. */
    code: string;
    errors: Array<{ segmentId: string; position: string; loop: string; code: string; elements: Array<{ position: string; reference: string; code: string; badValue: string }> }>;
  }>;
  /** AK901 for the group, then transaction sets included, received, accepted. */
  groupCode: string;
  counts: { included: string; received: string; accepted: string };
}

export function viewOf(transaction: TransactionSet, loops: Loop, delimiters: Delimiters, issues: X12Issue[]): TransactionView {
  const read = new Reader(delimiters, issues);
  switch (transaction.type) {
    case '270':
    case '271':
      return read.eligibility(transaction.type, loops);
    case '837':
      return read.claims(transaction.implementation, loops);
    case '835':
      return read.remittance(loops);
    case '276':
    case '277':
      return read.status(transaction.type, transaction.implementation, loops);
    case '999':
      return read.acknowledgment(loops);
    default:
      return { kind: 'unknown' };
  }
}

class Reader {
  constructor(private readonly delimiters: Delimiters, private readonly issues: X12Issue[]) {}

  eligibility(type: '270' | '271', root: Loop): EligibilityView {
    const levels = hierarchy(root);
    const partyAt = (levelCode: string): Party | undefined => {
      const level = levels.find((candidate) => candidate.levelCode === levelCode);
      const name = level?.loop.loops[0]?.segments.find((segment) => segment.id === 'NM1');
      return name ? this.party(name) : undefined;
    };
    const subscriberLevel = levels.find((level) => level.levelCode === '22');
    const subscriberLoop = subscriberLevel?.loop.loops.find((loop) => loop.id === '2100C');
    const demographics = subscriberLoop?.segments.find((segment) => segment.id === 'DMG');
    const subscriber = partyAt('22');
    const benefits: Benefit[] = [];
    const serviceTypes: string[] = [];
    for (const loop of allLoops(root)) {
      if (loop.id !== '2110C' && loop.id !== '2110D') continue;
      const trigger = loop.segments[0] as Segment;
      if (trigger.id === 'EQ') serviceTypes.push(...repetitions(trigger, 1, this.delimiters));
      if (trigger.id !== 'EB') continue;
      benefits.push({
        code: element(trigger, 1),
        coverageLevel: element(trigger, 2),
        serviceTypes: repetitions(trigger, 3, this.delimiters),
        insuranceType: element(trigger, 4),
        planDescription: element(trigger, 5),
        timePeriod: element(trigger, 6),
        amount: this.optionalAmount(trigger, 7),
        percent: this.optionalAmount(trigger, 8),
        quantityQualifier: element(trigger, 9),
        quantity: element(trigger, 10) || undefined,
        authorizationRequired: element(trigger, 11),
        inNetwork: element(trigger, 12),
        messages: loop.segments.filter((segment) => segment.id === 'MSG').map((segment) => element(segment, 1)),
        relatedEntities: loop.loops.flatMap((related) => related.segments.filter((segment) => segment.id === 'NM1').map((segment) => this.party(segment))),
      });
    }
    return {
      kind: 'eligibility',
      direction: type === '270' ? 'inquiry' : 'response',
      informationSource: partyAt('20'),
      receiver: partyAt('21'),
      subscriber: subscriber && {
        ...subscriber,
        ...(demographics ? { birthDate: element(demographics, 2), gender: element(demographics, 3) } : {}),
      },
      dependent: partyAt('23'),
      traces: (subscriberLevel ? segmentsOf(subscriberLevel.loop) : []).filter((segment) => segment.id === 'TRN').map((segment) => element(segment, 2)),
      serviceTypes,
      benefits,
      rejections: this.rejections(root),
    };
  }

  claims(implementation: string, root: Loop): ClaimsView {
    const header = root.loops.filter((loop) => loop.id.startsWith('1000'));
    const levels = hierarchy(root);
    const byId = new Map(levels.map((level) => [level.id, level]));
    const billing = levels.find((level) => level.levelCode === '20');
    const billingName = billing?.loop.loops.find((loop) => loop.id === '2010AA');
    const claims: ClaimView[] = [];
    for (const level of levels) {
      for (const claimLoop of level.loop.loops.filter((loop) => loop.id === '2300')) {
        // The subscriber is this level (2000B) or, for a patient level (2000C), its parent.
        const subscriberLevel = level.levelCode === '22' ? level : byId.get(level.parentId);
        const patientLevel = level.levelCode === '23' ? level : undefined;
        claims.push(this.claim(claimLoop, subscriberLevel?.loop, patientLevel?.loop));
      }
    }
    const name = (loop: Loop | undefined): Party | undefined => {
      const segment = loop?.segments.find((candidate) => candidate.id === 'NM1');
      return segment ? this.party(segment) : undefined;
    };
    const taxId = billingName?.segments.find((segment) => segment.id === 'REF' && element(segment, 1) === 'EI');
    const billingProvider = name(billingName);
    return {
      kind: 'claims',
      variant: implementation.includes('X222') ? 'professional' : implementation.includes('X223') ? 'institutional' : implementation.includes('X224') ? 'dental' : 'unknown',
      submitter: name(header.find((loop) => loop.id === '1000A')),
      receiver: name(header.find((loop) => loop.id === '1000B')),
      billingProvider: billingProvider && { ...billingProvider, ...(taxId ? { taxId: element(taxId, 2) } : {}) },
      claims,
    };
  }

  private claim(loop: Loop, subscriberLoop: Loop | undefined, patientLoop: Loop | undefined): ClaimView {
    const clm = loop.segments[0] as Segment;
    const named = (level: Loop | undefined, id: string): Party | undefined => {
      const found = level?.loops.find((child) => child.id === id)?.segments[0];
      return found ? this.party(found) : undefined;
    };
    const diagnoses: Array<{ qualifier: string; code: string }> = [];
    for (const hi of loop.segments.filter((segment) => segment.id === 'HI')) {
      for (let n = 1; n < hi.elements.length; n++) {
        const [qualifier = '', code = ''] = components(hi, n, this.delimiters);
        if (qualifier === '' && code === '') continue;
        const next = element(hi, n + 1);
        if (code === '' && next !== '' && !next.includes(this.delimiters.component)) {
          // Some senders write the qualifier and the code as two elements (HI*BK*8901) instead of one composite (HI*BK:8901).
          this.issues.push({ severity: 'warning', code: 'SPLIT_COMPOSITE', message: `HI${pad(n)} "${qualifier}" and HI${pad(n + 1)} "${next}" should be one composite; read as ${qualifier}${this.delimiters.component}${next}`, segmentId: 'HI', element: n, position: hi.position });
          diagnoses.push({ qualifier, code: next });
          n++;
          continue;
        }
        diagnoses.push({ qualifier, code });
      }
    }
    const authorization = loop.segments.find((segment) => segment.id === 'REF' && element(segment, 1) === 'G1');
    const original = loop.segments.find((segment) => segment.id === 'REF' && element(segment, 1) === 'F8');
    return {
      claimId: element(clm, 1),
      totalCharge: this.amount(clm, 2),
      facilityCode: component(clm, 5, 1, this.delimiters),
      frequency: component(clm, 5, 3, this.delimiters),
      subscriber: named(subscriberLoop, '2010BA'),
      patient: named(patientLoop, '2010CA'),
      payer: named(subscriberLoop, '2010BB'),
      diagnoses,
      priorAuthorization: authorization ? element(authorization, 2) : undefined,
      originalReference: original ? element(original, 2) : undefined,
      attachments: loop.segments.filter((segment) => segment.id === 'PWK' && element(segment, 6) !== '').map((segment) => element(segment, 6)),
      lines: loop.loops.filter((child) => child.id === '2400').map((line) => this.claimLine(line)),
    };
  }

  private claimLine(loop: Loop): ClaimLineView {
    const lx = loop.segments[0] as Segment;
    const service = loop.segments.find((segment) => segment.id === 'SV1' || segment.id === 'SV2' || segment.id === 'SV3');
    const date = loop.segments.find((segment) => segment.id === 'DTP' && element(segment, 1) === '472');
    if (!service) {
      this.issue(lx, 'MISSING_SERVICE', `service line ${element(lx, 1)} has no SV1, SV2 or SV3`);
      return { lineNumber: element(lx, 1), procedure: undefined, revenueCode: undefined, charge: '0', unit: '', quantity: '', diagnosisPointers: [], serviceDate: date ? element(date, 3) : undefined };
    }
    const institutional = service.id === 'SV2';
    // SV2 shifts the procedure one element right, after the revenue code.
    const base = institutional ? 2 : 1;
    return {
      lineNumber: element(lx, 1),
      procedure: this.procedure(service, base),
      revenueCode: institutional ? element(service, 1) : undefined,
      charge: this.amount(service, base + 1),
      unit: element(service, base + 2),
      quantity: element(service, base + 3),
      diagnosisPointers: institutional ? [] : components(service, 7, this.delimiters),
      serviceDate: date ? element(date, 3) : undefined,
    };
  }

  remittance(root: Loop): RemittanceView {
    const bpr = root.segments.find((segment) => segment.id === 'BPR');
    const trn = root.segments.find((segment) => segment.id === 'TRN');
    const n1 = (id: string): Party | undefined => {
      const segment = root.loops.find((loop) => loop.id === id)?.segments[0];
      return segment ? { entity: element(segment, 1), name: element(segment, 2), ...(element(segment, 4) ? { idQualifier: element(segment, 3), id: element(segment, 4) } : {}) } : undefined;
    };
    if (!bpr) this.issues.push({ severity: 'error', code: 'MISSING_BPR', message: 'the 835 has no BPR (financial information)', segmentId: 'BPR' });
    const claims: RemittanceClaim[] = [];
    for (const loop of allLoops(root)) {
      if (loop.id !== '2100') continue;
      const clp = loop.segments[0] as Segment;
      const patient = loop.segments.find((segment) => segment.id === 'NM1' && element(segment, 1) === 'QC');
      claims.push({
        patientControlNumber: element(clp, 1),
        status: element(clp, 2),
        charge: this.amount(clp, 3),
        paid: this.amount(clp, 4),
        patientResponsibility: this.optionalAmount(clp, 5),
        filingIndicator: element(clp, 6),
        payerClaimControlNumber: element(clp, 7),
        facilityCode: element(clp, 8),
        frequency: element(clp, 9),
        patient: patient ? this.party(patient) : undefined,
        adjustments: this.adjustments(loop.segments),
        services: loop.loops.filter((child) => child.id === '2110').map((service) => {
          const svc = service.segments[0] as Segment;
          const date = service.segments.find((segment) => segment.id === 'DTM' && (element(segment, 1) === '472' || element(segment, 1) === '150'));
          return {
            procedure: this.procedure(svc, 1),
            charge: this.amount(svc, 2),
            paid: this.amount(svc, 3),
            revenueCode: element(svc, 4),
            units: element(svc, 5) || '1',
            serviceDate: date ? element(date, 2) : undefined,
            adjustments: this.adjustments(service.segments),
            remarks: service.segments.filter((segment) => segment.id === 'LQ').map((segment) => `${element(segment, 1)}:${element(segment, 2)}`),
          };
        }),
      });
    }
    const plb = root.loops.filter((loop) => loop.id === 'summary').flatMap((loop) => loop.segments.filter((segment) => segment.id === 'PLB'));
    return {
      kind: 'remittance',
      payment: {
        handling: bpr ? element(bpr, 1) : '',
        amount: bpr ? this.amount(bpr, 2) : '0',
        creditDebit: bpr ? element(bpr, 3) : '',
        method: bpr ? element(bpr, 4) : '',
        date: bpr ? element(bpr, 16) : '',
        traceNumber: trn ? element(trn, 2) : '',
        payerIdentifier: trn ? element(trn, 3) : '',
      },
      payer: n1('1000A'),
      payee: n1('1000B'),
      claims,
      providerAdjustments: plb.flatMap((segment) => {
        const adjustments: RemittanceView['providerAdjustments'] = [];
        // PLB03/04, 05/06 … 13/14: reason:reference then amount.
        for (let n = 3; n + 1 < segment.elements.length; n += 2) {
          if (!element(segment, n)) continue;
          adjustments.push({ provider: element(segment, 1), date: element(segment, 2), reason: component(segment, n, 1, this.delimiters), reference: component(segment, n, 2, this.delimiters), amount: this.amount(segment, n + 1) });
        }
        return adjustments;
      }),
    };
  }

  status(type: '276' | '277', implementation: string, root: Loop): StatusView {
    return {
      kind: 'status',
      direction: type === '276' ? 'request' : implementation.includes('X214') ? 'acknowledgment' : 'response',
      levels: hierarchy(root).map((level) => {
        const segments = segmentsOf(level.loop);
        const name = segments.find((segment) => segment.id === 'NM1');
        const amount = segments.find((segment) => segment.id === 'AMT');
        return {
          loop: level.loop.id,
          levelCode: level.levelCode,
          entity: name ? this.party(name) : undefined,
          traces: segments.filter((segment) => segment.id === 'TRN').map((segment) => element(segment, 2)),
          references: segments.filter((segment) => segment.id === 'REF').map((segment) => ({ qualifier: element(segment, 1), value: element(segment, 2) })),
          statuses: segments.filter((segment) => segment.id === 'STC').map((segment) => this.claimStatus(segment)),
          amount: amount ? this.amount(amount, 2) : undefined,
        };
      }),
    };
  }

  private claimStatus(stc: Segment): ClaimStatus {
    const status = (n: number) => ({ category: component(stc, n, 1, this.delimiters), code: component(stc, n, 2, this.delimiters), entity: component(stc, n, 3, this.delimiters) });
    return {
      ...status(1),
      date: element(stc, 2),
      action: element(stc, 3),
      amount: this.optionalAmount(stc, 4),
      message: element(stc, 12),
      more: [10, 11].filter((n) => element(stc, n) !== '').map(status),
    };
  }

  acknowledgment(root: Loop): AcknowledgmentView {
    const ak1 = root.segments.find((segment) => segment.id === 'AK1');
    const ak9 = root.loops.find((loop) => loop.id === 'summary')?.segments[0];
    return {
      kind: 'acknowledgment',
      group: { functionalId: ak1 ? element(ak1, 1) : '', controlNumber: ak1 ? element(ak1, 2) : '', version: ak1 ? element(ak1, 3) : '' },
      transactions: root.loops.filter((loop) => loop.id === '2000').map((loop) => {
        const ak2 = loop.segments[0] as Segment;
        const ik5 = segmentsOf(loop).find((segment) => segment.id === 'IK5');
        return {
          type: element(ak2, 1),
          controlNumber: element(ak2, 2),
          code: ik5 ? element(ik5, 1) : '',
          errors: loop.loops.filter((child) => child.id === '2100').map((error) => {
            const ik3 = error.segments[0] as Segment;
            return {
              segmentId: element(ik3, 1),
              position: element(ik3, 2),
              loop: element(ik3, 3),
              code: element(ik3, 4),
              elements: error.loops.map((child) => {
                const ik4 = child.segments[0] as Segment;
                return { position: component(ik4, 1, 1, this.delimiters), reference: element(ik4, 2), code: element(ik4, 3), badValue: element(ik4, 4) };
              }),
            };
          }),
        };
      }),
      groupCode: ak9 ? element(ak9, 1) : '',
      counts: { included: ak9 ? element(ak9, 2) : '', received: ak9 ? element(ak9, 3) : '', accepted: ak9 ? element(ak9, 4) : '' },
    };
  }

  private rejections(root: Loop): Rejection[] {
    const found: Rejection[] = [];
    for (const loop of allLoops(root)) {
      for (const segment of loop.segments) {
        if (segment.id === 'AAA') found.push({ loop: loop.id, reason: element(segment, 3), followUp: element(segment, 4) });
      }
    }
    return found;
  }

  private party(nm1: Segment): Party {
    return {
      entity: element(nm1, 1),
      name: element(nm1, 3),
      ...(element(nm1, 4) ? { firstName: element(nm1, 4) } : {}),
      ...(element(nm1, 9) ? { idQualifier: element(nm1, 8), id: element(nm1, 9) } : {}),
    };
  }

  private procedure(segment: Segment, n: number): Procedure | undefined {
    const [qualifier = '', code = '', ...modifiers] = components(segment, n, this.delimiters);
    return code || qualifier ? { qualifier, code, modifiers: modifiers.filter((modifier) => modifier !== '') } : undefined;
  }

  private adjustments(segments: Segment[]): Adjustment[] {
    const adjustments: Adjustment[] = [];
    for (const cas of segments.filter((segment) => segment.id === 'CAS')) {
      // CAS02/03/04, then up to five more reason / amount / quantity triples.
      for (let n = 2; n < cas.elements.length; n += 3) {
        if (!element(cas, n)) continue;
        adjustments.push({ group: element(cas, 1), reason: element(cas, n), amount: this.amount(cas, n + 1), quantity: element(cas, n + 2) || undefined });
      }
    }
    return adjustments;
  }

  /** A monetary or decimal element exactly as written (validated), '0' when empty. */
  private amount(segment: Segment, n: number): string {
    return this.optionalAmount(segment, n) ?? '0';
  }

  private optionalAmount(segment: Segment, n: number): string | undefined {
    const written = element(segment, n);
    if (written === '') return undefined;
    if (!DECIMAL.test(written)) {
      this.issue(segment, 'BAD_DECIMAL', `${segment.id}${pad(n)} "${written}" is not a decimal number`, n);
      return undefined;
    }
    return written;
  }

  private issue(segment: Segment, code: string, message: string, elementNumber?: number): void {
    this.issues.push({ severity: 'error', code, message, segmentId: segment.id, ...(elementNumber ? { element: elementNumber } : {}), position: segment.position });
  }
}

const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * An X12 decimal amount in minor units (cents, kobo): exact, from the digits, never through a
 * float. More than two decimal places is refused (no currency here has them).
 */
export function minorUnits(amount: string): bigint {
  if (!DECIMAL.test(amount)) throw new RangeError(`"${amount}" is not a decimal amount`);
  const negative = amount.startsWith('-');
  const [whole = '', fraction = ''] = (negative ? amount.slice(1) : amount).split('.');
  if (fraction.length > 2 && /[1-9]/.test(fraction.slice(2))) throw new RangeError(`"${amount}" has more than two decimal places`);
  const minor = BigInt(whole || '0') * 100n + BigInt((fraction + '00').slice(0, 2));
  return negative ? -minor : minor;
}

/** Minor units back to an X12 decimal: no trailing zeros past the point, as X12's R type prefers. */
export function decimalFromMinor(minor: bigint): string {
  const negative = minor < 0n;
  const absolute = negative ? -minor : minor;
  const whole = absolute / 100n;
  const cents = absolute % 100n;
  const text = cents === 0n ? `${whole}` : `${whole}.${String(cents).padStart(2, '0').replace(/0$/, '')}`;
  return negative ? `-${text}` : text;
}

/** Minor units as a decimal with both places written ("25000.50"), as FHIR Money keeps its precision. */
export function fixedDecimalFromMinor(minor: bigint): string {
  const negative = minor < 0n;
  const absolute = negative ? -minor : minor;
  const text = `${absolute / 100n}.${String(absolute % 100n).padStart(2, '0')}`;
  return negative ? `-${text}` : text;
}
