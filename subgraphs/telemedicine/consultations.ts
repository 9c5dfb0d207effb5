import type { Consultation, Prisma } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, conflict, forbidden, InputProblems } from '../kit/errors.js';
import { BillingEvents } from '../kit/events/billing.js';
import { on, type EventConsumer } from '../kit/events/consumers.js';
import { TelemedicineEvents } from '../kit/events/telemedicine.js';
import { requireOwnOrStaff, requireSignedIn, Role, type AuthenticatedIdentity } from '../kit/identity.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { SLOT_MINUTES, withinHours } from './availability.js';
import { TELE_STAFF } from './policies.js';
import type { Ctx } from './service.js';
import { assess, type Triage } from './triage.js';

/**
 * Booking, extending and cancelling consultations. A booking is triaged first (a CRITICAL
 * triage books nothing and returns the emergency guidance); then, with the clinician's
 * schedule row locked (two bookings of one slot wait for each other), the slot must be within
 * their hours, in the future and free. The fee is the clinician's; billing invoices it from the
 * `tele.consultation.booked` event and its payment event marks it paid.
 */
const LENGTHS = [30, 45, 60];
/** States a consultation does not leave: nothing more is joined, extended or added to it. */
const CLOSED: ReadonlySet<Consultation['status']> = new Set(['COMPLETED', 'CANCELLED', 'NO_SHOW']);
export const isClosed = (consultation: Pick<Consultation, 'status'>): boolean => CLOSED.has(consultation.status);
/** `in progress`, `no show`: a state as a sentence says it. */
export const statusWords = (consultation: Pick<Consultation, 'status'>): string => consultation.status.toLowerCase().replace('_', ' ');
const EXTENSION_MINUTES = 15;
/** The source billing names a teleconsultation fee's invoice with. */
const TELE_CONSULTATION = 'TELE_CONSULTATION';

export interface BookingInput {
  patientId: string;
  clinicianId: string;
  startsAt: Date;
  minutes: number | null;
  reason: string;
}

export function loadConsultation(ctx: Ctx, id: string): Promise<Consultation> {
  requireSignedIn(ctx.identity);
  return loadVisible<Consultation>(ctx, 'Consultation', id);
}

export function consultationsOfPatient(ctx: Ctx, patientId: string): Promise<Consultation[]> {
  requireOwnOrStaff(ctx.identity, patientId, TELE_STAFF, 'consultations');
  return ctx.db.consultation.findMany({ where: { patientId }, orderBy: [{ startsAt: 'desc' }, { id: 'asc' }], take: 100 });
}

/** A clinician's consultations over a period: their own for a clinician, any of the organization's for nurses and administrators. */
export function consultationsOfClinician(ctx: Ctx, clinicianId: string, from: Date, to: Date): Promise<Consultation[]> {
  const caller = requireSignedIn(ctx.identity);
  if (caller.role === Role.CLINICIAN && caller.subject !== clinicianId) throw forbidden('Clinicians see their own schedule');
  if (!(TELE_STAFF as readonly string[]).includes(caller.role)) throw forbidden('Only staff see clinicians’ schedules');
  if (to.getTime() - from.getTime() > 31 * 86_400_000 || to <= from) throw badUserInput('to', 'the period must be positive and at most 31 days');
  return ctx.db.consultation.findMany({ where: { clinicianId, startsAt: { gte: from, lt: to } }, orderBy: [{ startsAt: 'asc' }, { id: 'asc' }] });
}

/** Only the triage: what booking would decide, nothing stored. */
export function triage(ctx: Ctx, patientId: string, symptoms: string): Promise<Triage> {
  requireOwnOrStaff(ctx.identity, patientId, TELE_STAFF, 'triage');
  checkReason(symptoms, 'symptoms');
  return assess(ctx, symptoms);
}

function checkReason(text: string, field: string): void {
  const length = text.trim().length;
  if (length < 3 || length > 2_000) throw badUserInput(field, 'must be 3-2000 characters');
}

/** The patient for themself, or staff for a patient of their organization. */
function bookingCaller(ctx: Ctx, patientId: string): AuthenticatedIdentity & { organizationId: string } {
  const caller = requireOwnOrStaff(ctx.identity, patientId, TELE_STAFF, 'consultations');
  if (!caller.organizationId) throw forbidden('Consultations are booked within an organization');
  return caller as AuthenticatedIdentity & { organizationId: string };
}

