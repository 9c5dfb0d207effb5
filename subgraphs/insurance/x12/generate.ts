import type { X12Document } from './parse.js';
import { DEFAULT_DELIMITERS, type Delimiters, type Segment } from './syntax.js';

/**
 * Writing X12: segments from structured values, and envelopes whose counts and control
 * numbers are derived from what was built — SE01 is the number of segments actually written
 * from ST to SE, GE01 the transaction sets in the group, IEA01 the groups, HL ids the HL
 * segments already written — never from counters kept beside the data. X12 has no escape
 * sequences, so a value holding a delimiter is refused rather than written ambiguously.
 */

/** An element: a plain value, its components, or its repetitions (each plain or components). */
export type ElementValue = string | readonly string[] | { readonly repeated: ReadonlyArray<string | readonly string[]> };

/** A segment: its id and its elements from 01 on (trailing empty elements are dropped). */
export type SegmentSpec = readonly [string, ...ElementValue[]];

export interface TransactionSpec {
  /** ST01: 270, 271, 276, 277, 835, 837, 999. */
  type: string;
  controlNumber: string;
  /** ST03, such as 005010X222A1. */
  implementation?: string;
  /** Everything between ST and SE. */
  body: readonly SegmentSpec[];
}

export interface GroupSpec {
  functionalId: string;
  senderCode: string;
  receiverCode: string;
  /** CCYYMMDD and HHMM. */
  date: string;
  time: string;
  controlNumber: string;
  version: string;
  transactions: readonly TransactionSpec[];
}

export interface InterchangeSpec {
  sender: { qualifier: string; id: string };
  receiver: { qualifier: string; id: string };
  /** YYMMDD and HHMM. */
  date: string;
  time: string;
  /** Up to 9 digits; written zero-padded. */
  controlNumber: string;
  usage: 'P' | 'T';
  acknowledgmentRequested: boolean;
  groups: readonly GroupSpec[];
  delimiters?: Delimiters;
  /** A line break after each segment terminator (for people; payers accept either). */
  lineBreaks?: boolean;
  /** ISA12; 00501 for 5010. */
  version?: string;
}

export class X12GenerationError extends Error {
  constructor(message: string, readonly segmentId: string, readonly element: number) {
    super(message);
    this.name = 'X12GenerationError';
  }
}

export function generateInterchange(spec: InterchangeSpec): string {
  const delimiters = spec.delimiters ?? DEFAULT_DELIMITERS;
  if (!/^\d{1,9}$/.test(spec.controlNumber)) throw new X12GenerationError(`interchange control number "${spec.controlNumber}" must be 1 to 9 digits`, 'ISA', 13);
  const lines: string[] = [];
  const write = (segment: SegmentSpec): void => {
    lines.push(writeSegment(segment, delimiters));
  };
  const controlNumber = spec.controlNumber.padStart(9, '0');
  // ISA is fixed-width: every field padded to its length, so readers that count columns agree.
  lines.push([
    'ISA', '00', ' '.repeat(10), '00', ' '.repeat(10),
    fixed(spec.sender.qualifier, 2, 5), fixed(spec.sender.id, 15, 6), fixed(spec.receiver.qualifier, 2, 7), fixed(spec.receiver.id, 15, 8),
    fixed(spec.date, 6, 9), fixed(spec.time, 4, 10), delimiters.repetition ?? 'U', spec.version ?? '00501', controlNumber,
    spec.acknowledgmentRequested ? '1' : '0', spec.usage, delimiters.component,
  ].join(delimiters.element));
  for (const group of spec.groups) {
    write(['GS', group.functionalId, group.senderCode, group.receiverCode, group.date, group.time, group.controlNumber, 'X', group.version]);
    for (const transaction of group.transactions) {
      const start = lines.length;
      write(['ST', transaction.type, transaction.controlNumber, ...(transaction.implementation ? [transaction.implementation] : [])]);
      for (const segment of transaction.body) write(segment);
      // ST and SE count themselves: the segments written since ST, plus SE.
      write(['SE', String(lines.length - start + 1), transaction.controlNumber]);
    }
    write(['GE', String(group.transactions.length), group.controlNumber]);
  }
  write(['IEA', String(spec.groups.length), controlNumber]);
  const separator = delimiters.segment + (spec.lineBreaks && delimiters.segment !== '\n' ? '\n' : '');
  return lines.join(separator) + separator;
}

function fixed(value: string, width: number, element: number): string {
  if (value.length > width) throw new X12GenerationError(`ISA${String(element).padStart(2, '0')} "${value}" is longer than ${width} characters`, 'ISA', element);
  return value.padEnd(width, ' ');
}

