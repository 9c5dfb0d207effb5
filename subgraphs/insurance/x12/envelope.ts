import { element, type Delimiters, type Segment, type X12Issue } from './syntax.js';

/**
 * The envelopes of an interchange — ISA/IEA around GS/GE groups around ST/SE transaction sets —
 * and their checks: every control number matched by its trailer, every count (IEA01 groups,
 * GE01 transaction sets, SE01 segments from ST to SE inclusive) equal to what the file holds,
 * every envelope closed. Problems are listed with their segment and element, never thrown, so a
 * file with a wrong count still shows what it carries.
 */
export interface Interchange {
  isa: Segment;
  iea: Segment | undefined;
  senderQualifier: string;
  senderId: string;
  receiverQualifier: string;
  receiverId: string;
  /** ISA09/ISA10: YYMMDD and HHMM as written. */
  date: string;
  time: string;
  /** ISA12: the interchange control version (00501 for 5010). */
  version: string;
  controlNumber: string;
  acknowledgmentRequested: boolean;
  /** ISA15: P production, T test. */
  usage: string;
  groups: FunctionalGroup[];
}

export interface FunctionalGroup {
  gs: Segment;
  ge: Segment | undefined;
  /** GS01: HS 270, HB 271, HC 837, HP 835, HR 276, HN 277, FA 999. */
  functionalId: string;
  senderCode: string;
  receiverCode: string;
  date: string;
  time: string;
  controlNumber: string;
  /** GS08: the implementation guide version, such as 005010X222A1. */
  version: string;
  transactions: TransactionSet[];
}

export interface TransactionSet {
  st: Segment;
  se: Segment | undefined;
  /** ST01: 270, 271, 276, 277, 835, 837, 999. */
  type: string;
  controlNumber: string;
  /** ST03, or the group's GS08 when ST03 is absent. */
  implementation: string;
  /** The segments between ST and SE. */
  body: Segment[];
}

