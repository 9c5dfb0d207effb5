import { hierarchical, type HierarchyNode, type SegmentSpec, type TransactionSpec } from './generate.js';

/**
 * Transaction sets built from plain data, as CareGraph sends them (837P claims, 270
 * eligibility inquiries) and as payers answer (835 remittance; the local payer fakes use it).
 * Amounts are exact decimals as strings ("120.50"); dates are CCYYMMDD.
 */

export interface Person {
  lastName: string;
  firstName: string;
  memberId: string;
  birthDate?: string;
  /** M, F or U. */
  gender?: string;
}

export interface Organization {
  name: string;
  /** NM109, with NM108 `idQualifier` (XX NPI, PI payer id, 46 ETIN, FI tax id). */
  id: string;
  idQualifier: string;
}

/** What every claim of an 837 shares, professional or institutional. */
interface ClaimCommon {
  claimId: string;
  totalCharge: string;
  /** CLM05-3: 1 original, 7 replacement (a corrected claim), 8 void. */
  frequency: string;
  subscriber: Person;
  payer: Organization;
  /** ICD-10: the first is principal (ABK), the rest ABF. */
  diagnoses: string[];
  priorAuthorization?: string;
  /** The payer's claim number of the claim this one replaces (frequency 7 or 8). */
  originalReference?: string;
  /**
   * Attachment control numbers of supporting documents (PWK, report type OZ support data),
   * kept by the provider and sent on request (transmission code AA).
   */
  attachments?: string[];
}

export interface ProfessionalClaim extends ClaimCommon {
  /** CLM05-1 place of service (11 office, 02 telehealth…). */
  placeOfService: string;
  lines: Array<{ procedureCode: string; modifiers?: string[]; charge: string; units: string; diagnosisPointers: number[]; serviceDate: string }>;
}

export interface InstitutionalClaim extends ClaimCommon {
  /** CLM05-1 facility type code, the first two digits of the bill type (11 hospital inpatient, 13 outpatient…). */
  facilityType: string;
  /** DTP*434, CCYYMMDD: the period the claim covers. */
  statementFrom: string;
  statementTo: string;
  /** DTP*435 admission date and hour (CCYYMMDDHHMM) and CL1 admission type and source (inpatient claims). */
  admission?: { at: string; type: string; source: string };
  /** CL103 patient status (01 discharged home, 30 still a patient…). */
  dischargeStatus: string;
  /** Loop 2310A NM1*71: the attending provider. */
  attending: { lastName: string; firstName: string; npi: string };
  lines: Array<{ revenueCode: string; procedureCode?: string; modifiers?: string[]; charge: string; units: string; serviceDate: string }>;
}

export interface ClaimBatch<C> {
  controlNumber: string;
  reference: string;
  createdDate: string;
  createdTime: string;
  submitter: Organization & { contactName: string; contactEmail: string };
  receiver: Organization;
  billingProvider: Organization & { taxId: string; address: { line: string; city: string; state: string; postalCode: string } };
  claims: C[];
}

/** An 837P (005010X222A1): one billing provider, a subscriber level per claim. */
export function build837P(batch: ClaimBatch<ProfessionalClaim>): TransactionSpec {
  return build837(batch, '005010X222A1', (claim) => [
    ['CLM', claim.claimId, claim.totalCharge, '', '', [claim.placeOfService, 'B', claim.frequency], 'Y', 'A', 'Y', 'Y'],
    ...paperwork(claim),
    ...references(claim),
    ['HI', ...claim.diagnoses.map((code, index) => [index === 0 ? 'ABK' : 'ABF', code.replace('.', '')])],
    ...claim.lines.flatMap((line, index): SegmentSpec[] => [
      ['LX', String(index + 1)],
      ['SV1', ['HC', line.procedureCode, ...(line.modifiers ?? [])], line.charge, 'UN', line.units, '', '', line.diagnosisPointers.map(String)],
      ['DTP', '472', 'D8', line.serviceDate],
    ]),
  ]);
}

/**
 * An 837I (005010X223A2): the claim's statement period, admission and discharge (DTP 434/435,
 * CL1), its diagnoses, the attending provider (2310A) and revenue-coded lines (SV2).
 */