export function writeSegment(segment: SegmentSpec, delimiters: Delimiters): string {
  const [id, ...values] = segment;
  const written = values.map((value, index) => writeElement(value, delimiters, id, index + 1));
  while (written.length > 0 && written[written.length - 1] === '') written.pop();
  return [id, ...written].join(delimiters.element);
}

function writeElement(value: ElementValue, delimiters: Delimiters, id: string, n: number): string {
  const plain = (text: string): string => {
    for (const delimiter of [delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition]) {
      if (delimiter && text.includes(delimiter)) throw new X12GenerationError(`${id}${String(n).padStart(2, '0')} "${text}" contains the delimiter "${delimiter}"`, id, n);
    }
    return text;
  };
  const composite = (parts: string | readonly string[]): string => {
    if (typeof parts === 'string') return plain(parts);
    const written = parts.map(plain);
    while (written.length > 0 && written[written.length - 1] === '') written.pop();
    return written.join(delimiters.component);
  };
  if (typeof value === 'string' || Array.isArray(value)) return composite(value as string | readonly string[]);
  const { repeated } = value as { repeated: ReadonlyArray<string | readonly string[]> };
  if (repeated.length > 1 && !delimiters.repetition) throw new X12GenerationError(`${id}${String(n).padStart(2, '0')} repeats, but the interchange has no repetition separator`, id, n);
  return repeated.map(composite).join(delimiters.repetition ?? '');
}

/** A level of an HL hierarchy to write: its code, its segments after HL, its children. */
export interface HierarchyNode {
  levelCode: string;
  segments: readonly SegmentSpec[];
  children?: readonly HierarchyNode[];
}

/**
 * The HL segments and their contents, depth first. Each HL01 is the count of HL segments
 * already written plus one; HL02 is the parent's HL01; HL04 says whether children follow.
 */
export function hierarchical(nodes: readonly HierarchyNode[]): SegmentSpec[] {
  const out: SegmentSpec[] = [];
  // HL segments in `out`, counted by looking at what was written since the last look.
  let levels = 0;
  let seen = 0;
  const levelsWritten = (): number => {
    for (; seen < out.length; seen++) if ((out[seen] as SegmentSpec)[0] === 'HL') levels++;
    return levels;
  };
  const emit = (node: HierarchyNode, parentId: string): void => {
    const id = String(levelsWritten() + 1);
    const children = node.children ?? [];
    out.push(['HL', id, parentId, node.levelCode, children.length > 0 ? '1' : '0']);
    out.push(...node.segments);
    for (const child of children) emit(child, id);
  };
  for (const node of nodes) emit(node, '');
  return out;
}

/**
 * A parsed document written again (with its own delimiters, or others): the same segments
 * and values, with the envelope counts recomputed from what is written. Parsing the result
 * gives the same transactions.
 */
export function regenerate(document: X12Document, options: { delimiters?: Delimiters; lineBreaks?: boolean } = {}): string {
  const source = document.delimiters;
  const target = options.delimiters ?? source;
  const spec = (segment: Segment): SegmentSpec => [segment.id, ...segment.elements.slice(1).map((value) => structured(value, source))];
  return document.interchanges.map((interchange) => generateInterchange({
    sender: { qualifier: interchange.senderQualifier, id: interchange.senderId },
    receiver: { qualifier: interchange.receiverQualifier, id: interchange.receiverId },
    date: interchange.date,
    time: interchange.time,
    controlNumber: interchange.controlNumber,
    usage: interchange.usage === 'P' ? 'P' : 'T',
    acknowledgmentRequested: interchange.acknowledgmentRequested,
    version: interchange.version,
    delimiters: target,
    lineBreaks: options.lineBreaks ?? false,
    groups: interchange.groups.map((group) => ({
      functionalId: group.functionalId,
      senderCode: group.senderCode,
      receiverCode: group.receiverCode,
      date: group.date,
      time: group.time,
      controlNumber: group.controlNumber,
      version: group.version,
      transactions: group.transactions.map((transaction) => ({
        type: transaction.type,
        controlNumber: transaction.controlNumber,
        ...(transaction.st.elements[3] ? { implementation: transaction.st.elements[3] } : {}),
        body: transaction.body.map(spec),
      })),
    })),
  })).join('');
}

/** An element as written with `delimiters`, back into structure (repetitions, components). */
function structured(value: string, delimiters: Delimiters): ElementValue {
  if (delimiters.repetition && value.includes(delimiters.repetition)) {
    return { repeated: value.split(delimiters.repetition).map((part) => (part.includes(delimiters.component) ? part.split(delimiters.component) : part)) };
  }
  return value.includes(delimiters.component) ? value.split(delimiters.component) : value;
}
