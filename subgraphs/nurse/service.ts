import { Prisma, type NurseAction, type QueueEntry, type QueueSource, type QueueStatus, type Urgency } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import type { SubgraphContext } from '../kit/context.js';
import { badUserInput, conflict, DomainError, ErrorCode, forbidden } from '../kit/errors.js';
import { ChatEvents } from '../kit/events/chat.js';
import { MalformedEvent, on, type EventConsumer } from '../kit/events/consumers.js';
import { DevicesEvents } from '../kit/events/devices.js';
import { NurseEvents } from '../kit/events/nurse.js';
import { requireStaffOf, Role, type RoleName } from '../kit/identity.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';

/**
 * The live nurse queue. Entries arrive from other domains' events (a red flag in chat) or
 * are created by staff; nurses claim, release and act on them. Every change is versioned
 * (a stale `expectedVersion` is a CONFLICT and changes nothing), recorded as a NurseAction,
 * and announced through the outbox as `nurse.queue.changed`.
 */

export const SOURCE = 'nurse';
type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'directory'>;

/** Who works the queue. */
export const QUEUE_STAFF: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN];
/** Who may see the queue's figures. */
export const DASHBOARD_VIEWERS: readonly RoleName[] = [Role.NURSE, Role.CLINICIAN, Role.ADMIN];

export const URGENCY_RANK: Record<Urgency, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3 };
/** How long each urgency may wait for a nurse. */
export const SLA_MINUTES: Record<Urgency, number> = { CRITICAL: 5, HIGH: 15, MEDIUM: 60, LOW: 240 };
const OPEN_STATUSES: QueueStatus[] = ['WAITING', 'IN_REVIEW', 'ESCALATED'];

export type QueueEventKind = 'ADDED' | 'CHANGED' | 'REMOVED';
export interface QueueChange {
  kind: QueueEventKind;
  entryId: string;
  organizationId: string;
  source: QueueSource;
}

const requireQueueStaff = (ctx: Ctx) => requireStaffOf(ctx.identity, QUEUE_STAFF, 'Only nurses and clinicians work the queue');

/** An organization the caller names (a filter, a dashboard) must be theirs: asking for another's is refused, not answered empty. */
function checkOrganization(identity: { organizationId: string }, organizationId: string | null | undefined): void {
  if (organizationId && organizationId !== identity.organizationId) throw forbidden('You may see only your organization’s queue');
}

/**
 * Every event carries the entry's whole timeline-relevant state (times, SLA due, version), so
 * a reader (analytics) can apply the events in any order by version.
 */
async function announce(tx: TransactionClient, entry: QueueEntry, kind: QueueEventKind, action: Pick<NurseAction, 'action' | 'at'> | null = null): Promise<void> {
  await recordEvent(tx, NurseEvents.queueChanged, {
    aggregateId: entry.id,
    organizationId: entry.organizationId,
    payload: {
      kind, entryId: entry.id, organizationId: entry.organizationId, source: entry.source, urgency: entry.urgency, status: entry.status, version: entry.version,
      action: action?.action ?? null, at: (action?.at ?? entry.createdAt).toISOString(), createdAt: entry.createdAt.toISOString(), slaDueAt: entry.slaDueAt.toISOString(),
    },
  });
}

// ---------------------------------------------------------------- entries from events

async function addEntry(
  tx: TransactionClient,
  data: { organizationId: string; patientId: string; source: QueueSource; sourceEventId?: string; sourceRef?: string; urgency: Urgency; reason: string; redFlagCodes?: string[] },
): Promise<QueueEntry> {
  const createdAt = new Date();
  const entry = await tx.queueEntry.create({
    data: { ...data, redFlagCodes: data.redFlagCodes ?? [], urgencyRank: URGENCY_RANK[data.urgency], createdAt, slaDueAt: new Date(createdAt.getTime() + SLA_MINUTES[data.urgency] * 60_000) },
  });
  await announce(tx, entry, 'ADDED');
  return entry;
}