export function readEnvelopes(segments: Segment[], issues: X12Issue[]): Interchange[] {
  const interchanges: Interchange[] = [];
  let interchange: Interchange | undefined;
  let group: FunctionalGroup | undefined;
  let transaction: TransactionSet | undefined;
  const error = (segment: Segment, code: string, message: string, elementNumber?: number): void => {
    issues.push({ severity: 'error', code, message, segmentId: segment.id, ...(elementNumber ? { element: elementNumber } : {}), position: segment.position });
  };

  const closeTransaction = (at: Segment): void => {
    if (!transaction) return;
    error(transaction.st, 'MISSING_SE', `transaction set ${transaction.type} ${transaction.controlNumber} has no SE before ${at.id}`);
    transaction = undefined;
  };
  const closeGroup = (at: Segment): void => {
    closeTransaction(at);
    if (!group) return;
    error(group.gs, 'MISSING_GE', `functional group ${group.controlNumber} has no GE before ${at.id}`);
    group = undefined;
  };

  for (const segment of segments) {
    switch (segment.id) {
      case 'ISA': {
        if (interchange) {
          closeGroup(segment);
          if (!interchange.iea) error(interchange.isa, 'MISSING_IEA', `interchange ${interchange.controlNumber} has no IEA before the next ISA`);
        }
        if (segment.elements.length - 1 !== 16) error(segment, 'ISA_ELEMENT_COUNT', `ISA has ${segment.elements.length - 1} elements; it must have 16`);
        const controlNumber = element(segment, 13);
        if (!/^\d{9}$/.test(controlNumber)) error(segment, 'BAD_CONTROL_NUMBER', `ISA13 "${controlNumber}" is not a 9-digit control number`, 13);
        interchange = {
          isa: segment,
          iea: undefined,
          senderQualifier: element(segment, 5).trim(),
          senderId: element(segment, 6).trim(),
          receiverQualifier: element(segment, 7).trim(),
          receiverId: element(segment, 8).trim(),
          date: element(segment, 9),
          time: element(segment, 10),
          version: element(segment, 12),
          controlNumber,
          acknowledgmentRequested: element(segment, 14) === '1',
          usage: element(segment, 15),
          groups: [],
        };
        interchanges.push(interchange);
        break;
      }
      case 'IEA': {
        closeGroup(segment);
        if (!interchange || interchange.iea) {
          error(segment, 'UNEXPECTED_SEGMENT', 'IEA without an open ISA');
          break;
        }
        interchange.iea = segment;
        expectCount(segment, 1, interchange.groups.length, 'functional groups', error);
        expectSame(segment, 2, interchange.controlNumber, 'ISA13', error);
        interchange = undefined;
        break;
      }
      case 'GS': {
        closeGroup(segment);
        if (!interchange) {
          error(segment, 'UNEXPECTED_SEGMENT', 'GS outside an interchange (no ISA before it)');
          break;
        }
        group = {
          gs: segment,
          ge: undefined,
          functionalId: element(segment, 1),
          senderCode: element(segment, 2),
          receiverCode: element(segment, 3),
          date: element(segment, 4),
          time: element(segment, 5),
          controlNumber: element(segment, 6),
          version: element(segment, 8),
          transactions: [],
        };
        interchange.groups.push(group);
        break;
      }
      case 'GE': {
        closeTransaction(segment);
        if (!group) {
          error(segment, 'UNEXPECTED_SEGMENT', 'GE without an open GS');
          break;
        }
        group.ge = segment;
        expectCount(segment, 1, group.transactions.length, 'transaction sets', error);
        expectSame(segment, 2, group.controlNumber, 'GS06', error);
        group = undefined;
        break;
      }
      case 'ST': {
        closeTransaction(segment);
        if (!group) {
          error(segment, 'UNEXPECTED_SEGMENT', 'ST outside a functional group (no GS before it)');
          break;
        }
        transaction = {
          st: segment,
          se: undefined,
          type: element(segment, 1),
          controlNumber: element(segment, 2),
          implementation: element(segment, 3) || group.version,
          body: [],
        };
        group.transactions.push(transaction);
        break;
      }
      case 'SE': {
        if (!transaction) {
          error(segment, 'UNEXPECTED_SEGMENT', 'SE without an open ST');
          break;
        }
        transaction.se = segment;
        // ST and SE count themselves.
        expectCount(segment, 1, transaction.body.length + 2, 'segments from ST to SE', error);
        expectSame(segment, 2, transaction.controlNumber, 'ST02', error);
        transaction = undefined;
        break;
      }
      default:
        if (transaction) transaction.body.push(segment);
        else error(segment, 'UNEXPECTED_SEGMENT', `${segment.id} is outside any transaction set (ST … SE)`);
    }
  }
  const end = segments[segments.length - 1];
  if (end) {
    if (transaction) error(transaction.st, 'MISSING_SE', `transaction set ${transaction.type} ${transaction.controlNumber} has no SE (the file ends first)`);
    if (group) error(group.gs, 'MISSING_GE', `functional group ${group.controlNumber} has no GE (the file ends first)`);
    if (interchange && !interchange.iea) error(interchange.isa, 'MISSING_IEA', `interchange ${interchange.controlNumber} has no IEA (the file ends first)`);
  }
  return interchanges;
}

type ErrorAt = (segment: Segment, code: string, message: string, elementNumber?: number) => void;

function expectCount(trailer: Segment, n: number, actual: number, what: string, error: ErrorAt): void {
  const written = element(trailer, n);
  if (!/^\d+$/.test(written)) error(trailer, 'BAD_COUNT', `${trailer.id}0${n} "${written}" is not a count`, n);
  else if (Number(written) !== actual) error(trailer, 'COUNT_MISMATCH', `${trailer.id}0${n} says ${Number(written)} ${what}; there are ${actual}`, n);
}

function expectSame(trailer: Segment, n: number, expected: string, header: string, error: ErrorAt): void {
  const written = element(trailer, n);
  if (written !== expected) error(trailer, 'CONTROL_NUMBER_MISMATCH', `${trailer.id}0${n} "${written}" does not match ${header} "${expected}"`, n);
}

/** The delimiters and envelopes together, as the rest of the module receives them. */
export interface Envelopes {
  delimiters: Delimiters;
  interchanges: Interchange[];
}
