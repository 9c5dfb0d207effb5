import { randomUUID } from 'node:crypto';
import type { ObservationStatus } from '../../prisma/generated/client/client.js';
import type { SubgraphDeps } from '../kit/context.js';
import { errorResponse } from '../kit/http.js';
import { isAuthenticated, Role } from '../kit/identity.js';
import type { SubgraphRoute } from '../kit/subgraph.js';
import type { TransactionClient } from '../kit/outbox.js';
import { buildAck, CAREGRAPH_RECEIVER, type AckCode } from './hl7/ack.js';
import { assessOru, type OruView, type ResultObservation } from './hl7/oru.js';
import { headerOf, parseHl7, type Hl7Message } from './hl7/parse.js';
import { matchPatients } from './patients.js';
import { announcedOf, announceEach, insertObservations, type Announced, type ObservationRow } from './store.js';

/**
 * Lab results in: every HL7 v2 message (from `POST /hl7/v2` or the MLLP listener) is judged
 * (hl7/oru.ts), and an accepted ORU^R01 is stored — the message, one observation per OBX, the
 * patient matched by the organization and PID-3 (the MRN's keyed digest), the events — in one
 * transaction, before its ACK is returned: an ACK never goes out for a message not stored. A
 * message the same sender sent before (its control id) is answered with the ACK it got then
 * and stored once. A refused message (AE, AR) is answered with ERR and stores nothing.
 */

export interface ReceivedMessage {
  code: AckCode;
  ack: string;
  /** The stored message (accepted ones), and whether it was a repeat. */
  messageId: string | null;
  repeat: boolean;
  observations: number;
}

/** Every message of `text` (one, or a batch), each with its ACK, in order. */
export async function receiveHl7(deps: SubgraphDeps, input: { organizationId: string; transport: 'HTTP' | 'MLLP'; text: string }): Promise<ReceivedMessage[]> {
  const batch = parseHl7(input.text);
  if (batch.issues.length > 0 && batch.messages.length === 0) {
    return [{ code: 'AR', ack: buildAck(null, 'AR', batch.issues, CAREGRAPH_RECEIVER), messageId: null, repeat: false, observations: 0 }];
  }
  return Promise.all(batch.messages.map((message) => receiveMessage(deps, input.organizationId, input.transport, message)));
}

function receiveMessage(deps: SubgraphDeps, organizationId: string, transport: 'HTTP' | 'MLLP', message: Hl7Message): Promise<ReceivedMessage> {
  const assessed = assessOru(message);
  if (assessed.code !== 'AA' || !assessed.view) {
    return Promise.resolve({ code: assessed.code, ack: buildAck(message.segments.length > 0 ? message : null, assessed.code, assessed.issues, CAREGRAPH_RECEIVER), messageId: null, repeat: false, observations: 0 });
  }
  const header = headerOf(message);
  return storeOf(deps).store({
    organizationId, transport, message, view: assessed.view, header,
    sender: `${header.sendingApplication}^${header.sendingFacility}`,
    ack: buildAck(message, 'AA', [], CAREGRAPH_RECEIVER),
  });
}

interface Accepted {
  organizationId: string;
  transport: 'HTTP' | 'MLLP';
  sender: string;
  header: ReturnType<typeof headerOf>;
  message: Hl7Message;
  view: OruView;
  ack: string;
}

/** Messages stored together at most (one transaction). */
const MAX_GROUP = 200;
const stores = new WeakMap<SubgraphDeps, ResultStore>();
const storeOf = (deps: SubgraphDeps): ResultStore => {
  let store = stores.get(deps);
  if (!store) stores.set(deps, (store = new ResultStore(deps)));
  return store;
};

/**
 * Stores accepted messages with group commit: while one transaction runs, the messages that
 * arrive wait, and the next transaction stores all of them — the message rows, their
 * observations and events, in a few statements whatever their number. Each caller gets its
 * ACK only after the transaction holding its message committed. A message stored before (the
 * same sender and control id) is a repeat: answered with the ACK it got then. If a group's
 * transaction fails, its messages are stored one by one, so one bad message fails alone.
 */
class ResultStore {
  private queue: Array<{ item: Accepted; resolve: (result: ReceivedMessage) => void; reject: (error: unknown) => void }> = [];
  private flushing = false;

  constructor(private readonly deps: SubgraphDeps) {}