export async function bookConsultation(ctx: Ctx, input: BookingInput): Promise<{ consultation: Consultation | null; triage: Triage }> {
  const caller = bookingCaller(ctx, input.patientId);
  checkReason(input.reason, 'input.reason');
  const minutes = input.minutes ?? SLOT_MINUTES;
  const problems = new InputProblems();
  problems.check(LENGTHS.includes(minutes), 'input.minutes', `must be one of ${LENGTHS.join(', ')}`);
  problems.check(input.startsAt.getTime() > Date.now(), 'input.startsAt', 'must be in the future');
  problems.throwIfAny();
  const assessment = await assess(ctx, input.reason);
  if (assessment.urgency === 'CRITICAL') return { consultation: null, triage: assessment };
  await ctx.directory.require('Patient', input.patientId, [caller.organizationId]);
  const endsAt = new Date(input.startsAt.getTime() + minutes * 60_000);
  const consultation = await ctx.db.$transaction(async (tx) => {
    const schedule = await lockSchedule(tx, input.clinicianId);
    if (!schedule || schedule.organizationId !== caller.organizationId) throw badUserInput('input.clinicianId', 'not a clinician of your organization who takes video consultations');
    if (!withinHours(schedule, input.startsAt, endsAt)) throw badUserInput('input.startsAt', 'not a slot within the clinician’s hours');
    await requireFree(tx, input.clinicianId, input.startsAt, endsAt, null);
    const created = await tx.consultation.create({
      data: {
        organizationId: caller.organizationId, patientId: input.patientId, clinicianId: input.clinicianId, bookedById: caller.subject,
        startsAt: input.startsAt, endsAt, reason: input.reason.trim(), triageUrgency: assessment.urgency, triageConfidence: assessment.confidence,
        triage: assessment as unknown as Prisma.InputJsonValue, feeAmount: schedule.feeAmount, currency: schedule.currency,
        ...(schedule.feeAmount === 0 ? { feePaidAt: new Date() } : {}),
      },
    });
    await recordEvent(tx, TelemedicineEvents.consultationBooked, {
      aggregateId: created.id, organizationId: created.organizationId,
      payload: { ...refOf(created), startsAt: created.startsAt.toISOString(), endsAt: created.endsAt.toISOString(), feeAmount: created.feeAmount, currency: created.currency as 'NGN', urgency: created.triageUrgency, timeZone: schedule.timeZone },
    });
    return created;
  });
  return { consultation, triage: assessment };
}

async function lockSchedule(tx: TransactionClient, clinicianId: string) {
  await tx.$queryRaw`SELECT "clinicianId" FROM "telemedicine"."ClinicianSchedule" WHERE "clinicianId" = ${clinicianId} FOR UPDATE`;
  return tx.clinicianSchedule.findUnique({ where: { clinicianId } });
}

/**
 * No other consultation of the clinician that is not cancelled, nor a partner platform's
 * booking, overlaps [startsAt, endsAt). In SQL on the transaction, not through the caller's
 * access: free/busy counts every patient's booking, including ones the caller may not see.
 */
async function requireFree(tx: TransactionClient, clinicianId: string, startsAt: Date, endsAt: Date, except: string | null): Promise<void> {
  // Timestamps without a zone, in UTC: how Prisma stores DateTime.
  const [from, to] = [startsAt, endsAt].map((date) => date.toISOString().replace('Z', ''));
  const [clash] = await tx.$queryRaw<Array<{ busy: number }>>`
    SELECT count(*)::int AS busy FROM "telemedicine"."Consultation"
    WHERE "clinicianId" = ${clinicianId} AND "status" NOT IN ('CANCELLED', 'NO_SHOW') AND "startsAt" < ${to}::timestamp(3) AND "endsAt" > ${from}::timestamp(3) AND "id" <> ${except ?? ''}`;
  if ((clash?.busy ?? 0) > 0) throw conflict('The clinician is already booked then');
  const [elsewhere] = await tx.$queryRaw<Array<{ partner: string }>>`
    SELECT "partner" FROM "telemedicine"."PartnerAppointment"
    WHERE "clinicianId" = ${clinicianId} AND "direction" = 'IN' AND "status" = 'BOOKED' AND "startsAt" < ${to}::timestamp(3) AND "endsAt" > ${from}::timestamp(3) LIMIT 1`;
  if (elsewhere) throw conflict(`The clinician is already booked then (on ${elsewhere.partner})`);
}

export const refOf = (c: Pick<Consultation, 'id' | 'organizationId' | 'patientId' | 'clinicianId'>) => ({ consultationId: c.id, organizationId: c.organizationId, patientId: c.patientId, clinicianId: c.clinicianId });

