import type { Consultation, ConsultationParticipant } from '../../prisma/generated/client/client.js';
import { badUserInput, conflict, forbidden } from '../kit/errors.js';
import { requireSignedIn, Role, type AuthenticatedIdentity } from '../kit/identity.js';
import { isClosed, loadConsultation, statusWords } from './consultations.js';
import type { Ctx } from './service.js';

/**
 * Who besides the patient and the clinician joins (an interpreter, a specialist: a nurse or
 * clinician of the organization, added by the consultation's clinician or an administrator),
 * and whether the room records — only when the clinician asked and the patient consented, both
 * before the room opens (Twilio's recording flag is set when the room is created).
 */
export const PARTICIPANT_ROLES = ['INTERPRETER', 'SPECIALIST'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];
/** Patient, clinician and at most two more. */
export const MAX_PARTICIPANTS = 4;

function requireClinicianOrAdmin(caller: AuthenticatedIdentity, consultation: Consultation, what: string): void {
  if (!(caller.role === Role.ADMIN || (caller.role === Role.CLINICIAN && caller.subject === consultation.clinicianId))) throw forbidden(`The consultation’s clinician or an administrator ${what}`);
}

export async function addParticipant(ctx: Ctx, consultationId: string, userId: string, role: ParticipantRole): Promise<ConsultationParticipant> {
  const caller = requireSignedIn(ctx.identity);
  const consultation = await loadConsultation(ctx, consultationId);
  requireClinicianOrAdmin(caller, consultation, 'adds participants');
  if (isClosed(consultation)) throw conflict(`The consultation is ${statusWords(consultation)}`);
  if (userId === consultation.clinicianId) throw badUserInput('userId', 'the clinician takes part already');
  const current = await ctx.db.consultationParticipant.count({ where: { consultationId } });
  if (current + 2 >= MAX_PARTICIPANTS) throw conflict(`At most ${MAX_PARTICIPANTS} people take part in a consultation`);
  const existing = await ctx.db.consultationParticipant.findUnique({ where: { consultationId_userId: { consultationId, userId } } });
  if (existing) throw conflict('That person takes part already');
  return ctx.db.consultationParticipant.create({ data: { consultationId, userId, role, addedById: caller.subject } });
}

export function participantsOf(ctx: Ctx, consultationId: string): Promise<ConsultationParticipant[]> {
  return ctx.db.consultationParticipant.findMany({ where: { consultationId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

/** Whether a staff caller is one of the consultation's extra participants (they join as themselves). */
export async function extraParticipant(ctx: Ctx, consultation: Consultation, caller: AuthenticatedIdentity): Promise<ConsultationParticipant | null> {
  if (caller.role !== Role.NURSE && caller.role !== Role.CLINICIAN) return null;
  if (caller.organizationId !== consultation.organizationId) return null;
  return ctx.prisma.consultationParticipant.findUnique({ where: { consultationId_userId: { consultationId: consultation.id, userId: caller.subject } } });
}

export async function requestRecording(ctx: Ctx, consultationId: string): Promise<Consultation> {
  const caller = requireSignedIn(ctx.identity);
  const consultation = await loadConsultation(ctx, consultationId);
  if (caller.role !== Role.CLINICIAN || caller.subject !== consultation.clinicianId) throw forbidden('The consultation’s clinician asks to record it');
  if (consultation.roomSid || isClosed(consultation)) throw conflict('Recording is decided before the room opens');
  return ctx.db.consultation.update({ where: { id: consultationId }, data: { recordingRequestedAt: new Date() } });
}

export async function consentToRecording(ctx: Ctx, consultationId: string): Promise<Consultation> {
  const caller = requireSignedIn(ctx.identity);
  const consultation = await loadConsultation(ctx, consultationId);
  if (caller.role !== Role.PATIENT || caller.patientId !== consultation.patientId) throw forbidden('Only the patient consents to recording');
  if (!consultation.recordingRequestedAt) throw conflict('The clinician has not asked to record this consultation');
  if (consultation.roomSid || isClosed(consultation)) throw conflict('Recording is decided before the room opens');
  const { count } = await ctx.db.consultation.updateMany({ where: { id: consultationId, roomSid: null }, data: { recordingConsentAt: new Date() } });
  if (count === 0) throw conflict('The room opened meanwhile: recording can no longer be turned on');
  return ctx.db.consultation.findFirstOrThrow({ where: { id: consultationId } });
}