/** The patient's organization as this subgraph's directory knows it (read in the consumer's transaction), or null. */
async function directoryOrganizationOf(tx: TransactionClient, patientId: string): Promise<string | null> {
  const entry = await tx.directoryEntry.findUnique({ where: { domain_kind_id: { domain: SOURCE, kind: 'Patient', id: patientId } } });
  return entry?.organizationId ?? null;
}

/**
 * A red flag raised in chat becomes a queue entry, once: the kit records the event as
 * consumed in this transaction, and the entry's unique sourceEventId backs that up.
 * The reason names the flags, never the patient's words.
 *
 * Tenancy: an event whose organization is not the patient's (by the directory) is skipped as
 * malformed rather than shown to another organization's nurses. A patient the directory has
 * not heard of yet (its events lag) is taken at the event's word: chat checked the patient
 * when the chat started, and a red flag must never wait or be dropped.
 */
export const redFlagConsumer: EventConsumer = {
  name: 'nurse.queue-from-chat-red-flags',
  handlers: [
    on(ChatEvents.redFlagRaised, async (event, tx) => {
      const { flags, patientId, organizationId, sessionId } = event.payload;
      if (event.organizationId !== organizationId) throw new MalformedEvent('the event’s organization differs from its payload’s');
      const patientOrganization = await directoryOrganizationOf(tx, patientId);
      if (patientOrganization !== null && patientOrganization !== organizationId) throw new MalformedEvent('the patient belongs to another organization than the event’s');
      if (await tx.queueEntry.findUnique({ where: { sourceEventId: event.id } })) return;
      const urgency: Urgency = flags.some((f) => f.urgency === 'critical') ? 'CRITICAL' : 'HIGH';
      const codes = [...new Set(flags.map((f) => f.code))];
      await addEntry(tx, { organizationId, patientId, source: 'CHAT_RED_FLAG', sourceEventId: event.id, sourceRef: sessionId, urgency, reason: `Red flag in chat: ${codes.join(', ')}`, redFlagCodes: codes });
    }),
  ],
};

/**
 * A critical result (devices: a lab's HH/LL, a wearable past its threshold) becomes a queue
 * entry at its urgency, once, with the same tenancy checks as a red flag. The reason names the
 * test and its flags, never the value or the patient.
 */
export const criticalResultConsumer: EventConsumer = {
  name: 'nurse.queue-from-critical-results',
  handlers: [
    on(DevicesEvents.observationCritical, async (event, tx) => {
      const { patientId, organizationId, observationId, display, code, flags, urgency, source } = event.payload;
      if (event.organizationId !== organizationId) throw new MalformedEvent('the event’s organization differs from its payload’s');
      const patientOrganization = await directoryOrganizationOf(tx, patientId);
      if (patientOrganization !== null && patientOrganization !== organizationId) throw new MalformedEvent('the patient belongs to another organization than the event’s');
      if (await tx.queueEntry.findUnique({ where: { sourceEventId: event.id } })) return;
      const flagged = flags.length ? ` (${flags.join(', ')})` : '';
      const fromDevice = source === 'DEVICE';
      await addEntry(tx, {
        organizationId, patientId, source: fromDevice ? 'DEVICE_READING' : 'LAB_RESULT', sourceEventId: event.id, sourceRef: observationId, urgency,
        reason: `${fromDevice ? 'Critical device reading' : 'Critical result'}: ${display || code}${flagged}`.slice(0, 500),
      });
    }),
  ],
};

export async function createManualEntry(ctx: Ctx, input: { patientId: string; urgency: Urgency; reason: string }): Promise<QueueEntry> {
  const staff = requireQueueStaff(ctx);
  const reason = input.reason.trim();
  if (reason.length < 3 || reason.length > 500) throw badUserInput('input.reason', 'must be 3-500 characters');
  // Another organization's patient is FORBIDDEN, an unknown one NOT_FOUND: nothing is written.
  await ctx.directory.require('Patient', input.patientId, [staff.organizationId]);
  return ctx.db.$transaction((tx) => addEntry(tx, { organizationId: staff.organizationId, patientId: input.patientId, source: 'MANUAL', urgency: input.urgency, reason }));
}

