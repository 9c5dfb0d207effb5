/**
 * HL7 version 2, read once for every transport. A message is segments separated by CR (LF,
 * CRLF and mixed endings are accepted too, and a leading UTF-8 BOM is dropped); the MSH names
 * its own separators: MSH-1 the field separator, MSH-2 the component, repetition, escape and
 * subcomponent characters (and 2.7's truncation character). Fields hold repetitions of
 * components of subcomponents; values are decoded from HL7 escapes (\F\ \S\ \T\ \R\ \E\,
 * \Xhh…\, \.br\, highlighting dropped). A batch file (FHS/BHS … BTS/FTS) holds several
 * messages, each from its MSH. Problems come back as a list with where they are (the segment,
 * its position and the field), never as an exception: the transports answer them with an ACK.
 */

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export interface Hl7Segment {
  id: string;
  /** 1-based position of the segment in its message. */
  position: number;
  /** The raw fields, index = field number (MSH: [1] is the field separator, [2] the encoding characters). */
  fields: string[];
}

export interface Hl7Issue {
  severity: 'error' | 'warning';
  /** HL7 table 0357: 100 segment sequence error, 101 required field missing, 102 data type error, 103 table value not found, 200 unsupported message type, 203 unsupported version, 207 application internal error. */
  code: '100' | '101' | '102' | '103' | '200' | '203' | '207';
  message: string;
  /** Where: segment id, its position in the message, the field (ERR-2). */
  segment?: string;
  position?: number;
  field?: number;
}

export interface Hl7Message {
  delimiters: Delimiters;
  /** Empty when the message's MSH could not be read (`unreadable` says why). */
  segments: Hl7Segment[];
  unreadable?: Hl7Issue;
  /** The message's text as received, one segment per CR. */
  text: string;
}

export interface Hl7Batch {
  /** FHS/BHS when the file was a batch. */
  header: Hl7Segment[];
  messages: Hl7Message[];
  /** Problems that belong to no message (a file that does not start with MSH, FHS or BHS). */
  issues: Hl7Issue[];
}

export const DEFAULT_DELIMITERS: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

/** The separators a message's MSH (or FHS/BHS) declares, or why they cannot be used. */
export function delimitersOf(line: string): Delimiters | Hl7Issue {
  const id = line.slice(0, 3);
  const field = line[3];
  const encoding = line.slice(4, line.indexOf(field ?? '|', 4) === -1 ? undefined : line.indexOf(field ?? '|', 4));
  const chars = [field ?? '', ...encoding.slice(0, 4)];
  const distinct = new Set(chars).size === chars.length;
  if (!field || encoding.length < 4 || encoding.length > 5 || !distinct || chars.some((char) => /[A-Za-z0-9\s]/.test(char))) {
    return { severity: 'error', code: '102', message: `${id}-1/${id}-2 must be a field separator and four distinct encoding characters (as |^~\\&), not "${line.slice(3, 8)}"`, segment: id, position: 1, field: 2 };
  }
  return { field, component: encoding[0] as string, repetition: encoding[1] as string, escape: encoding[2] as string, subcomponent: encoding[3] as string };
}

/** Splits text into segment lines: CR, LF or CRLF, mixed; a BOM and blank lines dropped; trailing spaces after the last field kept out. */
export function segmentLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).map((line) => line.replace(/\s+$/, '')).filter((line) => line.length > 0);
}

function toSegment(line: string, position: number, delimiters: Delimiters): Hl7Segment {
  const parts = line.split(delimiters.field);
  const id = parts[0] ?? '';
  // MSH/FHS/BHS-1 is the field separator itself: their fields shift one place right.
  if (id === 'MSH' || id === 'FHS' || id === 'BHS') return { id, position, fields: [id, delimiters.field, ...parts.slice(1)] };
  return { id, position, fields: parts };
}

/**
 * Reads a file of one message or a batch. Every MSH starts a message; FHS/BHS/BTS/FTS are the
 * batch envelope. Segment ids must be three capitals or digits.
 */
