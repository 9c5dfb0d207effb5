import type { DiagnosticReport, Observation as FhirObservation } from 'fhir/r4.js';
import { LosslessNumber, stringify as stringifyLossless } from 'lossless-json';
import type { Observation } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, conflict, notFound } from '../kit/errors.js';
import { requireOwnOrStaff, requireSignedIn, requireStaffOf } from '../kit/identity.js';
import { RESULT_READERS } from './policies.js';
import { announce } from './store.js';
import type { Ctx } from './service.js';

/**
 * Results as people read them: a patient's observations (newest first), one by id, the ones
 * no patient could be matched to (for staff to assign), and each as FHIR R4 — an Observation,
 * and the DiagnosticReport of the order it answers.
 */
export const MAX_PAGE = 200;

export function loadObservation(ctx: Ctx, id: string): Promise<Observation> {
  requireSignedIn(ctx.identity);
  return loadVisible<Observation>(ctx, 'Observation', id);
}

export async function observationsOfPatient(ctx: Ctx, patientId: string, options: { code: string | null; first: number }): Promise<Observation[]> {
  requireOwnOrStaff(ctx.identity, patientId, RESULT_READERS, 'results');
  if (!Number.isInteger(options.first) || options.first < 1 || options.first > MAX_PAGE) throw badUserInput('first', `must be 1-${MAX_PAGE}`);
  return ctx.db.observation.findMany({
    where: { patientId, ...(options.code ? { code: options.code } : {}) },
    orderBy: [{ effectiveAt: { sort: 'desc', nulls: 'last' } }, { receivedAt: 'desc' }, { id: 'asc' }],
    take: options.first,
  });
}

/** Flagged outside its range (any abnormal flag but N), or critical. */
export const isAbnormal = (o: Pick<Observation, 'critical' | 'interpretation'>): boolean => o.critical || o.interpretation.some((flag) => flag !== '' && flag !== 'N');

/** A consultation's view of the patient: readings from a day before it starts to its end (the caller's access applies). */
export async function readingsAround(ctx: Ctx, consultation: { patientId: string; startsAt: Date; endsAt: Date }): Promise<Observation[]> {
  if (!consultation.patientId || Number.isNaN(consultation.startsAt.getTime()) || Number.isNaN(consultation.endsAt.getTime())) return [];
  requireOwnOrStaff(ctx.identity, consultation.patientId, RESULT_READERS, 'results');
  return ctx.db.observation.findMany({
    where: { patientId: consultation.patientId, effectiveAt: { gte: new Date(consultation.startsAt.getTime() - 86_400_000), lte: consultation.endsAt } },
    orderBy: [{ effectiveAt: 'desc' }, { id: 'asc' }], take: MAX_PAGE,
  });
}

/** Results of the caller's organization no patient could be matched to, oldest first. */
export function unmatchedResults(ctx: Ctx, first: number): Promise<Observation[]> {
  requireStaffOf(ctx.identity, RESULT_READERS, 'Only nurses, clinicians and administrators reconcile results');
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw badUserInput('first', `must be 1-${MAX_PAGE}`);
  return ctx.db.observation.findMany({ where: { patientId: null }, orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }], take: first });
}

/**
 * Assigns an unmatched result — every observation of the same message and order — to a patient
 * of the caller's organization; then it is announced as if it had matched (added, and critical
 * when it is). Already assigned: CONFLICT.
 */
export async function assignResult(ctx: Ctx, observationId: string, patientId: string): Promise<Observation[]> {
  const caller = requireStaffOf(ctx.identity, RESULT_READERS, 'Only nurses, clinicians and administrators reconcile results');
  const observation = await loadObservation(ctx, observationId);
  if (observation.patientId) throw conflict('the result is already assigned to a patient');
  await ctx.directory.require('Patient', patientId, [caller.organizationId]);
  return ctx.db.$transaction(async (tx) => {
    const sameResult = { patientId: null, messageId: observation.messageId, placerOrderId: observation.placerOrderId, fillerOrderId: observation.fillerOrderId, sourcePatientId: observation.sourcePatientId };
    const rows = await tx.observation.findMany({ where: observation.messageId ? sameResult : { id: observation.id, patientId: null } });
    if (rows.length === 0) throw conflict('the result is already assigned to a patient');
    const { count } = await tx.observation.updateMany({ where: { id: { in: rows.map((row) => row.id) }, patientId: null }, data: { patientId, assignedById: caller.subject } });
    if (count !== rows.length) throw conflict('the result changed meanwhile');
    await announce(tx, patientId, rows.map((row) => ({ id: row.id, organizationId: row.organizationId, code: row.code, codeSystem: row.codeSystem, display: row.display, flags: row.interpretation, critical: row.critical, source: row.source })));
    return tx.observation.findMany({ where: { id: { in: rows.map((row) => row.id) } }, orderBy: { sourceKey: 'asc' } });
  });
}

