import type { AckCode } from './ack.js';
import { component, headerOf, rawField, repetitions, structuralIssues, value, type Hl7Issue, type Hl7Message, type Hl7Segment, type MessageHeader } from './parse.js';

/**
 * The typed view of an ORU^R01 (an unsolicited observation result): the patient (PID), each
 * order (ORC/OBR) with its observations (OBX) and notes (NTE). Values stay as written — a
 * numeric result is the decimal string the lab sent, a structured numeric (SN) keeps its
 * comparator — so nothing is lost through a float. Problems that make the result unusable
 * (no patient identifier, no observation, a numeric value that is not a number) are issues
 * with their location; the transports answer them with AE.
 */
export interface CodedValue {
  code: string;
  text: string;
  system: string;
  /** The alternate coding (components 4-6), often LOINC beside a local code. */
  alternate: { code: string; text: string; system: string } | null;
}

export interface PatientIdentifier {
  id: string;
  /** PID-3.4, the namespace: an MRN is unique within it. */
  authority: string;
  /** PID-3.5: MR medical record number, PI patient internal id… */
  type: string;
}

export interface ResultPatient {
  identifiers: PatientIdentifier[];
  family: string;
  given: string;
  /** YYYYMMDD as written (or shorter). */
  birthDate: string;
  sex: string;
}

export interface ResultObservation {
  setId: string;
  /** NM, ST, TX, CWE, CE, SN… */
  valueType: string;
  code: CodedValue;
  /** The value as written and decoded; for SN the joined form (">200", "1:128", "2-5"). */
  value: string;
  /** NM and SN: the number as written (decimal string), null otherwise or when SN is a ratio/range. */
  numeric: string | null;
  /** SN: <, >, <=, >=, = or <>. */
  comparator: string | null;
  /** CWE/CE values: the coded answer. */
  coded: CodedValue | null;
  units: { code: string; text: string; system: string } | null;
  referenceRange: string;
  /** OBX-8, each repetition: L, H, LL, HH, N, A, AA… */
  flags: string[];
  /** OBX-11: F final, P preliminary, C corrected, I pending, X cannot be obtained… */
  status: string;
  observedAt: string;
  notes: string[];
}

export interface ResultOrder {
  placerId: string;
  fillerId: string;
  test: CodedValue;
  observedAt: string;
  reportedAt: string;
  /** OBR-25: F final, P preliminary, C corrected… */
  status: string;
  observations: ResultObservation[];
  notes: string[];
}

export interface OruView {
  header: MessageHeader;
  patient: ResultPatient;
  orders: ResultOrder[];
}

const coded = (raw: string, message: Hl7Message): CodedValue => {
  const d = message.delimiters;
  const alternateCode = component(raw, 4, d);
  return {
    code: component(raw, 1, d), text: component(raw, 2, d), system: component(raw, 3, d),
    alternate: alternateCode ? { code: alternateCode, text: component(raw, 5, d), system: component(raw, 6, d) } : null,
  };
};

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** Reads an ORU^R01; `issues` lists what makes it unusable, each located for the ACK's ERR. */
export function readOru(message: Hl7Message): { view: OruView; issues: Hl7Issue[] } {
  const d = message.delimiters;
  const issues: Hl7Issue[] = [];
  const pid = message.segments.find((segment) => segment.id === 'PID');
  const identifiers = repetitions(pid, 3, d).map((raw) => ({ id: component(raw, 1, d), authority: component(raw, 4, d, 1) || component(raw, 4, d), type: component(raw, 5, d) })).filter((identifier) => identifier.id !== '');
  // Older senders put the patient id in PID-2 (external id) only.
  if (identifiers.length === 0 && value(pid, 2, d)) identifiers.push({ id: value(pid, 2, d), authority: component(rawField(pid, 2, 0, d), 4, d), type: 'PT' });
  if (!pid) issues.push({ severity: 'error', code: '100', message: 'an ORU^R01 carries the patient (PID)', segment: 'PID' });
  else if (identifiers.length === 0) issues.push({ severity: 'error', code: '101', message: 'PID-3 (patient identifier list) is required', segment: 'PID', position: pid.position, field: 3 });
  const patient: ResultPatient = {
    identifiers,
    family: value(pid, 5, d, 1), given: value(pid, 5, d, 2), birthDate: value(pid, 7, d), sex: value(pid, 8, d),
  };

  const orders: ResultOrder[] = [];
  let order: ResultOrder | undefined;
  let observation: ResultObservation | undefined;
  let orc: Hl7Segment | undefined;
  for (const segment of message.segments) {
    if (segment.id === 'ORC') orc = segment;
    else if (segment.id === 'OBR') {
      order = {
        placerId: value(segment, 2, d) || value(orc, 2, d), fillerId: value(segment, 3, d) || value(orc, 3, d),
        test: coded(rawField(segment, 4, 0, d), message), observedAt: value(segment, 7, d), reportedAt: value(segment, 22, d), status: value(segment, 25, d),
        observations: [], notes: [],
      };
      orders.push(order);
      observation = undefined;
    } else if (segment.id === 'OBX') {
      if (!order) {
        issues.push({ severity: 'error', code: '100', message: 'OBX before any OBR', segment: 'OBX', position: segment.position });
        continue;
      }
      observation = readObservation(segment, message, issues);
      order.observations.push(observation);
    } else if (segment.id === 'NTE') {
      const text = repetitions(segment, 3, d).map((raw) => component(raw, 1, d)).join('\n');
      if (observation) observation.notes.push(text);
      else if (order) order.notes.push(text);
    }
  }
  if (orders.length === 0) issues.push({ severity: 'error', code: '100', message: 'an ORU^R01 carries at least one OBR', segment: 'OBR' });
  return { view: { header: headerOf(message), patient, orders }, issues };
}