export function parseHl7(text: string): Hl7Batch {
  const lines = segmentLines(text);
  const batch: Hl7Batch = { header: [], messages: [], issues: [] };
  const first = lines[0];
  if (!first || !/^(MSH|FHS|BHS)/.test(first)) {
    batch.issues.push({ severity: 'error', code: '100', message: first ? `a message starts with MSH (or a batch with FHS/BHS), not "${first.slice(0, 3)}"` : 'the message is empty', segment: first?.slice(0, 3) ?? '', position: 1 });
    return batch;
  }
  let current: { delimiters: Delimiters; lines: string[] } | undefined;
  let envelope: Delimiters | undefined;
  const close = () => {
    if (current) batch.messages.push(readMessage(current.lines, current.delimiters));
    current = undefined;
  };
  for (const line of lines) {
    const id = line.slice(0, 3);
    if (id === 'FHS' || id === 'BHS') {
      close();
      const found = delimitersOf(line);
      if ('severity' in found) batch.issues.push(found);
      else {
        envelope = found;
        batch.header.push(toSegment(line, batch.header.length + 1, found));
      }
    } else if (id === 'BTS' || id === 'FTS') {
      close();
    } else if (id === 'MSH') {
      close();
      const found = delimitersOf(line);
      current = { delimiters: 'severity' in found ? (envelope ?? DEFAULT_DELIMITERS) : found, lines: [line] };
      if ('severity' in found) {
        batch.messages.push({ delimiters: current.delimiters, segments: [], text: line, unreadable: found });
        current = undefined;
      }
    } else if (current) {
      current.lines.push(line);
    } else {
      batch.issues.push({ severity: 'error', code: '100', message: `segment ${id} comes before any MSH`, segment: id });
    }
  }
  close();
  return batch;
}

/** One message from its segment lines (the first is its MSH). */
function readMessage(lines: string[], delimiters: Delimiters): Hl7Message {
  return { delimiters, segments: lines.map((line, index) => toSegment(line, index + 1, delimiters)), text: lines.join('\r') };
}

/** The problems of one message's structure: segment ids, and the MSH fields every message needs. */
export function structuralIssues(message: Hl7Message): Hl7Issue[] {
  const issues: Hl7Issue[] = [];
  for (const segment of message.segments) {
    if (!/^[A-Z][A-Z0-9]{2}$/.test(segment.id)) issues.push({ severity: 'error', code: '100', message: `"${segment.id}" is not a segment id`, segment: segment.id, position: segment.position });
  }
  if (message.unreadable) return [message.unreadable];
  const msh = message.segments[0];
  if (!msh || msh.id !== 'MSH') return [{ severity: 'error', code: '100', message: 'the message has no MSH', segment: 'MSH', position: 1 }, ...issues];
  const required: Array<[number, string]> = [[9, 'the message type'], [10, 'the message control id'], [11, 'the processing id'], [12, 'the version']];
  for (const [field, what] of required) {
    if (!msh.fields[field]) issues.push({ severity: 'error', code: '101', message: `MSH-${field} (${what}) is required`, segment: 'MSH', position: 1, field });
  }
  return issues;
}

// ---------------------------------------------------------------- reading values

/** The raw text of a field: segment field n, repetition r (0-based). */
export function rawField(segment: Hl7Segment | undefined, field: number, repetition = 0, delimiters: Delimiters = DEFAULT_DELIMITERS): string {
  const value = segment?.fields[field] ?? '';
  if (segment && (segment.id === 'MSH' || segment.id === 'FHS' || segment.id === 'BHS') && field <= 2) return value;
  return value.split(delimiters.repetition)[repetition] ?? '';
}

/** The repetitions of a field, raw. */
export function repetitions(segment: Hl7Segment | undefined, field: number, delimiters: Delimiters): string[] {
  const value = segment?.fields[field] ?? '';
  return value === '' ? [] : value.split(delimiters.repetition);
}

/** Component c (1-based) of a raw field value, subcomponent s (1-based, 0 for the whole component), decoded. */
export function component(value: string, componentIndex: number, delimiters: Delimiters, subcomponent = 0): string {
  const part = value.split(delimiters.component)[componentIndex - 1] ?? '';
  const sub = subcomponent === 0 ? part : (part.split(delimiters.subcomponent)[subcomponent - 1] ?? '');
  return decode(sub, delimiters);
}

