import { readEnvelopes, type FunctionalGroup, type Interchange, type TransactionSet } from './envelope.js';
import { checkHierarchy, hierarchy, readLoops, type Loop } from './loops.js';
import { tokenize, type Delimiters, type Segment, type X12Issue } from './syntax.js';
import { viewOf, type TransactionView } from './views.js';

export interface ParsedTransaction extends TransactionSet {
  loops: Loop;
  view: TransactionView;
}

export interface ParsedGroup extends Omit<FunctionalGroup, 'transactions'> {
  transactions: ParsedTransaction[];
}

export interface ParsedInterchange extends Omit<Interchange, 'groups'> {
  groups: ParsedGroup[];
}

export interface X12Document {
  delimiters: Delimiters;
  interchanges: ParsedInterchange[];
  /** Every problem found, positioned; `valid` is false when any is an error. */
  issues: X12Issue[];
  valid: boolean;
  segmentCount: number;
}

/**
 * Parses an X12 5010 file: delimiters from its ISA, envelopes with their checks, and each
 * transaction set's loops and normalized view. It never throws on bad input: problems are in
 * `issues` with their positions, and whatever could be read is returned with them.
 */
export function parseX12(text: string): X12Document {
  const { delimiters, segments, issues } = tokenize(text);
  const interchanges = readEnvelopes(segments, issues).map((interchange): ParsedInterchange => ({
    ...interchange,
    groups: interchange.groups.map((group): ParsedGroup => {
      if (group.version.startsWith('005010') && interchange.version !== '00501') {
        issues.push({ severity: 'warning', code: 'VERSION_MISMATCH', message: `ISA12 is ${interchange.version} but GS08 is ${group.version} (5010 interchanges use 00501)`, segmentId: 'ISA', element: 12, position: interchange.isa.position });
      }
      return {
        ...group,
        transactions: group.transactions.map((transaction): ParsedTransaction => {
          const loops = readLoops(transaction.type, transaction.body);
          checkHierarchy(hierarchy(loops), issues);
          return { ...transaction, loops, view: viewOf(transaction, loops, delimiters, issues) };
        }),
      };
    }),
  }));
  if (segments.length > 0 && interchanges.length === 0) {
    issues.push({ severity: 'error', code: 'NO_INTERCHANGE', message: 'no ISA … IEA interchange was found' });
  }
  return { delimiters, interchanges, issues, valid: !issues.some((issue) => issue.severity === 'error'), segmentCount: segments.length };
}

/** Every transaction set of the document, in file order. */
export function transactionsOf(document: X12Document): ParsedTransaction[] {
  return document.interchanges.flatMap((interchange) => interchange.groups.flatMap((group) => group.transactions));
}

/**
 * The document as plain JSON for people: envelopes, each transaction's loops (segments as
 * arrays of elements, with their segment numbers) and its normalized view, and the issues.
 */
export function describeX12(document: X12Document): unknown {
  const segment = (s: Segment) => ({ at: s.position.segment, elements: s.elements });
  const loop = (l: Loop): unknown => ({ loop: l.id, segments: l.segments.map(segment), ...(l.loops.length ? { loops: l.loops.map(loop) } : {}) });
  return {
    valid: document.valid,
    delimiters: document.delimiters,
    segments: document.segmentCount,
    interchanges: document.interchanges.map((interchange) => ({
      sender: `${interchange.senderQualifier}:${interchange.senderId}`,
      receiver: `${interchange.receiverQualifier}:${interchange.receiverId}`,
      date: interchange.date,
      time: interchange.time,
      version: interchange.version,
      controlNumber: interchange.controlNumber,
      usage: interchange.usage,
      groups: interchange.groups.map((group) => ({
        functionalId: group.functionalId,
        sender: group.senderCode,
        receiver: group.receiverCode,
        controlNumber: group.controlNumber,
        version: group.version,
        transactions: group.transactions.map((transaction) => ({
          type: transaction.type,
          controlNumber: transaction.controlNumber,
          implementation: transaction.implementation,
          view: transaction.view,
          loops: loop(transaction.loops),
        })),
      })),
    })),
    issues: document.issues,
  };
}