// ---------------------------------------------------------------- reading

export interface QueueFilter {
  urgency?: Urgency[] | null;
  status?: QueueStatus[] | null;
  hasRedFlags?: boolean | null;
  organizationId?: string | null;
}

/** A filter as a where-clause; without a status filter, `statuses` (all when null). The organization comes from the access policy. */
function filterWhere(filter: QueueFilter | null | undefined, statuses: QueueStatus[] | null): Prisma.QueueEntryWhereInput {
  const status = filter?.status?.length ? filter.status : statuses;
  return {
    ...(filter?.urgency?.length ? { urgency: { in: filter.urgency } } : {}),
    ...(status ? { status: { in: status } } : {}),
    ...(filter?.hasRedFlags === true ? { redFlagCodes: { isEmpty: false } } : filter?.hasRedFlags === false ? { redFlagCodes: { isEmpty: true } } : {}),
  };
}

/** Most urgent first, then longest waiting; id breaks ties so cursors are stable. */
export const QUEUE_ORDER: Prisma.QueueEntryOrderByWithRelationInput[] = [{ urgencyRank: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }];

/** One page of the caller's queue (`page`: the connection's take, cursor and selection). */
export function queuePage(ctx: Ctx, page: Omit<Prisma.QueueEntryFindManyArgs, 'where' | 'orderBy'>, filter: QueueFilter | null | undefined): Promise<QueueEntry[]> {
  checkOrganization(requireQueueStaff(ctx), filter?.organizationId);
  return ctx.db.queueEntry.findMany({ ...page, where: filterWhere(filter, OPEN_STATUSES), orderBy: QUEUE_ORDER });
}

/** An entry of the caller's organization's queue (FORBIDDEN when it is another's, NOT_FOUND when there is none). */
export async function loadEntry(ctx: Ctx, id: string): Promise<QueueEntry> {
  requireQueueStaff(ctx);
  return loadVisible<QueueEntry>(ctx, 'QueueEntry', id);
}

/** Whether a queue change concerns the caller and matches the filter (for subscriptions). */
export async function visibleChange(ctx: Ctx, change: QueueChange, filter: QueueFilter | null | undefined): Promise<QueueEntry | null> {
  const staff = requireQueueStaff(ctx);
  if (change.organizationId !== staff.organizationId) return null;
  // Filtered in the query, so only entries sent to the subscriber are read (and audited);
  // findFirst: an entry outside the scope is simply not this subscriber's (no FORBIDDEN mid-stream).
  return ctx.db.queueEntry.findFirst({ where: { id: change.entryId, ...filterWhere(filter, null) } });
}

export function authorizeQueueStream(ctx: Ctx, organizationId?: string | null): void {
  checkOrganization(requireQueueStaff(ctx), organizationId);
}

export async function entriesForPatient(ctx: Ctx, patientId: string): Promise<QueueEntry[]> {
  requireQueueStaff(ctx);
  return ctx.loaders
    .groupedBy<QueueEntry>('queueByPatient', (patientIds) => ctx.db.queueEntry.findMany({ where: { patientId: { in: patientIds } }, orderBy: QUEUE_ORDER }), (row) => row.patientId)
    .load(patientId);
}

export async function actionsFor(ctx: Ctx, entryId: string): Promise<NurseAction[]> {
  return ctx.loaders
    .groupedBy<NurseAction>('actionsByEntry', (ids) => ctx.db.nurseAction.findMany({ where: { entryId: { in: ids } }, orderBy: { at: 'asc' } }), (row) => row.entryId)
    .load(entryId);
}

// ---------------------------------------------------------------- acting

export type QueueAction = 'APPROVE' | 'OVERRIDE' | 'ESCALATE';