function readObservation(segment: Hl7Segment, message: Hl7Message, issues: Hl7Issue[]): ResultObservation {
  const d = message.delimiters;
  const valueType = value(segment, 2, d);
  const raw = rawField(segment, 5, 0, d);
  let numeric: string | null = null;
  let comparator: string | null = null;
  let written = repetitions(segment, 5, d).map((rep) => component(rep, 1, d)).join('\n');
  let codedValue: CodedValue | null = null;
  if (valueType === 'NM' && raw !== '') {
    numeric = component(raw, 1, d).trim();
    if (!DECIMAL.test(numeric)) {
      issues.push({ severity: 'error', code: '102', message: `OBX-5 "${numeric}" is not a number (value type NM)`, segment: 'OBX', position: segment.position, field: 5 });
      numeric = null;
    }
  } else if (valueType === 'SN' && raw !== '') {
    // SN: comparator ^ num1 ^ separator/suffix ^ num2.
    comparator = component(raw, 1, d) || null;
    const first = component(raw, 2, d);
    const separator = component(raw, 3, d);
    const second = component(raw, 4, d);
    written = `${comparator ?? ''}${first}${separator}${second}`;
    if (!DECIMAL.test(first)) issues.push({ severity: 'error', code: '102', message: `OBX-5.2 "${first}" is not a number (value type SN)`, segment: 'OBX', position: segment.position, field: 5 });
    else if (!separator) numeric = first;
  } else if ((valueType === 'CWE' || valueType === 'CE') && raw !== '') {
    codedValue = coded(raw, message);
    written = codedValue.text || codedValue.code;
  }
  const unitsRaw = rawField(segment, 6, 0, d);
  return {
    setId: value(segment, 1, d), valueType, code: coded(rawField(segment, 3, 0, d), message), value: written, numeric, comparator, coded: codedValue,
    units: unitsRaw ? { code: component(unitsRaw, 1, d), text: component(unitsRaw, 2, d), system: component(unitsRaw, 3, d) } : null,
    referenceRange: value(segment, 7, d),
    flags: repetitions(segment, 8, d).map((rep) => component(rep, 1, d)).filter((flag) => flag !== ''),
    status: value(segment, 11, d), observedAt: value(segment, 14, d), notes: [],
  };
}

/** Versions read here: 2.3 to 2.8 (the ORU^R01 fields used are the same throughout). */
const VERSIONS = /^2\.(3|4|5|6|7|8)(\.\d)?$/;

export interface Assessment {
  code: AckCode;
  issues: Hl7Issue[];
  /** The result, when it was accepted. */
  view: OruView | null;
}

/**
 * What a result receiver answers a message: AR when it is not a message taken here (no usable
 * MSH, not ORU^R01, a version outside 2.3-2.8), AE when it is an ORU^R01 whose content cannot
 * be used (no patient identifier, no order, a number that is not one), AA otherwise.
 */
export function assessOru(message: Hl7Message): Assessment {
  const structure = structuralIssues(message);
  if (structure.some((issue) => issue.severity === 'error')) return { code: 'AR', issues: structure, view: null };
  const header = headerOf(message);
  if (header.type !== 'ORU' || header.trigger !== 'R01') {
    return { code: 'AR', issues: [{ severity: 'error', code: '200', message: `only ORU^R01 results are taken here, not ${header.type}^${header.trigger}`, segment: 'MSH', position: 1, field: 9 }], view: null };
  }
  if (!VERSIONS.test(header.version)) {
    return { code: 'AR', issues: [{ severity: 'error', code: '203', message: `version ${header.version} is not read here (2.3 to 2.8)`, segment: 'MSH', position: 1, field: 12 }], view: null };
  }
  const { view, issues } = readOru(message);
  return issues.some((issue) => issue.severity === 'error') ? { code: 'AE', issues, view: null } : { code: 'AA', issues, view };
}