export function build837I(batch: ClaimBatch<InstitutionalClaim>): TransactionSpec {
  return build837(batch, '005010X223A2', (claim) => [
    // CLM07 provider accepts assignment, CLM08 benefits assigned, CLM09 release of information.
    ['CLM', claim.claimId, claim.totalCharge, '', '', [claim.facilityType, 'A', claim.frequency], '', 'A', 'Y', 'Y'],
    ['DTP', '434', 'RD8', `${claim.statementFrom}-${claim.statementTo}`],
    ...(claim.admission ? [['DTP', '435', 'DT', claim.admission.at] as SegmentSpec] : []),
    ['CL1', claim.admission?.type ?? '', claim.admission?.source ?? '', claim.dischargeStatus],
    ...paperwork(claim),
    ...references(claim),
    ['HI', ...claim.diagnoses.map((code, index) => [index === 0 ? 'ABK' : 'ABF', code.replace('.', '')])],
    nm1('71', '1', claim.attending.lastName, claim.attending.firstName, 'XX', claim.attending.npi),
    ...claim.lines.flatMap((line, index): SegmentSpec[] => [
      ['LX', String(index + 1)],
      ['SV2', line.revenueCode, line.procedureCode ? ['HC', line.procedureCode, ...(line.modifiers ?? [])] : '', line.charge, 'UN', line.units],
      ['DTP', '472', 'D8', line.serviceDate],
    ]),
  ]);
}

const paperwork = (claim: ClaimCommon): SegmentSpec[] => (claim.attachments ?? []).map((control) => ['PWK', 'OZ', 'AA', '', '', 'AC', control]);

const references = (claim: ClaimCommon): SegmentSpec[] => [
  ...(claim.originalReference ? [['REF', 'F8', claim.originalReference] as SegmentSpec] : []),
  ...(claim.priorAuthorization ? [['REF', 'G1', claim.priorAuthorization] as SegmentSpec] : []),
];

/** The 837 around the claims: submitter, receiver, the billing provider (HL 20) and a subscriber level (HL 22, the patient) per claim. */
function build837<C extends ClaimCommon>(batch: ClaimBatch<C>, implementation: string, claimSegments: (claim: C) => SegmentSpec[]): TransactionSpec {
  const provider = batch.billingProvider;
  const subscribers: HierarchyNode[] = batch.claims.map((claim) => ({
    levelCode: '22',
    segments: [
      // Subscriber is the patient (SBR02 18 self): no patient level below.
      ['SBR', 'P', '18', '', '', '', '', '', '', 'CI'],
      nm1('IL', '1', claim.subscriber.lastName, claim.subscriber.firstName, 'MI', claim.subscriber.memberId),
      ...(claim.subscriber.birthDate ? [['DMG', 'D8', claim.subscriber.birthDate, claim.subscriber.gender ?? 'U'] as SegmentSpec] : []),
      nm1('PR', '2', claim.payer.name, '', 'PI', claim.payer.id),
      ...claimSegments(claim),
    ],
  }));
  return {
    type: '837',
    controlNumber: batch.controlNumber,
    implementation,
    body: [
      ['BHT', '0019', '00', batch.reference, batch.createdDate, batch.createdTime, 'CH'],
      nm1('41', '2', batch.submitter.name, '', batch.submitter.idQualifier, batch.submitter.id),
      ['PER', 'IC', batch.submitter.contactName, 'EM', batch.submitter.contactEmail],
      nm1('40', '2', batch.receiver.name, '', batch.receiver.idQualifier, batch.receiver.id),
      ...hierarchical([{
        levelCode: '20',
        segments: [
          nm1('85', '2', provider.name, '', provider.idQualifier, provider.id),
          ['N3', provider.address.line],
          ['N4', provider.address.city, provider.address.state, provider.address.postalCode],
          ['REF', 'EI', provider.taxId],
        ],
        children: subscribers,
      }]),
    ],
  };
}

export interface EligibilityInquiry {
  controlNumber: string;
  reference: string;
  createdDate: string;
  createdTime: string;
  payer: Organization;
  provider: Organization;
  subscriber: Person;
  /** EQ01 service type codes (30 health benefit plan coverage, 98 professional visit…). */
  serviceTypes: string[];
  trace: string;
}

/** A 270 (005010X279A1) asking about one subscriber. */
export function build270(inquiry: EligibilityInquiry): TransactionSpec {
  return {
    type: '270',
    controlNumber: inquiry.controlNumber,
    implementation: '005010X279A1',
    body: [
      ['BHT', '0022', '13', inquiry.reference, inquiry.createdDate, inquiry.createdTime],
      ...chain([
        { levelCode: '20', segments: [nm1('PR', '2', inquiry.payer.name, '', inquiry.payer.idQualifier, inquiry.payer.id)] },
        { levelCode: '21', segments: [nm1('1P', '2', inquiry.provider.name, '', inquiry.provider.idQualifier, inquiry.provider.id)] },
      ], [{
        levelCode: '22',
        segments: [
          ['TRN', '1', inquiry.trace, '9CAREGRAPH'],
          nm1('IL', '1', inquiry.subscriber.lastName, inquiry.subscriber.firstName, 'MI', inquiry.subscriber.memberId),
          ...(inquiry.subscriber.birthDate ? [['DMG', 'D8', inquiry.subscriber.birthDate] as SegmentSpec] : []),
          ['DTP', '291', 'D8', inquiry.createdDate],
          ['EQ', { repeated: inquiry.serviceTypes }],
        ],
      }]),
    ],
  };
}