  store(item: Accepted): Promise<ReceivedMessage> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const group = this.queue.splice(0, MAX_GROUP);
    void this.flush(group).finally(() => {
      this.flushing = false;
      this.kick();
    });
  }

  private async flush(group: ResultStore['queue']): Promise<void> {
    try {
      const results = await this.write(group.map((entry) => entry.item));
      group.forEach((entry, index) => entry.resolve(results[index] as ReceivedMessage));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const entry of group) await this.flush([entry]);
    }
  }

  private async write(items: Accepted[]): Promise<ReceivedMessage[]> {
    const { deps } = this;
    const patients = await matchPatients(deps, items.map((item) => ({ organizationId: item.organizationId, identifiers: item.view.patient.identifiers.map((identifier) => identifier.id) })));
    const keyOf = (item: Pick<Accepted, 'organizationId' | 'sender'> & { controlId: string }) => `${item.organizationId}\n${item.sender}\n${item.controlId}`;
    const created = await deps.prisma.$transaction(async (tx) => {
      const rows = await tx.hl7Message.createManyAndReturn({
        data: items.map((item) => ({
          organizationId: item.organizationId, sender: item.sender, controlId: item.header.controlId, transport: item.transport,
          type: `${item.header.type}^${item.header.trigger}`, version: item.header.version, ackCode: 'AA', ack: item.ack, body: item.message.text,
        })),
        skipDuplicates: true,
        select: { id: true, organizationId: true, sender: true, controlId: true, ack: true },
      });
      const byKey = new Map(rows.map((row) => [keyOf(row), row]));
      // The first of several copies in one group is the one stored; the others are repeats.
      const owners = new Map<string, number>();
      items.forEach((item, index) => {
        const key = keyOf({ ...item, controlId: item.header.controlId });
        if (byKey.has(key) && !owners.has(key)) owners.set(key, index);
      });
      const stored = items.map((item, index) => {
        const key = keyOf({ ...item, controlId: item.header.controlId });
        return owners.get(key) === index ? (byKey.get(key) ?? null) : null;
      });
      const counts = await recordObservations(tx, items.flatMap((item, index) => {
        const row = stored[index];
        return row ? [{ organizationId: item.organizationId, patientId: patients[index] ?? null, messageId: row.id, sender: item.sender, view: item.view }] : [];
      }));
      return { stored, counts };
    });
    // Repeats: the ACK each got when it was first stored.
    const repeats = items.filter((_, index) => !created.stored[index]);
    const earlier = repeats.length
      ? await deps.prisma.hl7Message.findMany({ where: { OR: repeats.map((item) => ({ organizationId: item.organizationId, sender: item.sender, controlId: item.header.controlId })) } })
      : [];
    const earlierByKey = new Map(earlier.map((row) => [keyOf(row), row]));
    let counted = 0;
    return items.map((item, index) => {
      const row = created.stored[index];
      if (row) return { code: 'AA', ack: item.ack, messageId: row.id, repeat: false, observations: created.counts[counted++] ?? 0 };
      const first = earlierByKey.get(keyOf({ ...item, controlId: item.header.controlId }));
      if (!first) throw new Error('a repeated message was not found stored');
      return { code: first.ackCode as AckCode, ack: first.ack, messageId: first.id, repeat: true, observations: 0 };
    });
  }
}

const STATUS: Record<string, ObservationStatus> = { F: 'FINAL', P: 'PRELIMINARY', C: 'CORRECTED', A: 'AMENDED', X: 'CANCELLED', D: 'ENTERED_IN_ERROR', W: 'ENTERED_IN_ERROR', R: 'REGISTERED', I: 'REGISTERED', S: 'REGISTERED' };
/** Panic flags (HL7 table 0078): below or above the panic limits, or very abnormal. */
const CRITICAL_FLAGS = new Set(['HH', 'LL', 'AA']);
const LOINC = 'http://loinc.org';

/** LOINC when the lab sent it (as the code or its alternate); else the lab's own code in a system named for the sender. */
function codeOf(observation: ResultObservation, sender: string): { code: string; system: string; display: string } {
  const { code } = observation;
  if (code.system === 'LN' || code.system === 'LOINC') return { code: code.code, system: LOINC, display: code.text };
  if (code.alternate && (code.alternate.system === 'LN' || code.alternate.system === 'LOINC')) return { code: code.alternate.code, system: LOINC, display: code.alternate.text || code.text };
  return { code: code.code || code.text, system: `urn:caregraph:lab:${encodeURIComponent(sender)}`, display: code.text || code.code };
}