/** A field's value decoded: field n, first repetition, component c (1 by default). */
export function value(segment: Hl7Segment | undefined, field: number, delimiters: Delimiters, componentIndex = 1): string {
  return component(rawField(segment, field, 0, delimiters), componentIndex, delimiters);
}

/**
 * Decodes HL7 escape sequences: \F\ \S\ \T\ \R\ \E\ to the separators, \Xhh…\ to the bytes
 * (read as UTF-8), \.br\ to a line break, highlighting (\H\ \N\) and character-set changes
 * dropped, the explicit null "" to nothing. An unknown or unterminated escape stays as written.
 */
export function decode(text: string, delimiters: Delimiters): string {
  if (text === '""') return '';
  const escape = delimiters.escape;
  if (!text.includes(escape)) return text;
  let out = '';
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf(escape, index);
    if (start === -1) {
      out += text.slice(index);
      break;
    }
    out += text.slice(index, start);
    const end = text.indexOf(escape, start + 1);
    if (end === -1) {
      out += text.slice(start);
      break;
    }
    const sequence = text.slice(start + 1, end);
    const replaced = unescape(sequence, delimiters);
    out += replaced ?? text.slice(start, end + 1);
    index = end + 1;
  }
  return out;
}

function unescape(sequence: string, delimiters: Delimiters): string | null {
  switch (sequence) {
    case 'F': return delimiters.field;
    case 'S': return delimiters.component;
    case 'T': return delimiters.subcomponent;
    case 'R': return delimiters.repetition;
    case 'E': return delimiters.escape;
    case 'H': case 'N': return '';
    case '.br': return '\n';
    default:
      if (/^X([0-9A-Fa-f]{2})+$/.test(sequence)) return Buffer.from(sequence.slice(1), 'hex').toString('utf8');
      if (/^[CM][0-9A-Fa-f]{4,6}$/.test(sequence) || /^\.(sp|in|ti|ce|fi|nf|sk)[+-]?\d*$/.test(sequence)) return '';
      return null;
  }
}

/** The message's MSH facts every transport needs. */
export interface MessageHeader {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-9: type, trigger, structure (ORU, R01, ORU_R01). */
  type: string;
  trigger: string;
  controlId: string;
  processingId: string;
  version: string;
  sentAt: string;
}

export function headerOf(message: Hl7Message): MessageHeader {
  const msh = message.segments[0];
  const d = message.delimiters;
  return {
    sendingApplication: value(msh, 3, d), sendingFacility: value(msh, 4, d), receivingApplication: value(msh, 5, d), receivingFacility: value(msh, 6, d),
    type: value(msh, 9, d, 1), trigger: value(msh, 9, d, 2), controlId: value(msh, 10, d), processingId: value(msh, 11, d), version: value(msh, 12, d), sentAt: value(msh, 7, d),
  };
}

/** A message as plain JSON for people: each segment's fields with repetitions and components decoded. */
export function describeMessage(message: Hl7Message): Array<{ segment: string; position: number; fields: Record<string, unknown> }> {
  const d = message.delimiters;
  return message.segments.map((segment) => {
    const fields: Record<string, unknown> = {};
    segment.fields.forEach((raw, index) => {
      if (index === 0 || raw === '') return;
      if ((segment.id === 'MSH' || segment.id === 'FHS' || segment.id === 'BHS') && index <= 2) {
        fields[String(index)] = raw;
        return;
      }
      const reps = raw.split(d.repetition).map((rep) => {
        const components = rep.split(d.component).map((part) => (part.includes(d.subcomponent) ? part.split(d.subcomponent).map((sub) => decode(sub, d)) : decode(part, d)));
        return components.length === 1 ? components[0] : components;
      });
      fields[String(index)] = reps.length === 1 ? reps[0] : reps;
    });
    return { segment: segment.id, position: segment.position, fields };
  });
}
