import type { GraphQLSchema } from 'graphql';
import type { WearableConnection as WearableConnectionRow } from '../../prisma/generated/client/client.js';
import { createBuilder, extendPatient, patientReference, toSubgraphSchema } from '../kit/builder.js';
import { DevicesEvents } from '../kit/events/devices.js';
import { requireOwnOrStaff } from '../kit/identity.js';
import { eventTopic, type RelayedEvent } from '../kit/outbox.js';
import * as observations from './observations.js';
import { RESULT_READERS } from './policies.js';
import * as wearables from './wearables.js';

/** The devices subgraph's types. Resolvers translate; rules live in the services, access in policies.ts. */
export function buildDevicesSchema(): GraphQLSchema {
  const builder = createBuilder({ subscriptions: true });
  const PatientRef = patientReference(builder);

  const StatusEnum = builder.enumType('ObservationStatus', { values: ['REGISTERED', 'PRELIMINARY', 'FINAL', 'AMENDED', 'CORRECTED', 'CANCELLED', 'ENTERED_IN_ERROR'] as const });
  const SourceEnum = builder.enumType('ObservationSource', { values: ['LAB', 'DEVICE'] as const });
  const SourcePatientRef = builder.objectRef<{ identifier: string; name: string }>('SourcePatient').implement({
    description: 'The patient as the sender named them (PID-3 and PID-5), for reconciliation.',
    fields: (t) => ({ identifier: t.exposeString('identifier'), name: t.exposeString('name') }),
  });

  const ObservationRef = builder.prismaObject('Observation', {
    description: 'A lab or device result.',
    fields: (t) => ({
      id: t.exposeID('id'),
      patient: t.field({ type: PatientRef, nullable: true, description: 'Null until matched or assigned.', resolve: (o) => (o.patientId ? { id: o.patientId } : null) }),
      source: t.field({ type: SourceEnum, resolve: (o) => o.source }),
      code: t.exposeString('code', { description: 'LOINC when the lab sent it, else its local code.' }),
      codeSystem: t.exposeString('codeSystem'),
      display: t.exposeString('display'),
      valueType: t.exposeString('valueType', { description: 'HL7 value type: NM, SN, ST, TX, CWE…' }),
      value: t.exposeString('valueText', { description: 'As written.' }),
      valueNumber: t.string({ nullable: true, description: 'Numeric results as an exact decimal.', resolve: (o) => o.valueNumber?.toString() ?? null }),
      comparator: t.exposeString('comparator', { nullable: true }),
      unit: t.exposeString('unit', { nullable: true, description: 'UCUM when the sender used it.' }),
      referenceRange: t.exposeString('referenceRange', { nullable: true }),
      interpretation: t.exposeStringList('interpretation', { description: 'Abnormal flags (L, H, LL, HH, A…).' }),
      critical: t.exposeBoolean('critical'),
      abnormal: t.boolean({ description: 'Flagged outside its range (any flag but N), critical or not: what a clinician’s eye goes to.', resolve: (o) => observations.isAbnormal(o) }),
      status: t.field({ type: StatusEnum, resolve: (o) => o.status }),
      effectiveAt: t.expose('effectiveAt', { type: 'DateTime', nullable: true }),
      receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
      notes: t.exposeStringList('notes'),
      sourcePatient: t.field({ type: SourcePatientRef, resolve: (o) => ({ identifier: o.sourcePatientId, name: o.sourcePatientName }) }),
      fhir: t.string({ description: 'The result as a FHIR R4 Observation (JSON).', resolve: (o) => observations.fhirObservationJson(o) }),
      diagnosticReport: t.string({ description: 'The report of the order it answers, as a FHIR R4 DiagnosticReport (JSON).', resolve: (o, _args, ctx) => observations.diagnosticReportOf(ctx, o) }),
    }),
  });
  builder.asEntity(ObservationRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => observations.loadObservation(ctx, ref.id) });

  const ProviderEnum = builder.enumType('WearableProvider', { values: ['GOOGLE_HEALTH'] as const, description: 'Google Health: Fitbit and Pixel data (the Fitbit Web API’s successor).' });
  const ConnectionStatusEnum = builder.enumType('WearableConnectionStatus', {
    values: ['PENDING', 'ACTIVE', 'REAUTHORIZE', 'DISCONNECTED'] as const,
    description: 'PENDING until the patient consents; REAUTHORIZE when the provider no longer honours it (connect again).',
  });
  const DataTypeEnum = builder.enumType('WearableDataType', { values: ['HEART_RATE', 'STEPS', 'SLEEP', 'OXYGEN_SATURATION'] as const });
  const ConnectionRef = builder.prismaObject('WearableConnection', {
    description: 'A patient’s wearable account, synced into observations. Its tokens never leave devices (sealed at rest).',
    fields: (t) => ({
      id: t.exposeID('id'),
      patient: t.field({ type: PatientRef, resolve: (c) => ({ id: c.patientId }) }),
      provider: t.field({ type: ProviderEnum, resolve: (c) => c.provider }),
      status: t.field({ type: ConnectionStatusEnum, resolve: (c) => c.status }),
      dataTypes: t.field({ type: [DataTypeEnum], description: 'What the patient granted and is synced (none unless ACTIVE).', resolve: (c, _args, ctx) => wearables.dataTypesOf(ctx, c) }),
      connectedAt: t.expose('connectedAt', { type: 'DateTime', nullable: true }),
      disconnectedAt: t.expose('disconnectedAt', { type: 'DateTime', nullable: true }),
      lastSyncAt: t.expose('lastSyncAt', { type: 'DateTime', nullable: true }),
      nextSyncAt: t.expose('nextSyncAt', { type: 'DateTime', nullable: true }),
      retryAfter: t.field({ type: 'DateTime', nullable: true, description: 'Held back until then after a failure or the provider’s rate limit.', resolve: (c) => (c.failures > 0 ? c.heldUntil : null) }),
      lastProblem: t.exposeString('lastError', { nullable: true, description: 'Why the last sync or revocation failed (no PHI).' }),
      revocationPending: t.boolean({ description: 'Disconnected, and the provider has not yet taken the revocation (retried).', resolve: (c) => c.status === 'DISCONNECTED' && c.sealedRefreshToken !== null }),
    }),
  });
  builder.asEntity(ConnectionRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => wearables.loadConnection(ctx, ref.id) });
  const AuthorizationRef = builder.objectRef<{ connection: WearableConnectionRow; authorizationUrl: string }>('WearableAuthorization').implement({
    description: 'Send the patient to `authorizationUrl`; the provider sends them back to the app with `code` and `state` for completeWearableConnection.',
    fields: (t) => ({ connection: t.field({ type: ConnectionRef, resolve: (a) => a.connection }), authorizationUrl: t.exposeString('authorizationUrl') }),
  });

  extendPatient(PatientRef, (t) => ({
    wearableConnections: t.field({
      type: [ConnectionRef],
      description: 'The patient’s wearable connections: their own for the patient, the organization’s patients’ for nurses and clinicians.',
      resolve: (patient, _args, ctx) => {
        requireOwnOrStaff(ctx.identity, patient.id, RESULT_READERS, 'wearables');
        return wearables.connectionsOfPatient(ctx, patient.id);
      },
    }),
    observations: t.field({
      type: [ObservationRef],
      description: 'This patient’s results, newest first: their own for the patient, the organization’s for nurses and clinicians.',
      args: { code: t.arg.string({ required: false }), first: t.arg.int({ required: false }) },
      resolve: (patient, args, ctx) => observations.observationsOfPatient(ctx, patient.id, { code: args.code ?? null, first: args.first ?? 50 }),
    }),
  }));

  // Telemedicine's consultation: the patient's readings around it (remote diagnostics), joined on the patient and times it names.
  builder.externalRef('Consultation', builder.selection<{ id: string }>('id')).implement({
    externalFields: (t) => ({ id: t.id(), patientId: t.id(), startsAt: t.field({ type: 'DateTime' }), endsAt: t.field({ type: 'DateTime' }) }),
    fields: (t) => ({
      readings: t.field({
        type: [ObservationRef],
        description: 'The patient’s lab and device readings from 24 hours before the consultation to its end, newest first; abnormal ones flagged.',
        requires: builder.selection<{ patientId?: string; startsAt?: string | Date; endsAt?: string | Date }>('patientId startsAt endsAt'),
        resolve: (c, _args, ctx) => observations.readingsAround(ctx, { patientId: String(c.patientId ?? ''), startsAt: new Date(c.startsAt ?? 0), endsAt: new Date(c.endsAt ?? 0) }),
      }),
    }),
  });

  builder.queryFields((t) => ({
    observation: t.field({ type: ObservationRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => observations.loadObservation(ctx, String(args.id)) }),
    unmatchedResults: t.field({
      type: [ObservationRef],
      description: 'Results no patient could be matched to (by PID-3 / MRN), oldest first, for staff to assign.',
      args: { first: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => observations.unmatchedResults(ctx, args.first ?? 50),
    }),
  }));

  builder.mutationFields((t) => ({
    connectWearable: t.field({
      type: AuthorizationRef,
      description: 'A patient starts connecting their wearable: where to send them to consent (valid 10 minutes, for them only).',
      args: { patientId: t.arg.id({ required: true }), provider: t.arg({ type: ProviderEnum, required: false }) },
      resolve: (_root, args, ctx) => wearables.connectWearable(ctx, String(args.patientId), args.provider ?? 'GOOGLE_HEALTH'),
    }),
    completeWearableConnection: t.field({
      type: ConnectionRef,
      description: 'What the provider sent the patient back with: `state` and `code`, or `error` when they declined.',
      args: { state: t.arg.string({ required: true }), code: t.arg.string({ required: false }), error: t.arg.string({ required: false }) },
      resolve: (_root, args, ctx) => wearables.completeWearableConnection(ctx, { state: args.state, code: args.code ?? null, error: args.error ?? null }),
    }),
    syncWearable: t.field({
      type: ConnectionRef,
      description: 'Syncs now (unless the provider asked us to wait: see retryAfter).',
      args: { connectionId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => wearables.syncWearable(ctx, String(args.connectionId)),
    }),
    disconnectWearable: t.field({
      type: ConnectionRef,
      description: 'Stops syncing, revokes access at the provider and erases the tokens. Readings already synced stay in the record.',
      args: { connectionId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => wearables.disconnectWearable(ctx, String(args.connectionId)),
    }),
    assignResult: t.field({
      type: [ObservationRef],
      description: 'Assigns an unmatched result (every observation of its order) to a patient of the organization.',
      args: { observationId: t.arg.id({ required: true }), patientId: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => observations.assignResult(ctx, String(args.observationId), String(args.patientId)),
    }),
  }));

  builder.subscriptionFields((t) => ({
    observationAdded: t.field({
      type: ObservationRef,
      description: 'Results recorded for a patient, as they arrive.',
      args: { patientId: t.arg.id({ required: true }) },
      subscribe: async function* (_root, args, ctx) {
        const patientId = String(args.patientId);
        requireOwnOrStaff(ctx.identity, patientId, RESULT_READERS, 'results');
        const topic = eventTopic(DevicesEvents.observationAdded.type);
        const events = ctx.pubsub.subscribe<RelayedEvent>(topic);
        await ctx.pubsub.ready(topic);
        try {
          for await (const event of events) {
            const payload = event.payload as { patientId?: string; observationId?: string };
            if (payload.patientId !== patientId || !payload.observationId) continue;
            // Read through the caller's access: another organization's result never reaches them.
            const found = await ctx.db.observation.findFirst({ where: { id: payload.observationId } });
            if (found) yield found;
          }
        } finally {
          await events.return?.();
        }
      },
      resolve: (observation) => observation,
    }),
  }));

  return toSubgraphSchema(builder);
}