/** Fifteen minutes more, when the clinician's next consultation allows; by the consultation's clinician or an administrator. */
export async function extendConsultation(ctx: Ctx, id: string): Promise<Consultation> {
  const caller = requireSignedIn(ctx.identity);
  const current = await loadConsultation(ctx, id);
  if (!(caller.role === Role.ADMIN || (caller.role === Role.CLINICIAN && caller.subject === current.clinicianId))) throw forbidden('The consultation’s clinician extends it');
  if (isClosed(current)) throw conflict(`The consultation is ${statusWords(current)}`);
  return ctx.db.$transaction(async (tx) => {
    await lockSchedule(tx, current.clinicianId);
    const endsAt = new Date(current.endsAt.getTime() + EXTENSION_MINUTES * 60_000);
    await requireFree(tx, current.clinicianId, current.endsAt, endsAt, current.id);
    const { count } = await tx.consultation.updateMany({ where: { id, endsAt: current.endsAt }, data: { endsAt } });
    if (count === 0) throw conflict('The consultation changed meanwhile; reload it');
    return tx.consultation.findUniqueOrThrow({ where: { id } });
  });
}

/** Before it takes place, by its patient or staff of the organization; billing voids the unpaid fee. */
export async function cancelConsultation(ctx: Ctx, id: string, reason: string): Promise<Consultation> {
  const caller = requireSignedIn(ctx.identity);
  const current = await loadConsultation(ctx, id);
  checkReason(reason, 'reason');
  return ctx.db.$transaction(async (tx) => {
    const { count } = await tx.consultation.updateMany({ where: { id, status: { in: ['SCHEDULED', 'WAITING'] } }, data: { status: 'CANCELLED', cancelledAt: new Date(), cancelReason: reason.trim() } });
    if (count === 0) throw conflict(`The consultation is ${statusWords(current)}; it cannot be cancelled`);
    await recordEvent(tx, TelemedicineEvents.consultationCancelled, { aggregateId: id, organizationId: current.organizationId, payload: { ...refOf(current), by: caller.role === Role.PATIENT ? 'PATIENT' : 'STAFF' } });
    return tx.consultation.findUniqueOrThrow({ where: { id } });
  });
}

/** The fee paid in full (billing's TELE_FEE payment event naming the consultation): anyone may join from then on. */
export const feePaymentConsumer: EventConsumer = {
  name: 'telemedicine.fee-payments',
  handlers: [
    on(BillingEvents.teleFeePaid, async (event, tx) => {
      const { source, invoiceStatus, organizationId } = event.payload;
      if (source?.type !== TELE_CONSULTATION || invoiceStatus !== 'PAID') return;
      await tx.consultation.updateMany({ where: { id: source.id, organizationId, feePaidAt: null }, data: { feePaidAt: new Date(event.occurredAt) } });
    }),
  ],
};

export interface ReportInput {
  notes: string;
  diagnoses: Array<{ code: string | null; display: string }>;
}

/** The clinician's report after (or during) the consultation: notes and diagnoses (ICD-10 codes where known). Written again, it replaces the earlier one. */
export async function recordReport(ctx: Ctx, id: string, input: ReportInput): Promise<Consultation> {
  const caller = requireSignedIn(ctx.identity);
  const current = await loadConsultation(ctx, id);
  if (caller.role !== Role.CLINICIAN || caller.subject !== current.clinicianId) throw forbidden('The consultation’s clinician writes its report');
  if (!['IN_PROGRESS', 'COMPLETED'].includes(current.status)) throw conflict('A report is written during or after the consultation');
  const problems = new InputProblems();
  problems.check(input.notes.trim().length >= 1 && input.notes.length <= 10_000, 'input.notes', 'must be 1-10000 characters');
  problems.check(input.diagnoses.length <= 20, 'input.diagnoses', 'at most 20');
  input.diagnoses.forEach((d, index) => {
    problems.check(d.display.trim().length >= 1 && d.display.length <= 200, `input.diagnoses.${index}.display`, 'must be 1-200 characters');
    if (d.code !== null) problems.check(/^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$/.test(d.code), `input.diagnoses.${index}.code`, 'must be an ICD-10 code (J06.9)');
  });
  problems.throwIfAny();
  const diagnoses = input.diagnoses.map((d) => ({ ...(d.code ? { code: d.code } : {}), display: d.display.trim() }));
  return ctx.db.consultation.update({ where: { id }, data: { reportNotes: input.notes.trim(), diagnoses: diagnoses as unknown as Prisma.InputJsonValue, reportedAt: new Date() } });
}