export interface EligibilityResponse {
  controlNumber: string;
  reference: string;
  createdDate: string;
  createdTime: string;
  payer: Organization;
  provider: Organization;
  subscriber: Person;
  /** The inquiry's trace number, echoed (TRN01 2). */
  trace: string;
  benefits: Array<{
    /** EB01: 1 active, 6 inactive, A co-insurance, B co-payment, C deductible… */
    code: string;
    coverageLevel?: string;
    serviceTypes?: string[];
    insuranceType?: string;
    planDescription?: string;
    /** EB06: 23 calendar year, 29 remaining… */
    timePeriod?: string;
    amount?: string;
    /** EB08 as a fraction: 0.2 is 20 %. */
    percent?: string;
    inNetwork?: string;
    messages?: string[];
  }>;
  /** AAA at the subscriber level: the inquiry could not be answered (72 invalid member id, 75 subscriber not found…). */
  rejection?: { reason: string; followUp: string };
}

/** A 271 (005010X279A1) answering one subscriber. */
export function build271(response: EligibilityResponse): TransactionSpec {
  return {
    type: '271',
    controlNumber: response.controlNumber,
    implementation: '005010X279A1',
    body: [
      ['BHT', '0022', '11', response.reference, response.createdDate, response.createdTime],
      ...chain([
        { levelCode: '20', segments: [nm1('PR', '2', response.payer.name, '', response.payer.idQualifier, response.payer.id)] },
        { levelCode: '21', segments: [nm1('1P', '2', response.provider.name, '', response.provider.idQualifier, response.provider.id)] },
      ], [{
        levelCode: '22',
        segments: [
          ['TRN', '2', response.trace, '9CAREGRAPH'],
          nm1('IL', '1', response.subscriber.lastName, response.subscriber.firstName, 'MI', response.subscriber.memberId),
          ...(response.rejection ? [['AAA', 'N', '', response.rejection.reason, response.rejection.followUp] as SegmentSpec] : []),
          ...response.benefits.flatMap((benefit): SegmentSpec[] => [
            ['EB', benefit.code, benefit.coverageLevel ?? '', { repeated: benefit.serviceTypes ?? [] }, benefit.insuranceType ?? '', benefit.planDescription ?? '', benefit.timePeriod ?? '', benefit.amount ?? '', benefit.percent ?? '', '', '', '', benefit.inNetwork ?? ''],
            ...(benefit.messages ?? []).map((message): SegmentSpec => ['MSG', message]),
          ]),
        ],
      }]),
    ],
  };
}

export interface Remittance {
  controlNumber: string;
  paymentAmount: string;
  paymentDate: string;
  traceNumber: string;
  payer: Organization;
  payee: Organization;
  claims: Array<{
    patientControlNumber: string;
    /** CLP02: 1 processed as primary, 4 denied… */
    status: string;
    charge: string;
    paid: string;
    patientResponsibility: string;
    payerClaimControlNumber: string;
    patient: Person;
    adjustments: Array<{ group: string; reason: string; amount: string }>;
    services: Array<{ procedureCode: string; charge: string; paid: string; units: string; serviceDate: string; adjustments: Array<{ group: string; reason: string; amount: string }> }>;
  }>;
}