/**
 * Applies one change if, and only if, the entry is still at `expectedVersion` (when given):
 * the update is conditional on the version, so of two nurses acting at once one wins and the
 * other gets CONFLICT with nothing changed.
 */
async function change(
  ctx: Ctx,
  id: string,
  expectedVersion: number | null | undefined,
  decide: (entry: QueueEntry, nurseId: string) => { action: NurseAction['action']; status: QueueStatus; urgency?: Urgency; assignedNurseId?: string | null; reason?: string | null },
): Promise<QueueEntry> {
  const staff = requireQueueStaff(ctx);
  const current = await loadEntry(ctx, id);
  if (expectedVersion !== null && expectedVersion !== undefined && current.version !== expectedVersion) {
    throw conflict(`The entry changed (version ${current.version}, you expected ${expectedVersion}); reload it`);
  }
  const next = decide(current, staff.subject);
  const urgency = next.urgency ?? current.urgency;
  const at = new Date();
  const changedMeanwhile = () => conflict('The entry changed while you were acting on it; reload it');
  return ctx.db.$transaction(async (tx) => {
    // Checked first, inside the transaction: an update that matches nothing makes the data path
    // look the row up outside the transaction, which embedded PGlite cannot serve until it ends.
    if ((await tx.queueEntry.count({ where: { id, version: current.version } })) === 0) throw changedMeanwhile();
    let entry: QueueEntry;
    try {
      // Conditional on the version; the action is written with its entry, under the entry's write policy.
      entry = await tx.queueEntry.update({
        where: { id, version: current.version },
        data: {
          status: next.status,
          urgency,
          urgencyRank: URGENCY_RANK[urgency],
          ...(next.assignedNurseId !== undefined ? { assignedNurseId: next.assignedNurseId } : {}),
          ...(urgency !== current.urgency ? { slaDueAt: new Date(current.createdAt.getTime() + SLA_MINUTES[urgency] * 60_000) } : {}),
          version: { increment: 1 },
          actions: { create: { nurseId: staff.subject, action: next.action, reason: next.reason ?? null, fromStatus: current.status, toStatus: next.status, fromUrgency: current.urgency, toUrgency: urgency, at } },
        },
      });
    } catch (error) {
      // Another nurse's change committed between the check and the update (PostgreSQL): the version no longer matches.
      if (error instanceof DomainError && error.code === ErrorCode.NOT_FOUND) throw changedMeanwhile();
      throw error;
    }
    await announce(tx, entry, OPEN_STATUSES.includes(entry.status) ? 'CHANGED' : 'REMOVED', { action: next.action, at });
    return entry;
  });
}

export function claimEntry(ctx: Ctx, id: string, expectedVersion?: number | null): Promise<QueueEntry> {
  return change(ctx, id, expectedVersion, (entry, nurseId) => {
    if (entry.status !== 'WAITING') throw conflict(`The entry is ${entry.status.toLowerCase().replace('_', ' ')}, not waiting`);
    return { action: 'CLAIM', status: 'IN_REVIEW', assignedNurseId: nurseId };
  });
}

export function releaseEntry(ctx: Ctx, id: string, expectedVersion?: number | null): Promise<QueueEntry> {
  return change(ctx, id, expectedVersion, (entry, nurseId) => {
    if (entry.status !== 'IN_REVIEW') throw conflict('Only an entry in review can be released');
    if (entry.assignedNurseId !== nurseId) throw forbidden('Only the nurse reviewing it can release it');
    return { action: 'RELEASE', status: 'WAITING', assignedNurseId: null };
  });
}

