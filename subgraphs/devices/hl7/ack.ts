import { randomUUID } from 'node:crypto';
import { DEFAULT_DELIMITERS, headerOf, type Delimiters, type Hl7Issue, type Hl7Message } from './parse.js';

/**
 * The acknowledgment (original mode) a receiver sends back: an MSH with sender and receiver
 * swapped, its own unique control id, the message's processing id and version mirrored, and
 * MSA with the code — AA accepted, AE error (the content is wrong; nothing was stored), AR
 * rejected (it could not be read or is not a message taken here) — and the message's control
 * id. A refused message also gets ERR with the failing location (segment, position, field)
 * and the HL7 error code (table 0357): in ERR-2/ERR-3/ERR-4 from 2.5, in ERR-1 before.
 */
export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckOptions {
  /** The receiver's own application and facility (MSH-3/4 of the ACK). */
  application: string;
  facility: string;
  now?: Date;
  controlId?: string;
}

/** Who CareGraph's result receiver is in the ACKs it sends (MSH-3/4). */
export const CAREGRAPH_RECEIVER = { application: 'CAREGRAPH', facility: 'DEVICES' } as const;

const ERROR_TEXT: Record<Hl7Issue['code'], string> = {
  '100': 'Segment sequence error', '101': 'Required field missing', '102': 'Data type error', '103': 'Table value not found',
  '200': 'Unsupported message type', '203': 'Unsupported version id', '207': 'Application internal error',
};

/** HL7 DTM to the minute's second, in UTC: 20261205143000+0000. */
export function hl7Timestamp(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}+0000`;
}

/** Escapes text for a field (the separators and the escape character themselves). */
export function encodeText(text: string, d: Delimiters): string {
  return text
    .replaceAll(d.escape, `${d.escape}E${d.escape}`)
    .replaceAll(d.field, `${d.escape}F${d.escape}`)
    .replaceAll(d.component, `${d.escape}S${d.escape}`)
    .replaceAll(d.subcomponent, `${d.escape}T${d.escape}`)
    .replaceAll(d.repetition, `${d.escape}R${d.escape}`)
    .replace(/\r\n|\r|\n/g, `${d.escape}.br${d.escape}`);
}

const versionBefore25 = (version: string): boolean => /^2\.[0-4](\.|$)/.test(version);

/** The ACK for `message` (null when nothing of it could be read: the ACK then names no control id). */
export function buildAck(message: Hl7Message | null, code: AckCode, issues: readonly Hl7Issue[], options: AckOptions): string {
  const d = message?.delimiters ?? DEFAULT_DELIMITERS;
  const header = message && message.segments[0]?.id === 'MSH' ? headerOf(message) : null;
  const version = header?.version || '2.5.1';
  const encoding = `${d.component}${d.repetition}${d.escape}${d.subcomponent}`;
  const text = (value: string) => encodeText(value, d);
  const msh = [
    'MSH', encoding, text(options.application), text(options.facility), text(header?.sendingApplication ?? ''), text(header?.sendingFacility ?? ''),
    hl7Timestamp(options.now ?? new Date()), '', `ACK${d.component}${text(header?.trigger ?? '')}${d.component}ACK`, options.controlId ?? randomUUID(), text(header?.processingId || 'P'), text(version),
  ].join(d.field);
  const first = issues.find((issue) => issue.severity === 'error');
  const msa = ['MSA', code, text(header?.controlId ?? ''), ...(first && versionBefore25(version) ? [text(first.message.slice(0, 80))] : [])].join(d.field);
  const segments = [msh, msa];
  if (code !== 'AA') {
    for (const issue of issues.filter((candidate) => candidate.severity === 'error')) {
      const where = [issue.segment ?? '', issue.position ? String(issue.position) : '', issue.field ? String(issue.field) : ''];
      segments.push(versionBefore25(version)
        // ERR-1 (2.3, 2.4): segment ^ sequence ^ field ^ code&text&table.
        ? ['ERR', [...where, [issue.code, text(ERROR_TEXT[issue.code]), 'HL70357'].join(d.subcomponent)].join(d.component)].join(d.field)
        // ERR-2 location, ERR-3 code, ERR-4 severity, ERR-8 a message for people.
        : ['ERR', '', where.join(d.component).replace(new RegExp(`\\${d.component}+$`), ''), [issue.code, text(ERROR_TEXT[issue.code]), 'HL70357'].join(d.component), 'E', '', '', '', text(issue.message.slice(0, 200))].join(d.field));
    }
  }
  return segments.join('\r');
}