/** An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]) as an instant; without a zone it is read as UTC. */
export function instantOf(dtm: string): Date | null {
  const match = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/.exec(dtm.trim());
  if (!match) return null;
  const [, year, month = '01', day = '01', hour = '00', minute = '00', second = '00', fraction = '', zone = '+0000'] = match;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${zone.slice(0, 3)}:${zone.slice(3)}`;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Decimal(20,6) holds 14 digits before the point: a larger "number" is kept as text only. */
const storableNumber = (numeric: string | null): string | null => (numeric !== null && /^[+-]?\d{0,14}(\.\d*)?$/.test(numeric.replace(/^\./, '0.')) ? numeric : null);

/** The observations of each stored message, and their events, in one statement each; how many each message had. */
async function recordObservations(tx: TransactionClient, messages: Array<{ organizationId: string; patientId: string | null; messageId: string; sender: string; view: OruView }>): Promise<number[]> {
  const rows: ObservationRow[] = [];
  const counts: number[] = [];
  const announced: Array<{ patientId: string; observation: Announced }> = [];
  for (const input of messages) {
    const { view } = input;
    const sourcePatientId = view.patient.identifiers[0]?.id ?? '';
    const sourcePatientName = [view.patient.given, view.patient.family].filter(Boolean).join(' ');
    const before = rows.length;
    view.orders.forEach((order, orderIndex) => {
      order.observations.forEach((observation, index) => {
        const code = codeOf(observation, input.sender);
        const row: ObservationRow = {
          id: randomUUID(), organizationId: input.organizationId, patientId: input.patientId, source: 'LAB' as const, messageId: input.messageId, connectionId: null,
          sourceKey: `hl7:${input.messageId}:${orderIndex}:${index}`,
          code: code.code.slice(0, 100), codeSystem: code.system.slice(0, 200), display: code.display.slice(0, 200),
          valueType: observation.valueType, valueText: observation.value, valueNumber: storableNumber(observation.numeric), comparator: observation.comparator,
          unit: observation.units?.code || null, unitSystem: observation.units?.system || null, referenceRange: observation.referenceRange || null,
          interpretation: observation.flags, status: STATUS[observation.status] ?? 'REGISTERED',
          effectiveAt: instantOf(observation.observedAt) ?? instantOf(order.observedAt), effectiveEndAt: null,
          placerOrderId: order.placerId || null, fillerOrderId: order.fillerId || null, orderCode: order.test.code || null,
          sourcePatientId, sourcePatientName, critical: observation.flags.some((flag) => CRITICAL_FLAGS.has(flag)), notes: observation.notes,
        };
        rows.push(row);
        if (input.patientId) announced.push({ patientId: input.patientId, observation: announcedOf(row) });
      });
    });
    counts.push(rows.length - before);
  }
  await insertObservations(tx, rows);
  await announceEach(tx, announced);
  return counts;
}

/**
 * `POST /hl7/v2` (public, at the gateway's address): a lab interface posts one message or a
 * batch with its device-integration API key (`x-api-key`, role DEVICE); the answer is the ACK
 * (`application/hl7-v2`, one per message, CR-separated segments, messages separated by a blank
 * line): 200 when every message was accepted, 422 when one was in error (AE), 400 when one was
 * rejected (AR). Other callers: 401 without a credential, 403 without the role.
 */
export const hl7HttpRoute: SubgraphRoute = {
  method: 'POST',
  path: '/hl7/v2',
  public: true,
  async handle(request, deps) {
    const identity = request.identity;
    if (!isAuthenticated(identity)) return errorResponse('UNAUTHENTICATED', 'Send the device-integration API key (x-api-key)');
    if (identity.role !== Role.DEVICE || !identity.organizationId) return errorResponse('FORBIDDEN', 'Only device integrations post results');
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type && !['application/hl7-v2', 'x-application/hl7-v2+er7', 'text/plain'].includes(type)) return errorResponse('BAD_REQUEST', 'Send HL7 v2 (application/hl7-v2)');
    const received = await receiveHl7(deps, { organizationId: identity.organizationId, transport: 'HTTP', text: request.body.toString('utf8') });
    const status = received.some((message) => message.code === 'AR') ? 400 : received.some((message) => message.code === 'AE') ? 422 : 200;
    return { status, body: received.map((message) => message.ack).join('\r\r'), headers: { 'content-type': 'application/hl7-v2; charset=utf-8' } };
  },
};