export function actOnEntry(ctx: Ctx, id: string, input: { action: QueueAction; reason?: string | null; newUrgency?: Urgency | null; expectedVersion: number }): Promise<QueueEntry> {
  const reason = input.reason?.trim() || null;
  return change(ctx, id, input.expectedVersion, (entry) => {
    if (!OPEN_STATUSES.includes(entry.status)) throw conflict(`The entry is already ${entry.status.toLowerCase()}`);
    switch (input.action) {
      case 'APPROVE':
        return { action: 'APPROVE', status: 'APPROVED', reason };
      case 'OVERRIDE':
        if (!reason) throw badUserInput('reason', 'say why you override');
        if (!input.newUrgency || input.newUrgency === entry.urgency) throw badUserInput('newUrgency', 'give the urgency you override to');
        return { action: 'OVERRIDE', status: 'OVERRIDDEN', urgency: input.newUrgency, reason };
      case 'ESCALATE': {
        if (!reason) throw badUserInput('reason', 'say why you escalate');
        const urgency = input.newUrgency ?? 'CRITICAL';
        if (URGENCY_RANK[urgency] > URGENCY_RANK[entry.urgency]) throw badUserInput('newUrgency', 'escalating cannot lower the urgency');
        return { action: 'ESCALATE', status: 'ESCALATED', urgency, reason };
      }
    }
  });
}

// ---------------------------------------------------------------- dashboard

export interface NurseDashboard {
  byUrgency: Array<{ urgency: Urgency; count: number }>;
  byStatus: Array<{ status: QueueStatus; count: number }>;
  medianWaitSeconds: number | null;
  p90WaitSeconds: number | null;
  slaBreaches: number;
  actionsPerNurse: Array<{ nurseId: string; count: number }>;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? null;
}

/**
 * The organization's queue over a window: entries created in it by urgency and status, how
 * long they waited for a first nurse action (entries still waiting count until now), SLA
 * breaches (first action after the due time, or none yet and past it), and actions per nurse.
 */
export async function dashboard(ctx: Ctx, organizationId: string, from?: Date | null, to?: Date | null): Promise<NurseDashboard> {
  checkOrganization(requireStaffOf(ctx.identity, DASHBOARD_VIEWERS, 'You may not see the queue’s figures'), organizationId);
  const end = to ?? new Date();
  const start = from ?? new Date(end.getTime() - 24 * 3600_000);
  if (start >= end) throw badUserInput('from', 'must be before to');
  // Figures only: no entry ids, patients or codes are selected, so there is no record read to audit.
  const entries = await ctx.db.queueEntry.findMany({
    where: { organizationId, createdAt: { gte: start, lt: end } },
    select: { urgency: true, status: true, createdAt: true, slaDueAt: true, actions: { select: { at: true }, orderBy: { at: 'asc' }, take: 1 } },
  });
  const now = Date.now();
  const waits: number[] = [];
  let slaBreaches = 0;
  for (const entry of entries) {
    const firstAction = entry.actions[0]?.at.getTime();
    const waitedUntil = firstAction ?? now;
    waits.push(Math.round((waitedUntil - entry.createdAt.getTime()) / 1000));
    if (waitedUntil > entry.slaDueAt.getTime()) slaBreaches += 1;
  }
  waits.sort((a, b) => a - b);
  const actions = await ctx.db.nurseAction.groupBy({ by: ['nurseId'], where: { entry: { organizationId }, at: { gte: start, lt: end } }, _count: { _all: true } });
  const count = <K extends string>(values: K[], all: readonly K[]) => all.map((key) => ({ key, count: values.filter((v) => v === key).length }));
  return {
    byUrgency: count(entries.map((e) => e.urgency), ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const).map(({ key, count: n }) => ({ urgency: key, count: n })),
    byStatus: count(entries.map((e) => e.status), ['WAITING', 'IN_REVIEW', 'APPROVED', 'OVERRIDDEN', 'ESCALATED', 'RESOLVED'] as const).map(({ key, count: n }) => ({ status: key, count: n })),
    medianWaitSeconds: percentile(waits, 50),
    p90WaitSeconds: percentile(waits, 90),
    slaBreaches,
    actionsPerNurse: actions.map((a) => ({ nurseId: a.nurseId, count: a._count._all })).sort((a, b) => b.count - a.count || a.nurseId.localeCompare(b.nurseId)),
  };
}
