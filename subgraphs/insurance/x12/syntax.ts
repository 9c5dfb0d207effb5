/**
 * ASC X12 syntax: the delimiters an interchange declares in its ISA segment, and the split of
 * the text into positioned segments. Nothing here knows a transaction type.
 *
 * The ISA is read by position rather than by length, so interchanges whose ISA fields are
 * padded wrongly still yield their delimiters: the element separator is the character after
 * "ISA", the component separator is ISA16, and the segment terminator is the character that
 * follows ISA16. Line breaks and indentation after terminators (pretty-printed files) are
 * not part of the data and are dropped; a terminator that is itself a line break works too.
 */

export interface Delimiters {
  element: string;
  component: string;
  /** ISA11 in 5010; undefined when the interchange gives none (a 4010-style `U`). */
  repetition: string | undefined;
  segment: string;
}

export const DEFAULT_DELIMITERS: Delimiters = { element: '*', component: ':', repetition: '^', segment: '~' };

/** Where something is in the text: segment number (1-based, in the file), line and column (1-based). */
export interface Position {
  segment: number;
  line: number;
  column: number;
}

export interface Segment {
  id: string;
  /** `elements[1]` is the first element (X12 numbers them from 01); `elements[0]` is the segment id. */
  elements: string[];
  position: Position;
}

/** A problem found in the text, named by where it is: never thrown, always listed. */
export interface X12Issue {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  segmentId?: string;
  /** Element number (01-based as X12 counts), when the issue is in one element. */
  element?: number;
  position?: Position;
}

export interface Tokenized {
  delimiters: Delimiters;
  segments: Segment[];
  issues: X12Issue[];
}

/** ISA has exactly 16 elements; ISA16 is one character (the component separator). */
const ISA_ELEMENTS = 16;

/**
 * Splits an interchange into segments. Returns no segments (and an error) when the text does
 * not start with a readable ISA, since without it the delimiters are unknown.
 */
export function tokenize(text: string): Tokenized {
  const issues: X12Issue[] = [];
  let start = 0;
  // A byte-order mark or blank lines before the interchange are not data.
  if (text.charCodeAt(0) === 0xfeff) start = 1;
  while (start < text.length && isBlank(text.charCodeAt(start))) start++;
  if (text.slice(start, start + 3) !== 'ISA') {
    issues.push({ severity: 'error', code: 'NO_ISA', message: 'the interchange does not start with an ISA segment', position: positionAt(text, start, 1) });
    return { delimiters: DEFAULT_DELIMITERS, segments: [], issues };
  }
  const delimiters = readDelimiters(text, start, issues);
  if (!delimiters) return { delimiters: DEFAULT_DELIMITERS, segments: [], issues };

  const segments: Segment[] = [];
  const terminator = delimiters.segment;
  const terminatorIsLineBreak = terminator === '\n' || terminator === '\r';
  const lines = new LineIndex(text);
  let at = start;
  while (at < text.length) {
    // Skip what pretty-printing puts between segments: line breaks, indentation.
    while (at < text.length && isBlank(text.charCodeAt(at))) at++;
    if (at >= text.length) break;
    let end = text.indexOf(terminator, at);
    if (end < 0) end = text.length;
    let raw = text.slice(at, end);
    // With a line-break terminator, a CR before the LF belongs to the line ending.
    if (terminatorIsLineBreak && raw.endsWith('\r')) raw = raw.slice(0, -1);
    const position = lines.position(at, segments.length + 1);
    const elements = raw.split(delimiters.element);
    const id = (elements[0] ?? '').trim();
    elements[0] = id;
    if (!/^[A-Z][A-Z0-9]{1,2}$/.test(id)) {
      issues.push({ severity: 'error', code: 'BAD_SEGMENT_ID', message: `"${truncate(raw)}" does not start with a segment id`, position });
    } else if (end === text.length && !terminatorIsLineBreak) {
      issues.push({ severity: 'error', code: 'UNTERMINATED_SEGMENT', message: `segment ${id} is not terminated by "${printable(terminator)}" (the file may be truncated)`, segmentId: id, position });
    }
    segments.push({ id, elements, position });
    at = end + terminator.length;
  }
  return { delimiters, segments, issues };
}