/** An 835 (005010X221A1) paying the claims listed. */
export function build835(remittance: Remittance): TransactionSpec {
  const cas = (adjustments: Array<{ group: string; reason: string; amount: string }>): SegmentSpec[] =>
    adjustments.map((adjustment) => ['CAS', adjustment.group, adjustment.reason, adjustment.amount]);
  return {
    type: '835',
    controlNumber: remittance.controlNumber,
    implementation: '005010X221A1',
    body: [
      ['BPR', 'I', remittance.paymentAmount, 'C', 'ACH', 'CCP', '01', '999999999', 'DA', '123456', '1512345678', '', '01', '999988880', 'DA', '98765', remittance.paymentDate],
      ['TRN', '1', remittance.traceNumber, `1${remittance.payer.id}`.slice(0, 10)],
      ['DTM', '405', remittance.paymentDate],
      ['N1', 'PR', remittance.payer.name],
      ['N1', 'PE', remittance.payee.name, remittance.payee.idQualifier, remittance.payee.id],
      ['LX', '1'],
      ...remittance.claims.flatMap((claim): SegmentSpec[] => [
        ['CLP', claim.patientControlNumber, claim.status, claim.charge, claim.paid, claim.patientResponsibility, 'MC', claim.payerClaimControlNumber, '11', '1'],
        ...cas(claim.adjustments),
        nm1('QC', '1', claim.patient.lastName, claim.patient.firstName, 'MI', claim.patient.memberId),
        ...claim.services.flatMap((service): SegmentSpec[] => [
          ['SVC', ['HC', service.procedureCode], service.charge, service.paid, '', service.units],
          ['DTM', '472', service.serviceDate],
          ...cas(service.adjustments),
        ]),
      ]),
    ],
  };
}

/**
 * The HL chain of a payer-facing transaction: each of `levels` is the only child of the one
 * before (information source 20, receiver 21, provider 19…), and the last holds `leaves`.
 */
function chain(levels: ReadonlyArray<{ levelCode: string; segments: readonly SegmentSpec[] }>, leaves: readonly HierarchyNode[]): SegmentSpec[] {
  const nest = (index: number): HierarchyNode => ({ ...(levels[index] as (typeof levels)[number]), children: index + 1 < levels.length ? [nest(index + 1)] : leaves });
  return hierarchical([nest(0)]);
}

function nm1(entity: string, kind: '1' | '2', name: string, firstName: string, idQualifier: string, id: string): SegmentSpec {
  return ['NM1', entity, kind, name, firstName, '', '', '', idQualifier, id];
}

export interface FunctionalAcknowledgment {
  controlNumber: string;
  /** The group acknowledged: GS01, GS06, GS08. */
  group: { functionalId: string; controlNumber: string; version: string };
  transactions: Array<{ type: string; controlNumber: string; implementation?: string; code: 'A' | 'E' | 'R'; errors?: Array<{ segmentId: string; position: string; code: string }> }>;
}

/** A 999 (005010X231A1): the group and each transaction set accepted, accepted with errors, or rejected. */
export function build999(ack: FunctionalAcknowledgment): TransactionSpec {
  const accepted = ack.transactions.filter((transaction) => transaction.code !== 'R').length;
  return {
    type: '999',
    controlNumber: ack.controlNumber,
    implementation: '005010X231A1',
    body: [
      ['AK1', ack.group.functionalId, ack.group.controlNumber, ack.group.version],
      ...ack.transactions.flatMap((transaction): SegmentSpec[] => [
        ['AK2', transaction.type, transaction.controlNumber, transaction.implementation ?? ''],
        ...(transaction.errors ?? []).map((error): SegmentSpec => ['IK3', error.segmentId, error.position, '', error.code]),
        ['IK5', transaction.code],
      ]),
      ['AK9', accepted === ack.transactions.length ? 'A' : accepted === 0 ? 'R' : 'P', String(ack.transactions.length), String(ack.transactions.length), String(accepted)],
    ],
  };
}

export interface ClaimAcknowledgmentReport {
  controlNumber: string;
  reference: string;
  createdDate: string;
  payer: Organization;
  submitter: Organization;
  provider: Organization;
  claims: Array<{
    /** CLM01, echoed in TRN02 at the claim level. */
    patientControlNumber: string;
    patient: { lastName: string; firstName: string; memberId: string };
    /** STC01: A1/A2 accepted, A3/A6/A7/A8 rejected; `code` the claim status code, `entity` optional. */
    category: string;
    code: string;
    charge: string;
    /** REF*1K: the payer's claim number, when accepted. */
    payerClaimNumber?: string;
  }>;
}

/** A 277CA (005010X214): each claim of an 837 accepted or rejected, by the patient control number. */
export function build277CA(report: ClaimAcknowledgmentReport): TransactionSpec {
  return {
    type: '277',
    controlNumber: report.controlNumber,
    implementation: '005010X214',
    body: [
      ['BHT', '0085', '08', report.reference, report.createdDate, '1200', 'TH'],
      ...chain([
        { levelCode: '20', segments: [nm1('PR', '2', report.payer.name, '', report.payer.idQualifier, report.payer.id), ['TRN', '1', report.reference], ['DTP', '050', 'D8', report.createdDate], ['DTP', '009', 'D8', report.createdDate]] },
        { levelCode: '21', segments: [nm1('41', '2', report.submitter.name, '', report.submitter.idQualifier, report.submitter.id), ['TRN', '2', report.reference]] },
        { levelCode: '19', segments: [nm1('85', '2', report.provider.name, '', report.provider.idQualifier, report.provider.id)] },
      ], report.claims.map((claim) => ({
        levelCode: 'PT',
        segments: [
          nm1('QC', '1', claim.patient.lastName, claim.patient.firstName, 'MI', claim.patient.memberId),
          ['TRN', '2', claim.patientControlNumber],
          ['STC', [claim.category, claim.code], report.createdDate, 'WQ', claim.charge],
          ...(claim.payerClaimNumber ? [['REF', '1K', claim.payerClaimNumber] as SegmentSpec] : []),
        ],
      }))),
    ],
  };
}