const STATUS_CODE: Record<Observation['status'], FhirObservation['status']> = {
  REGISTERED: 'registered', PRELIMINARY: 'preliminary', FINAL: 'final', AMENDED: 'amended', CORRECTED: 'corrected', CANCELLED: 'cancelled', ENTERED_IN_ERROR: 'entered-in-error',
};
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/** An observation as an R4 Observation: numbers exactly as the lab wrote them, UCUM units as UCUM. */
export function fhirObservation(observation: Observation): FhirObservation {
  const number = observation.valueNumber === null ? null : new LosslessNumber(observation.valueNumber.toString()) as unknown as number;
  const ucum = observation.unitSystem?.toUpperCase() === 'UCUM';
  return {
    resourceType: 'Observation',
    id: observation.id,
    status: STATUS_CODE[observation.status],
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: observation.source === 'LAB' ? 'laboratory' : 'vital-signs' }] }],
    code: { coding: [{ system: observation.codeSystem, code: observation.code, display: observation.display }], text: observation.display },
    ...(observation.patientId ? { subject: { reference: `Patient/${observation.patientId}` } } : {}),
    ...(observation.effectiveAt && observation.effectiveEndAt
      ? { effectivePeriod: { start: observation.effectiveAt.toISOString(), end: observation.effectiveEndAt.toISOString() } }
      : observation.effectiveAt ? { effectiveDateTime: observation.effectiveAt.toISOString() } : {}),
    issued: observation.receivedAt.toISOString(),
    ...(number !== null
      ? { valueQuantity: { value: number, ...(observation.comparator ? { comparator: observation.comparator as '<' } : {}), ...(observation.unit ? { unit: observation.unit, ...(ucum ? { system: 'http://unitsofmeasure.org', code: observation.unit } : {}) } : {}) } }
      : observation.valueText ? { valueString: observation.valueText } : {}),
    ...(observation.interpretation.length ? { interpretation: observation.interpretation.map((flag) => ({ coding: [{ system: INTERPRETATION, code: flag }] })) } : {}),
    ...(observation.referenceRange ? { referenceRange: [{ text: observation.referenceRange }] } : {}),
    ...(observation.notes.length ? { note: observation.notes.map((text) => ({ text })) } : {}),
  };
}

export const fhirObservationJson = (observation: Observation): string => stringifyLossless(fhirObservation(observation)) ?? '';

/** The report of the order an observation answers (the same message and order): its results by reference. */
export async function diagnosticReportOf(ctx: Ctx, observation: Observation): Promise<string> {
  const siblings = observation.messageId
    ? await ctx.db.observation.findMany({ where: { messageId: observation.messageId, placerOrderId: observation.placerOrderId, fillerOrderId: observation.fillerOrderId }, orderBy: { sourceKey: 'asc' } })
    : [observation];
  if (siblings.length === 0) throw notFound('Observation');
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: `report-${observation.id}`,
    ...(observation.fillerOrderId || observation.placerOrderId ? { identifier: [{ value: observation.fillerOrderId ?? observation.placerOrderId ?? '' }] } : {}),
    status: siblings.every((row) => row.status === 'FINAL') ? 'final' : 'partial',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
    code: { coding: [{ code: observation.orderCode ?? observation.code }] },
    ...(observation.patientId ? { subject: { reference: `Patient/${observation.patientId}` } } : {}),
    ...(observation.effectiveAt ? { effectiveDateTime: observation.effectiveAt.toISOString() } : {}),
    issued: observation.receivedAt.toISOString(),
    result: siblings.map((row) => ({ reference: `Observation/${row.id}`, display: row.display })),
  };
  return JSON.stringify(report);
}
