import type { GraphQLSchema } from 'graphql';
import type { QueueEntry } from '../../prisma/generated/client/client.js';
import { createBuilder, extendPatient, optionalPeriodArgs, patientReference, toSubgraphSchema } from '../kit/builder.js';
import { NurseEvents } from '../kit/events/nurse.js';
import { eventTopic, type RelayedEvent } from '../kit/outbox.js';
import * as nurse from './service.js';

/** The nurse subgraph's types. Resolvers translate; rules live in service.ts. */
export function buildNurseSchema(): GraphQLSchema {
  const builder = createBuilder({ subscriptions: true });

  const UrgencyEnum = builder.enumType('Urgency', { values: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const });
  const StatusEnum = builder.enumType('QueueStatus', { values: ['WAITING', 'IN_REVIEW', 'APPROVED', 'OVERRIDDEN', 'ESCALATED', 'RESOLVED'] as const });
  const SourceEnum = builder.enumType('QueueSource', { values: ['CHAT_RED_FLAG', 'TRIAGE', 'ASSESSMENT', 'LAB_RESULT', 'DEVICE_READING', 'MANUAL'] as const });
  const ActionEnum = builder.enumType('QueueAction', { values: ['APPROVE', 'OVERRIDE', 'ESCALATE'] as const });
  const ActionKindEnum = builder.enumType('NurseActionKind', { values: ['CLAIM', 'RELEASE', 'APPROVE', 'OVERRIDE', 'ESCALATE', 'RESOLVE'] as const });
  const EventKindEnum = builder.enumType('QueueEventKind', { values: ['ADDED', 'CHANGED', 'REMOVED'] as const });

  // Entities owned by identity, referenced by key; the gateway resolves their fields.
  const PatientRef = patientReference(builder);
  const UserRef = builder.externalRef('User', builder.keyDirective(builder.selection<{ id: string }>('id'), false)).implement({
    externalFields: (t) => ({ id: t.id() }),
  });

  const NurseActionRef = builder.prismaObject('NurseAction', {
    fields: (t) => ({
      id: t.exposeID('id'),
      nurse: t.field({ type: UserRef, resolve: (a) => ({ id: a.nurseId }) }),
      action: t.field({ type: ActionKindEnum, resolve: (a) => a.action }),
      reason: t.exposeString('reason', { nullable: true }),
      fromStatus: t.field({ type: StatusEnum, resolve: (a) => a.fromStatus }),
      toStatus: t.field({ type: StatusEnum, resolve: (a) => a.toStatus }),
      fromUrgency: t.field({ type: UrgencyEnum, resolve: (a) => a.fromUrgency }),
      toUrgency: t.field({ type: UrgencyEnum, resolve: (a) => a.toUrgency }),
      at: t.expose('at', { type: 'DateTime' }),
    }),
  });

  const QueueEntryRef = builder.prismaObject('QueueEntry', {
    fields: (t) => ({
      id: t.exposeID('id'),
      organizationId: t.exposeID('organizationId'),
      patient: t.field({ type: PatientRef, resolve: (e) => ({ id: e.patientId }) }),
      source: t.field({ type: SourceEnum, resolve: (e) => e.source }),
      sourceRef: t.exposeString('sourceRef', { nullable: true, description: 'e.g. the chat session a red flag was raised in' }),
      urgency: t.field({ type: UrgencyEnum, resolve: (e) => e.urgency }),
      reason: t.exposeString('reason'),
      redFlagCodes: t.exposeStringList('redFlagCodes'),
      status: t.field({ type: StatusEnum, resolve: (e) => e.status }),
      assignedNurse: t.field({ type: UserRef, nullable: true, resolve: (e) => (e.assignedNurseId ? { id: e.assignedNurseId } : null) }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      slaDueAt: t.expose('slaDueAt', { type: 'DateTime' }),
      waitingSeconds: t.int({ resolve: (e) => Math.max(0, Math.round((Date.now() - e.createdAt.getTime()) / 1000)) }),
      version: t.exposeInt('version'),
      actions: t.field({ type: [NurseActionRef], resolve: (e, _args, ctx) => nurse.actionsFor(ctx, e.id) }),
    }),
  });
  builder.asEntity(QueueEntryRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => nurse.loadEntry(ctx, ref.id) });

  extendPatient(PatientRef, (t) => ({
    queueEntries: t.field({
      type: [QueueEntryRef],
      description: 'This patient’s entries in the caller’s organization’s nurse queue.',
      resolve: (patient, _args, ctx) => nurse.entriesForPatient(ctx, patient.id),
    }),
  }));

  const QueueFilterInput = builder.inputType('QueueFilter', {
    fields: (t) => ({
      urgency: t.field({ type: [UrgencyEnum], required: false }),
      status: t.field({ type: [StatusEnum], required: false, description: 'Defaults to open entries (waiting, in review, escalated).' }),
      hasRedFlags: t.boolean({ required: false }),
      organizationId: t.id({ required: false }),
    }),
  });
  const ManualEntryInput = builder.inputType('ManualQueueEntryInput', {
    fields: (t) => ({ patientId: t.id({ required: true }), urgency: t.field({ type: UrgencyEnum, required: true }), reason: t.string({ required: true }) }),
  });

  const filterOf = (input: { urgency?: Array<'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW'> | null; status?: Array<QueueEntry['status']> | null; hasRedFlags?: boolean | null; organizationId?: string | number | null } | null | undefined): nurse.QueueFilter => ({
    urgency: input?.urgency ?? null,
    status: input?.status ?? null,
    hasRedFlags: input?.hasRedFlags ?? null,
    organizationId: input?.organizationId ? String(input.organizationId) : null,
  });

  const QueueEventRef = builder.objectRef<{ kind: nurse.QueueEventKind; entry: QueueEntry }>('QueueEvent').implement({
    fields: (t) => ({ kind: t.field({ type: EventKindEnum, resolve: (e) => e.kind }), entry: t.field({ type: QueueEntryRef, resolve: (e) => e.entry }) }),
  });

  const CountByUrgency = builder.objectRef<{ urgency: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW'; count: number }>('UrgencyCount').implement({
    fields: (t) => ({ urgency: t.field({ type: UrgencyEnum, resolve: (c) => c.urgency }), count: t.exposeInt('count') }),
  });
  const CountByStatus = builder.objectRef<{ status: QueueEntry['status']; count: number }>('StatusCount').implement({
    fields: (t) => ({ status: t.field({ type: StatusEnum, resolve: (c) => c.status }), count: t.exposeInt('count') }),
  });
  const NurseActivity = builder.objectRef<{ nurseId: string; count: number }>('NurseActivity').implement({
    fields: (t) => ({ nurse: t.field({ type: UserRef, resolve: (a) => ({ id: a.nurseId }) }), actions: t.exposeInt('count') }),
  });
  const DashboardRef = builder.objectRef<nurse.NurseDashboard>('NurseDashboard').implement({
    fields: (t) => ({
      byUrgency: t.field({ type: [CountByUrgency], resolve: (d) => d.byUrgency }),
      byStatus: t.field({ type: [CountByStatus], resolve: (d) => d.byStatus }),
      medianWaitSeconds: t.exposeInt('medianWaitSeconds', { nullable: true }),
      p90WaitSeconds: t.exposeInt('p90WaitSeconds', { nullable: true }),
      slaBreaches: t.exposeInt('slaBreaches'),
      actionsPerNurse: t.field({ type: [NurseActivity], resolve: (d) => d.actionsPerNurse }),
    }),
  });

  builder.queryFields((t) => ({
    nurseQueue: t.prismaConnection(
      {
        type: 'QueueEntry',
        cursor: 'id',
        defaultSize: 50,
        maxSize: 500,
        description: 'The organization’s queue: most urgent first, then longest waiting.',
        args: { filter: t.arg({ type: QueueFilterInput, required: false }) },
        resolve: (query, _root, args, ctx) => nurse.queuePage(ctx, query, filterOf(args.filter)),
      },
      { name: 'QueueEntryConnection' },
      { name: 'QueueEntryEdge' },
    ),
    queueEntry: t.field({ type: QueueEntryRef, nullable: true, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => nurse.loadEntry(ctx, String(args.id)) }),
    nurseDashboard: t.field({
      type: DashboardRef,
      args: { organizationId: t.arg.id({ required: true }), ...optionalPeriodArgs(builder) },
      resolve: (_root, args, ctx) => nurse.dashboard(ctx, String(args.organizationId), args.from, args.to),
    }),
  }));

  builder.mutationFields((t) => ({
    createQueueEntry: t.field({
      type: QueueEntryRef,
      args: { input: t.arg({ type: ManualEntryInput, required: true }) },
      resolve: (_root, { input }, ctx) => nurse.createManualEntry(ctx, { patientId: String(input.patientId), urgency: input.urgency, reason: input.reason }),
    }),
    claimQueueEntry: t.field({
      type: QueueEntryRef,
      args: { id: t.arg.id({ required: true }), expectedVersion: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => nurse.claimEntry(ctx, String(args.id), args.expectedVersion),
    }),
    releaseQueueEntry: t.field({
      type: QueueEntryRef,
      args: { id: t.arg.id({ required: true }), expectedVersion: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => nurse.releaseEntry(ctx, String(args.id), args.expectedVersion),
    }),
    actOnQueueEntry: t.field({
      type: QueueEntryRef,
      description: 'Approve, override or escalate; a stale expectedVersion gets CONFLICT and changes nothing.',
      args: {
        id: t.arg.id({ required: true }),
        action: t.arg({ type: ActionEnum, required: true }),
        reason: t.arg.string({ required: false }),
        newUrgency: t.arg({ type: UrgencyEnum, required: false }),
        expectedVersion: t.arg.int({ required: true }),
      },
      resolve: (_root, args, ctx) => nurse.actOnEntry(ctx, String(args.id), { action: args.action, reason: args.reason, newUrgency: args.newUrgency, expectedVersion: args.expectedVersion }),
    }),
  }));

  const changes = (ctx: Parameters<typeof nurse.authorizeQueueStream>[0] & { pubsub: { subscribe<T>(topic: string): AsyncIterableIterator<T>; ready(topic: string): Promise<void> } }) => {
    const topic = eventTopic(NurseEvents.queueChanged.type);
    const events = ctx.pubsub.subscribe<RelayedEvent>(topic);
    return { events, ready: ctx.pubsub.ready(topic) };
  };

  builder.subscriptionFields((t) => ({
    queueUpdated: t.field({
      type: QueueEventRef,
      description: 'Entries added to, changed in or removed from the caller’s organization’s queue (matching the filter).',
      args: { filter: t.arg({ type: QueueFilterInput, required: false }) },
      subscribe: async function* (_root, args, ctx) {
        const filter = filterOf(args.filter);
        nurse.authorizeQueueStream(ctx, filter.organizationId);
        const { events, ready } = changes(ctx);
        await ready;
        try {
          for await (const event of events) {
            const changeEvent = event.payload as unknown as nurse.QueueChange;
            const entry = await nurse.visibleChange(ctx, changeEvent, filter);
            if (entry) yield { kind: changeEvent.kind, entry };
          }
        } finally {
          await events.return?.();
        }
      },
      resolve: (event) => event,
    }),
    redFlagAlerts: t.field({
      type: QueueEntryRef,
      description: 'New queue entries raised by a red flag in chat, as they arrive.',
      args: { organizationId: t.arg.id({ required: true }) },
      subscribe: async function* (_root, args, ctx) {
        nurse.authorizeQueueStream(ctx, String(args.organizationId));
        const { events, ready } = changes(ctx);
        await ready;
        try {
          for await (const event of events) {
            const changeEvent = event.payload as unknown as nurse.QueueChange;
            if (changeEvent.kind !== 'ADDED' || changeEvent.source !== 'CHAT_RED_FLAG') continue;
            const entry = await nurse.visibleChange(ctx, changeEvent, null);
            if (entry) yield entry;
          }
        } finally {
          await events.return?.();
        }
      },
      resolve: (entry) => entry,
    }),
  }));

  return toSubgraphSchema(builder);
}
