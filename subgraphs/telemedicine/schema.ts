import type { GraphQLSchema } from 'graphql';
import type { ClinicianSchedule } from '../../prisma/generated/client/client.js';
import { createBuilder, extendPatient, patientReference, toSubgraphSchema } from '../kit/builder.js';
import * as availability from './availability.js';
import * as consultations from './consultations.js';
import type { Triage } from './triage.js';
import * as video from './video.js';

/** The telemedicine subgraph's types. Resolvers translate; rules live in the services, access in policies.ts. */
export function buildTelemedicineSchema(): GraphQLSchema {
  const builder = createBuilder();
  const PatientRef = patientReference(builder);

  const StatusEnum = builder.enumType('ConsultationStatus', { values: ['SCHEDULED', 'WAITING', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED', 'NO_SHOW'] as const });
  const UrgencyEnum = builder.enumType('TriageUrgency', { values: ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const });

  const TriageRef = builder.objectRef<Triage>('Triage').implement({
    description: 'How urgent, how sure (0-100), what it may be and what to do, with the reasons in the patient’s words.',
    fields: (t) => ({
      urgency: t.field({ type: UrgencyEnum, resolve: (x) => x.urgency }),
      confidence: t.exposeInt('confidence'),
      likelyConditions: t.exposeStringList('likelyConditions'),
      recommendation: t.exposeString('recommendation'),
      reasons: t.exposeStringList('reasons'),
      emergencyGuidance: t.exposeString('emergencyGuidance', { nullable: true, description: 'Set when CRITICAL: what to do now (nothing is booked).' }),
      assessedBy: t.exposeStringList('assessedBy'),
    }),
  });

  const FeeRef = builder.objectRef<{ amount: number; currency: string; paidAt: Date | null }>('ConsultationFee').implement({
    fields: (t) => ({
      amount: t.exposeInt('amount', { description: 'Minor units.' }),
      currency: t.exposeString('currency'),
      paid: t.boolean({ resolve: (f) => f.paidAt !== null }),
      paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true }),
    }),
  });

  const ConsultationRef = builder.prismaObject('Consultation', {
    description: 'A video consultation with a clinician.',
    fields: (t) => ({
      id: t.exposeID('id'),
      patient: t.field({ type: PatientRef, resolve: (c) => ({ id: c.patientId }) }),
      clinicianId: t.exposeID('clinicianId'),
      startsAt: t.expose('startsAt', { type: 'DateTime' }),
      endsAt: t.expose('endsAt', { type: 'DateTime' }),
      status: t.field({ type: StatusEnum, resolve: (c) => c.status }),
      reason: t.exposeString('reason', { description: 'What the patient described.' }),
      triage: t.field({ type: TriageRef, resolve: (c) => c.triage as unknown as Triage }),
      fee: t.field({ type: FeeRef, description: 'Paid before anyone joins (billing invoices it: Consultation.feeInvoice).', resolve: (c) => ({ amount: c.feeAmount, currency: c.currency, paidAt: c.feePaidAt }) }),
      startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
      endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
      durationSeconds: t.exposeInt('durationSeconds', { nullable: true }),
      cancelledAt: t.expose('cancelledAt', { type: 'DateTime', nullable: true }),
      cancelReason: t.exposeString('cancelReason', { nullable: true }),
    }),
  });
  builder.asEntity(ConsultationRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => consultations.loadConsultation(ctx, ref.id) });

  const BookingRef = builder.objectRef<{ consultation: Awaited<ReturnType<typeof consultations.bookConsultation>>['consultation']; triage: Triage }>('BookingResult').implement({
    description: 'The consultation booked, or none when the triage is CRITICAL (its emergency guidance says what to do).',
    fields: (t) => ({
      booked: t.boolean({ resolve: (b) => b.consultation !== null }),
      consultation: t.field({ type: ConsultationRef, nullable: true, resolve: (b) => b.consultation }),
      triage: t.field({ type: TriageRef, resolve: (b) => b.triage }),
    }),
  });

  const WindowRef = builder.objectRef<availability.Window>('ScheduleWindow').implement({
    fields: (t) => ({ day: t.exposeInt('day', { description: '1 (Monday) to 7.' }), start: t.exposeString('start'), end: t.exposeString('end') }),
  });
  const ScheduleRef = builder.objectRef<ClinicianSchedule>('ClinicianSchedule').implement({
    fields: (t) => ({
      clinicianId: t.exposeID('clinicianId'),
      timeZone: t.exposeString('timeZone'),
      windows: t.field({ type: [WindowRef], resolve: (s) => availability.windowsOf(s) }),
      feeAmount: t.exposeInt('feeAmount'),
      currency: t.exposeString('currency'),
    }),
  });
  const SlotRef = builder.objectRef<availability.Slot>('Slot').implement({
    fields: (t) => ({ startsAt: t.expose('startsAt', { type: 'DateTime' }), endsAt: t.expose('endsAt', { type: 'DateTime' }) }),
  });
  const IceServerRef = builder.objectRef<video.VideoAccess['iceServers'][number]>('IceServer').implement({
    fields: (t) => ({ urls: t.exposeString('urls'), username: t.exposeString('username', { nullable: true }), credential: t.exposeString('credential', { nullable: true }) }),
  });
  const AccessRef = builder.objectRef<video.VideoAccess>('VideoAccess').implement({
    description: 'What a participant’s client needs to connect: the room, a token for them only, and STUN/TURN servers.',
    fields: (t) => ({
      roomName: t.exposeString('roomName'),
      identity: t.exposeString('identity'),
      token: t.exposeString('token'),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
      iceServers: t.field({ type: [IceServerRef], resolve: (a) => a.iceServers }),
    }),
  });

  const WindowInput = builder.inputType('ScheduleWindowInput', { fields: (t) => ({ day: t.int({ required: true }), start: t.string({ required: true }), end: t.string({ required: true }) }) });
  const ScheduleInput = builder.inputType('ScheduleInput', {
    fields: (t) => ({
      timeZone: t.string({ required: true }),
      windows: t.field({ type: [WindowInput], required: true }),
      feeAmount: t.int({ required: true, description: 'Minor units.' }),
      currency: t.string({ required: true }),
    }),
  });
  const BookingInput = builder.inputType('BookingInput', {
    fields: (t) => ({
      patientId: t.id({ required: true }),
      clinicianId: t.id({ required: true }),
      startsAt: t.field({ type: 'DateTime', required: true }),
      minutes: t.int({ required: false, description: '30 (default), 45 or 60.' }),
      reason: t.string({ required: true, description: 'The patient’s symptoms, in their words: triaged before anything is booked.' }),
    }),
  });

  extendPatient(PatientRef, (t) => ({
    consultations: t.field({ type: [ConsultationRef], description: 'The patient’s video consultations, newest first.', resolve: (p, _args, ctx) => consultations.consultationsOfPatient(ctx, p.id) }),
  }));

  builder.queryFields((t) => ({
    consultation: t.field({ type: ConsultationRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => consultations.loadConsultation(ctx, String(args.id)) }),
    clinicianSchedule: t.field({ type: ScheduleRef, args: { clinicianId: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => availability.scheduleOf(ctx, String(args.clinicianId)) }),
    availableSlots: t.field({
      type: [SlotRef], description: 'Free 30-minute slots of a clinician of the caller’s organization.',
      args: { clinicianId: t.arg.id({ required: true }), from: t.arg({ type: 'DateTime', required: true }), days: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => availability.availableSlots(ctx, String(args.clinicianId), args.from, args.days ?? 7),
    }),
    clinicianConsultations: t.field({
      type: [ConsultationRef],
      args: { clinicianId: t.arg.id({ required: true }), from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
      resolve: (_root, args, ctx) => consultations.consultationsOfClinician(ctx, String(args.clinicianId), args.from, args.to),
    }),
    triage: t.field({
      type: TriageRef, description: 'What booking would decide for these symptoms (nothing stored).',
      args: { patientId: t.arg.id({ required: true }), symptoms: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => consultations.triage(ctx, String(args.patientId), args.symptoms),
    }),
  }));

  builder.mutationFields((t) => ({
    setAvailability: t.field({
      type: ScheduleRef, description: 'A clinician’s own weekly video hours (wall-clock, in their time zone) and fee.',
      args: { input: t.arg({ type: ScheduleInput, required: true }) },
      resolve: (_root, { input }, ctx) => availability.setAvailability(ctx, { ...input, windows: input.windows.map((w) => ({ day: w.day, start: w.start, end: w.end })) }),
    }),
    bookConsultation: t.field({
      type: BookingRef, description: 'Triages, then books (unless CRITICAL). The patient for themself; staff for their organization’s patients.',
      args: { input: t.arg({ type: BookingInput, required: true }) },
      resolve: (_root, { input }, ctx) => consultations.bookConsultation(ctx, { patientId: String(input.patientId), clinicianId: String(input.clinicianId), startsAt: input.startsAt, minutes: input.minutes ?? null, reason: input.reason }),
    }),
    extendConsultation: t.field({ type: ConsultationRef, description: 'Fifteen minutes more.', args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => consultations.extendConsultation(ctx, String(args.id)) }),
    cancelConsultation: t.field({
      type: ConsultationRef, args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => consultations.cancelConsultation(ctx, String(args.id), args.reason),
    }),
    joinConsultation: t.field({
      type: AccessRef, description: 'The consultation’s patient or clinician, inside its window, once the fee is paid.',
      args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => video.joinConsultation(ctx, String(args.id)),
    }),
  }));

  return toSubgraphSchema(builder);
}
