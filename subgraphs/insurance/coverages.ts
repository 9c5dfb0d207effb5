import type { Coverage, Payer, SubscriberRelationship } from '../../prisma/generated/client/client.js';
import { loadVisible } from '../kit/access.js';
import { badUserInput, InputProblems, notFound } from '../kit/errors.js';
import { requireOwnOrStaff, requireSignedIn, requireStaffOf } from '../kit/identity.js';
import { INSURANCE_STAFF } from './policies.js';
import type { Ctx } from './service.js';

const STAFF_ONLY = 'Only billing staff and administrators manage coverage';

export function loadCoverage(ctx: Ctx, id: string): Promise<Coverage> {
  requireSignedIn(ctx.identity);
  return loadVisible<Coverage>(ctx, 'Coverage', id);
}

/** A patient's coverages: their own for the patient, the organization's for staff (batched per request). */
export function coveragesOfPatient(ctx: Ctx, patientId: string): Promise<Coverage[]> {
  requireOwnOrStaff(ctx.identity, patientId, INSURANCE_STAFF, 'coverage');
  return ctx.loaders
    .groupedBy<Coverage>('coveragesByPatient', (patientIds) => ctx.db.coverage.findMany({ where: { patientId: { in: patientIds } }, orderBy: [{ periodStart: 'desc' }, { id: 'asc' }] }), (row) => row.patientId)
    .load(patientId);
}

export function listPayers(ctx: Ctx): Promise<Payer[]> {
  requireSignedIn(ctx.identity);
  return ctx.db.payer.findMany({ orderBy: [{ country: 'asc' }, { name: 'asc' }] });
}

/** A payer by id for an entity lookup: FORBIDDEN for callers who may not use insurance, NOT_FOUND when there is none. */
export function loadPayer(ctx: Ctx, id: string): Promise<Payer> {
  requireSignedIn(ctx.identity);
  return loadVisible<Payer>(ctx, 'Payer', id);
}

/** A coverage's payer (batched per request). */
export function payerOf(ctx: Ctx, payerId: string): Promise<Payer | null> {
  return ctx.loaders.get<string, Payer | null>('payer', async (ids) => {
    const rows = await ctx.db.payer.findMany({ where: { id: { in: [...ids] } } });
    return ids.map((id) => rows.find((row) => row.id === id) ?? null);
  }).load(payerId);
}

export interface CoverageInput {
  patientId: string;
  payerId: string;
  memberId: string;
  plan: string;
  subscriberFirstName: string;
  subscriberLastName: string;
  subscriberBirthDate: string | null;
  relationship: SubscriberRelationship;
  periodStart: string;
  periodEnd: string | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Registers a patient's cover with a payer, for a patient of the caller's organization. */
export async function addCoverage(ctx: Ctx, input: CoverageInput): Promise<Coverage> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const problems = new InputProblems();
  if (!/^[A-Za-z0-9\-/.]{1,40}$/.test(input.memberId)) problems.add('input.memberId', 'must be 1-40 letters, digits, - / .');
  if (!input.plan.trim() || input.plan.length > 80) problems.add('input.plan', 'must be 1-80 characters');
  if (!input.subscriberFirstName.trim() || !input.subscriberLastName.trim()) problems.add('input.subscriberLastName', 'the subscriber’s names are required');
  for (const [field, value] of [['input.periodStart', input.periodStart], ['input.periodEnd', input.periodEnd], ['input.subscriberBirthDate', input.subscriberBirthDate]] as const) {
    if (value !== null && (!DATE.test(value) || Number.isNaN(Date.parse(value)))) problems.add(field, 'must be a date, YYYY-MM-DD');
  }
  if (input.periodEnd && input.periodEnd < input.periodStart) problems.add('input.periodEnd', 'must not be before periodStart');
  problems.throwIfAny();
  await ctx.directory.require('Patient', input.patientId, [caller.organizationId]);
  const payer = await ctx.db.payer.findUnique({ where: { id: input.payerId } });
  if (!payer) throw notFound('Payer');
  const existing = await ctx.db.coverage.findFirst({ where: { payerId: payer.id, memberId: input.memberId, patientId: input.patientId } });
  if (existing) throw badUserInput('input.memberId', 'this patient already has that member id with this payer');
  return ctx.db.coverage.create({
    data: {
      organizationId: caller.organizationId, patientId: input.patientId, payerId: payer.id, memberId: input.memberId, plan: input.plan.trim(),
      subscriberFirstName: input.subscriberFirstName.trim(), subscriberLastName: input.subscriberLastName.trim(),
      subscriberBirthDate: input.subscriberBirthDate ? new Date(input.subscriberBirthDate) : null, relationship: input.relationship,
      periodStart: new Date(input.periodStart), periodEnd: input.periodEnd ? new Date(input.periodEnd) : null,
    },
  });
}
