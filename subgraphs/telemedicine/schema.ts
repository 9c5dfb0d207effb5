import type { GraphQLSchema } from 'graphql';
import type { ClinicianSchedule, RecordShare } from '../../prisma/generated/client/client.js';
import { createBuilder, extendPatient, patientReference, toSubgraphSchema } from '../kit/builder.js';
import { publicBaseUrl } from '../kit/context.js';
import * as availability from './availability.js';
import * as consultations from './consultations.js';
import * as participants from './participants.js';
import * as partners from './partners.js';
import * as prescriptions from './prescriptions.js';
import * as shares from './shares.js';
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

  const DiagnosisRef = builder.objectRef<{ code?: string; display: string }>('Diagnosis').implement({
    fields: (t) => ({ code: t.string({ nullable: true, description: 'ICD-10.', resolve: (d) => d.code ?? null }), display: t.exposeString('display') }),
  });
  const ReportRef = builder.objectRef<{ notes: string; diagnoses: Array<{ code?: string; display: string }>; reportedAt: Date | null }>('ConsultationReport').implement({
    fields: (t) => ({ notes: t.exposeString('notes'), diagnoses: t.field({ type: [DiagnosisRef], resolve: (r) => r.diagnoses }), reportedAt: t.expose('reportedAt', { type: 'DateTime', nullable: true }) }),
  });
  const PrescriptionRef = builder.prismaObject('Prescription', {
    description: 'An e-prescription, signed by the platform: the token is what its QR code carries, checked at /rx/verify.',
    fields: (t) => ({
      id: t.exposeID('id'),
      consultationId: t.exposeID('consultationId'),
      patient: t.field({ type: PatientRef, resolve: (p) => ({ id: p.patientId }) }),
      prescriberId: t.exposeID('prescriberId'),
      medication: t.exposeString('medication'),
      dose: t.exposeString('dose'),
      quantity: t.exposeInt('quantity'),
      refills: t.exposeInt('refills'),
      instructions: t.exposeString('instructions', { nullable: true }),
      issuedAt: t.expose('issuedAt', { type: 'DateTime' }),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
      revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
      token: t.exposeString('token', { description: 'Compact JWS (ES256, typ rx+jwt).' }),
      qrSvg: t.string({ description: 'The QR code of the token, as SVG.', resolve: (p) => prescriptions.qrSvg(p) }),
      qrPng: t.string({ description: 'The QR code of the token, as a base64 PNG.', resolve: async (p) => (await prescriptions.qrPng(p)).toString('base64') }),
      verifyUrl: t.string({ description: 'Where anyone checks it.', resolve: (p, _args, ctx) => `${publicBaseUrl(ctx)}/rx/verify?token=${encodeURIComponent(p.token)}` }),
    }),
  });
  builder.asEntity(PrescriptionRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => prescriptions.loadPrescription(ctx, ref.id) });
  const ShareRef = builder.objectRef<RecordShare>('RecordShare').implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
      revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
      accessCount: t.exposeInt('accessCount'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
  const CreatedShareRef = builder.objectRef<{ share: RecordShare; url: string }>('CreatedRecordShare').implement({
    description: 'The link (shown once: only its hash is kept), the printable page; add /fhir for the FHIR R4 Bundle.',
    fields: (t) => ({ share: t.field({ type: ShareRef, resolve: (c) => c.share }), url: t.exposeString('url') }),
  });

  const ParticipantRoleEnum = builder.enumType('ParticipantRole', { values: participants.PARTICIPANT_ROLES });
  const ParticipantRef = builder.prismaObject('ConsultationParticipant', {
    fields: (t) => ({ userId: t.exposeID('userId'), role: t.field({ type: ParticipantRoleEnum, resolve: (p) => p.role as participants.ParticipantRole }), addedAt: t.expose('createdAt', { type: 'DateTime' }) }),
  });
  const RecordingRef = builder.objectRef<{ requested: boolean; consented: boolean; consentedAt: Date | null }>('ConsultationRecording').implement({
    description: 'The room records only when the clinician asked and the patient consented before it opened.',
    fields: (t) => ({ requested: t.exposeBoolean('requested'), consented: t.exposeBoolean('consented'), consentedAt: t.expose('consentedAt', { type: 'DateTime', nullable: true }) }),
  });

  const ConsultationRef = builder.prismaObject('Consultation', {
    description: 'A video consultation with a clinician.',
    fields: (t) => ({
      id: t.exposeID('id'),
      patient: t.field({ type: PatientRef, resolve: (c) => ({ id: c.patientId }) }),
      patientId: t.exposeID('patientId', { description: 'The patient’s id (what other subgraphs join the consultation on).' }),
      clinicianId: t.exposeID('clinicianId'),
      participants: t.field({ type: [ParticipantRef], description: 'Invited besides the patient and the clinician.', resolve: (c, _args, ctx) => participants.participantsOf(ctx, c.id) }),
      recording: t.field({
        type: RecordingRef,
        resolve: (c) => ({ requested: c.recordingRequestedAt !== null, consented: c.recordingConsentAt !== null, consentedAt: c.recordingConsentAt }),
      }),
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
      report: t.field({
        type: ReportRef, nullable: true, description: 'The clinician’s notes and diagnoses, once written.',
        resolve: (c) => (c.reportNotes ? { notes: c.reportNotes, diagnoses: (Array.isArray(c.diagnoses) ? c.diagnoses : []) as unknown as Array<{ code?: string; display: string }>, reportedAt: c.reportedAt } : null),
      }),
      prescriptions: t.field({ type: [PrescriptionRef], resolve: (c, _args, ctx) => prescriptions.prescriptionsOfConsultation(ctx, c.id) }),
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
    prescriptions: t.field({ type: [PrescriptionRef], description: 'The patient’s e-prescriptions, newest first.', resolve: (p, _args, ctx) => prescriptions.prescriptionsOfPatient(ctx, p.id) }),
    recordShares: t.field({ type: [ShareRef], description: 'The links the patient made to their record (theirs alone).', resolve: (p, _args, ctx) => shares.sharesOfPatient(ctx, p.id) }),
  }));
  const DiagnosisInput = builder.inputType('DiagnosisInput', { fields: (t) => ({ code: t.string({ required: false, description: 'ICD-10.' }), display: t.string({ required: true }) }) });
  const ReportInput = builder.inputType('ConsultationReportInput', { fields: (t) => ({ notes: t.string({ required: true }), diagnoses: t.field({ type: [DiagnosisInput], required: true }) }) });
  const PrescriptionInput = builder.inputType('PrescriptionInput', {
    fields: (t) => ({
      medication: t.string({ required: true }),
      dose: t.string({ required: true }),
      quantity: t.int({ required: true }),
      refills: t.int({ required: true }),
      instructions: t.string({ required: false }),
      validDays: t.int({ required: false, description: '30 by default, at most 365.' }),
    }),
  });

  const AgendaRef = builder.objectRef<partners.AgendaItem>('AgendaItem').implement({
    description: 'A busy period of a clinician: a consultation booked here, or a booking on a partner platform.',
    fields: (t) => ({
      startsAt: t.expose('startsAt', { type: 'DateTime' }),
      endsAt: t.expose('endsAt', { type: 'DateTime' }),
      source: t.exposeString('source', { description: 'CAREGRAPH, or the partner platform (WELLAHEALTH, RELIANCE, MOBIHEALTH, DOCTOORA…).' }),
      consultation: t.field({ type: ConsultationRef, nullable: true, resolve: (item, _args, ctx) => (item.consultationId ? consultations.loadConsultation(ctx, item.consultationId) : null) }),
    }),
  });

  builder.queryFields((t) => ({
    clinicianAgenda: t.field({
      type: [AgendaRef], description: 'One schedule: the clinician’s consultations here and their bookings on partner platforms.',
      args: { clinicianId: t.arg.id({ required: true }), from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
      resolve: (_root, args, ctx) => partners.agendaOf(ctx, String(args.clinicianId), args.from, args.to),
    }),
    prescription: t.field({ type: PrescriptionRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => prescriptions.loadPrescription(ctx, String(args.id)) }),
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
    recordConsultationReport: t.field({
      type: ConsultationRef, description: 'The clinician’s notes and diagnoses (replaces an earlier report).',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: ReportInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => consultations.recordReport(ctx, String(id), { notes: input.notes, diagnoses: input.diagnoses.map((d) => ({ code: d.code ?? null, display: d.display })) }),
    }),
    issuePrescription: t.field({
      type: PrescriptionRef, description: 'The consultation’s clinician, during or after it: signed at once.',
      args: { consultationId: t.arg.id({ required: true }), input: t.arg({ type: PrescriptionInput, required: true }) },
      resolve: (_root, { consultationId, input }, ctx) => prescriptions.issuePrescription(ctx, String(consultationId), { ...input, instructions: input.instructions ?? null, validDays: input.validDays ?? null }),
    }),
    revokePrescription: t.field({
      type: PrescriptionRef, args: { id: t.arg.id({ required: true }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => prescriptions.revokePrescription(ctx, String(args.id), args.reason),
    }),
    createRecordShare: t.field({
      type: CreatedShareRef, description: 'A link to the patient’s summary, valid `hours` (at most 7 days).',
      args: { patientId: t.arg.id({ required: true }), hours: t.arg.int({ required: true }) },
      resolve: (_root, args, ctx) => shares.createRecordShare(ctx, String(args.patientId), args.hours),
    }),
    revokeRecordShare: t.field({ type: ShareRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => shares.revokeRecordShare(ctx, String(args.id)) }),
    addParticipant: t.field({
      type: ParticipantRef, description: 'An interpreter or a specialist (a nurse or clinician of the organization) joins too; at most four people in all.',
      args: { consultationId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }), role: t.arg({ type: ParticipantRoleEnum, required: true }) },
      resolve: (_root, args, ctx) => participants.addParticipant(ctx, String(args.consultationId), String(args.userId), args.role),
    }),
    requestRecording: t.field({ type: ConsultationRef, description: 'The clinician asks to record; the patient must consent before the room opens.', args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => participants.requestRecording(ctx, String(args.id)) }),
    consentToRecording: t.field({ type: ConsultationRef, description: 'The patient agrees to the recording the clinician asked for.', args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => participants.consentToRecording(ctx, String(args.id)) }),
    joinConsultation: t.field({
      type: AccessRef, description: 'The consultation’s patient or clinician, inside its window, once the fee is paid.',
      args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => video.joinConsultation(ctx, String(args.id)),
    }),
  }));

  return toSubgraphSchema(builder);
}