export interface StatusInquiry {
  controlNumber: string;
  reference: string;
  createdDate: string;
  createdTime: string;
  payer: Organization;
  submitter: Organization;
  provider: Organization;
  claims: Array<{
    /** CLM01 of the claim asked about, sent as TRN02. */
    patientControlNumber: string;
    payerClaimNumber: string | null;
    subscriber: Person;
    totalCharge: string;
    /** CCYYMMDD, or a range CCYYMMDD-CCYYMMDD. */
    serviceDates: string;
  }>;
}

/** A 276 (005010X212): the status of claims, one subscriber level per claim. */
export function build276(inquiry: StatusInquiry): TransactionSpec {
  return {
    type: '276',
    controlNumber: inquiry.controlNumber,
    implementation: '005010X212',
    body: [
      ['BHT', '0010', '13', inquiry.reference, inquiry.createdDate, inquiry.createdTime],
      ...chain([
        { levelCode: '20', segments: [nm1('PR', '2', inquiry.payer.name, '', inquiry.payer.idQualifier, inquiry.payer.id)] },
        { levelCode: '21', segments: [nm1('41', '2', inquiry.submitter.name, '', inquiry.submitter.idQualifier, inquiry.submitter.id)] },
        { levelCode: '19', segments: [nm1('1P', '2', inquiry.provider.name, '', inquiry.provider.idQualifier, inquiry.provider.id)] },
      ], inquiry.claims.map((claim) => ({
        levelCode: '22',
        segments: [
          ...(claim.subscriber.birthDate ? [['DMG', 'D8', claim.subscriber.birthDate] as SegmentSpec] : []),
          nm1('IL', '1', claim.subscriber.lastName, claim.subscriber.firstName, 'MI', claim.subscriber.memberId),
          ['TRN', '1', claim.patientControlNumber],
          ...(claim.payerClaimNumber ? [['REF', '1K', claim.payerClaimNumber] as SegmentSpec] : []),
          ['AMT', 'T3', claim.totalCharge],
          ['DTP', '472', claim.serviceDates.includes('-') ? 'RD8' : 'D8', claim.serviceDates],
        ],
      }))),
    ],
  };
}

export interface StatusResponse {
  controlNumber: string;
  reference: string;
  createdDate: string;
  payer: Organization;
  provider: Organization;
  claims: Array<{ patientControlNumber: string; subscriber: Person; payerClaimNumber: string | null; category: string; code: string; amount: string; message?: string; paid?: string }>;
}

/** A 277 (005010X212) answering a 276: a status (STC) per claim, matched by the TRN it echoes. */
export function build277(response: StatusResponse): TransactionSpec {
  return {
    type: '277',
    controlNumber: response.controlNumber,
    implementation: '005010X212',
    body: [
      ['BHT', '0010', '08', response.reference, response.createdDate, '1200', 'DG'],
      ...chain([
        { levelCode: '20', segments: [nm1('PR', '2', response.payer.name, '', response.payer.idQualifier, response.payer.id)] },
        { levelCode: '21', segments: [nm1('41', '2', 'CAREGRAPH', '', '46', 'CAREGRAPH')] },
        { levelCode: '19', segments: [nm1('1P', '2', response.provider.name, '', response.provider.idQualifier, response.provider.id)] },
      ], response.claims.map((claim) => ({
        levelCode: '22',
        segments: [
          nm1('IL', '1', claim.subscriber.lastName, claim.subscriber.firstName, 'MI', claim.subscriber.memberId),
          ['TRN', '2', claim.patientControlNumber],
          // STC12 is the free-text message: STC06-STC11 stay empty.
          ['STC', [claim.category, claim.code], response.createdDate, 'WQ', claim.amount, claim.paid ?? '', '', '', '', '', '', '', claim.message ?? ''],
          ...(claim.payerClaimNumber ? [['REF', '1K', claim.payerClaimNumber] as SegmentSpec] : []),
        ],
      }))),
    ],
  };
}