function readDelimiters(text: string, start: number, issues: X12Issue[]): Delimiters | undefined {
  const element = text.charAt(start + 3);
  const position = positionAt(text, start, 1);
  if (!element || /[A-Za-z0-9\s]/.test(element)) {
    issues.push({ severity: 'error', code: 'BAD_DELIMITERS', message: `ISA is not followed by an element separator (found "${printable(element)}")`, segmentId: 'ISA', position });
    return undefined;
  }
  // Find the 16th separator: ISA16 is the single character after it, the terminator the next.
  let at = start + 3;
  for (let count = 0; count < ISA_ELEMENTS; count++) {
    at = text.indexOf(element, at + (count === 0 ? 0 : 1));
    if (at < 0) {
      issues.push({ severity: 'error', code: 'ISA_TOO_SHORT', message: `ISA has ${count} of its ${ISA_ELEMENTS} elements (the file may be truncated)`, segmentId: 'ISA', position });
      return undefined;
    }
  }
  const component = text.charAt(at + 1);
  const segment = text.charAt(at + 2);
  if (!component || !segment) {
    issues.push({ severity: 'error', code: 'ISA_TOO_SHORT', message: 'ISA ends before its component separator and segment terminator', segmentId: 'ISA', element: 16, position });
    return undefined;
  }
  const isa = text.slice(start, at + 2).split(element);
  const repetitionField = isa[11] ?? '';
  let repetition: string | undefined = repetitionField;
  if (repetitionField.length !== 1 || /[A-Za-z0-9 ]/.test(repetitionField)) {
    // 4010 put the standards identifier `U` here; 5010 puts the repetition separator.
    issues.push({ severity: 'warning', code: 'NO_REPETITION_SEPARATOR', message: `ISA11 is "${repetitionField}", not a repetition separator: repeated elements are read as single values`, segmentId: 'ISA', element: 11, position });
    repetition = undefined;
  }
  const distinct = new Set([element, component, segment, ...(repetition ? [repetition] : [])]);
  if (distinct.size !== (repetition ? 4 : 3) || /[A-Za-z0-9]/.test(component) || /[A-Za-z0-9]/.test(segment)) {
    issues.push({ severity: 'error', code: 'BAD_DELIMITERS', message: `the delimiters must be four distinct non-alphanumeric characters (element "${printable(element)}", component "${printable(component)}", repetition "${printable(repetition ?? '')}", segment "${printable(segment)}")`, segmentId: 'ISA', position });
    return undefined;
  }
  return { element, component, repetition, segment };
}

/** Element `n` (X12 numbering: 1 is the first after the id), or '' when absent. */
export function element(segment: Segment, n: number): string {
  return segment.elements[n] ?? '';
}

/** Component `c` (1-based) of element `n`. */
export function component(segment: Segment, n: number, c: number, delimiters: Delimiters): string {
  const value = element(segment, n);
  if (c === 1 && !value.includes(delimiters.component)) return value;
  return value.split(delimiters.component)[c - 1] ?? '';
}

/** All components of element `n`. */
export function components(segment: Segment, n: number, delimiters: Delimiters): string[] {
  const value = element(segment, n);
  return value === '' ? [] : value.split(delimiters.component);
}

/** The repetitions of element `n` (one value when the interchange has no repetition separator). */
export function repetitions(segment: Segment, n: number, delimiters: Delimiters): string[] {
  const value = element(segment, n);
  if (value === '') return [];
  return delimiters.repetition ? value.split(delimiters.repetition) : [value];
}

export function isBlank(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** Line and column of offsets visited in increasing order (one pass over the text in all). */
class LineIndex {
  private line = 1;
  private lineStart = 0;
  /** The first line break not yet passed, or -1 when there is none. */
  private nextBreak: number;

  constructor(private readonly text: string) {
    this.nextBreak = text.indexOf('\n');
  }

  position(offset: number, segment: number): Position {
    while (this.nextBreak >= 0 && this.nextBreak < offset) {
      this.line++;
      this.lineStart = this.nextBreak + 1;
      this.nextBreak = this.text.indexOf('\n', this.lineStart);
    }
    return { segment, line: this.line, column: offset - this.lineStart + 1 };
  }
}

function positionAt(text: string, offset: number, segment: number): Position {
  return new LineIndex(text).position(offset, segment);
}

function printable(character: string): string {
  return character.replace('\n', '\\n').replace('\r', '\\r').replace('\t', '\\t');
}

function truncate(raw: string): string {
  return raw.length > 20 ? `${raw.slice(0, 20)}…` : raw;
}
