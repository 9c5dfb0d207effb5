import { buildAck, CAREGRAPH_RECEIVER, type AckCode } from './ack.js';
import { assessOru, type OruView } from './oru.js';
import { describeMessage, headerOf, parseHl7, type Hl7Issue } from './parse.js';

/**
 * A file of HL7 v2 as people read it (the `hl7` command): each message's segments and fields
 * with escapes decoded, the typed ORU^R01 view, and the ACK a CareGraph receiver would send.
 * Valid when every message would be accepted (AA).
 */
export interface FileReport {
  valid: boolean;
  issues: Array<Hl7Issue & { inMessage?: number; controlId?: string; ack?: string }>;
  messages: Array<{ controlId: string; type: string; ackCode: AckCode; ack: string; segments: ReturnType<typeof describeMessage>; result: OruView | null }>;
}

export function reportHl7(text: string, now = new Date()): FileReport {
  const batch = parseHl7(text);
  const options = { ...CAREGRAPH_RECEIVER, now, controlId: 'ACK-PREVIEW' };
  const issues: FileReport['issues'] = batch.issues.map((issue) => ({ ...issue, ack: buildAck(null, 'AR', [issue], options).replaceAll('\r', '\n') }));
  const messages = batch.messages.map((message, index) => {
    const assessed = assessOru(message);
    const header = message.segments.length ? headerOf(message) : null;
    const ack = buildAck(message.segments.length ? message : null, assessed.code, assessed.issues, options).replaceAll('\r', '\n');
    for (const issue of assessed.issues) issues.push({ ...issue, inMessage: index + 1, controlId: header?.controlId ?? '', ack });
    return { controlId: header?.controlId ?? '', type: header ? `${header.type}^${header.trigger}` : '', ackCode: assessed.code, ack, segments: describeMessage(message), result: assessed.view };
  });
  const valid = batch.issues.length === 0 && messages.length > 0 && messages.every((message) => message.ackCode === 'AA');
  return { valid, issues, messages };
}
