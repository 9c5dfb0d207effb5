import type { Claim, ClaimAppeal } from '../../prisma/generated/client/client.js';
import { badUserInput, conflict, DomainError, notFound } from '../kit/errors.js';
import { InsuranceEvents } from '../kit/events/insurance.js';
import { requireStaffOf } from '../kit/identity.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { PayerUnavailable } from './adapters/payer.js';
import { disputable, eventFields, move } from './claims.js';
import { checkDocuments, documentsById, toSend } from './documents.js';
import { INSURANCE_STAFF } from './policies.js';
import { coverageOf, memberOf, payersOf, providerAt, type Ctx } from './service.js';

/**
 * Appeals: staff ask the payer to reconsider a denied or partly paid claim, with their reasons
 * and documents. The appeal is recorded and the claim moves to APPEALED in one transaction
 * (with `claim.appealed`) before anything leaves; then it is delivered through the payer's
 * adapter. A payer that takes appeals only through its own channel (X12 has no appeal
 * transaction) leaves it PREPARED, its documents ready; a payer that is down leaves it PREPARED
 * too, to be sent again with `sendAppeal` — nothing is lost either way. The payer's decision
 * comes back in a remittance (remittance.ts) or by letter (`recordAppealDecision`).
 */
const STAFF_ONLY = 'Only billing staff and administrators appeal claims';

export interface AppealOutcome {
  appeal: ClaimAppeal;
  /** Why it was not delivered (the payer takes no appeals by API, or could not be reached). */
  deliveryError: { code: string; reason: string; message: string } | null;
}

export function appealsOf(ctx: Ctx, claimId: string): Promise<ClaimAppeal[]> {
  return ctx.loaders.groupedBy<ClaimAppeal>('claimAppeals', (ids) => ctx.db.claimAppeal.findMany({ where: { claimId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }), (row) => row.claimId).load(claimId);
}

export async function appealClaim(ctx: Ctx, claimId: string, input: { reason: string; documentIds: string[] }): Promise<AppealOutcome> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const reason = input.reason.trim();
  if (reason.length < 10 || reason.length > 2000) throw badUserInput('input.reason', 'must be 10-2000 characters');
  const claim = await ctx.db.claim.findFirst({ where: { id: claimId }, include: { replacedBy: { select: { id: true } } } });
  if (!claim) throw notFound('Claim');
  if (!disputable(claim)) throw conflict(`the claim is ${claim.status.toLowerCase()}; only denied or partly paid claims are appealed`);
  if (claim.replacedBy) throw conflict(`the claim is being corrected by claim ${claim.replacedBy.id}`);
  const documentIds = await checkDocuments(ctx, claim.patientId, input.documentIds, 'input.documentIds');
  const appeal = await ctx.db.$transaction(async (tx) => {
    const appealed = await move(tx, claim, [claim.status], 'APPEALED', caller.subject, `appealed: ${reason.slice(0, 200)}`);
    if (!appealed) throw conflict('the claim changed meanwhile');
    const created = await tx.claimAppeal.create({ data: { claimId: claim.id, organizationId: claim.organizationId, reason, documentIds, status: 'PREPARED', createdById: caller.subject } });
    await recordEvent(tx, InsuranceEvents.claimAppealed, { aggregateId: claim.id, organizationId: claim.organizationId, payload: { ...eventFields(appealed), appealId: created.id } });
    return created;
  });
  return deliver(ctx, appeal, claim);
}

/** Delivers a PREPARED appeal again (after the payer was down). */
export async function sendAppeal(ctx: Ctx, appealId: string): Promise<AppealOutcome> {
  requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const appeal = await ctx.db.claimAppeal.findFirst({ where: { id: appealId }, include: { claim: true } });
  if (!appeal) throw notFound('ClaimAppeal');
  if (appeal.status !== 'PREPARED') throw conflict(`the appeal is ${appeal.status.toLowerCase()}`);
  return deliver(ctx, appeal, appeal.claim);
}

async function deliver(ctx: Ctx, appeal: ClaimAppeal, claim: Claim): Promise<AppealOutcome> {
  const coverage = await coverageOf(ctx, claim.coverageId);
  try {
    const { reference } = await payersOf(ctx).submitAppeal({
      payer: { code: coverage.payer.code, name: coverage.payer.name },
      provider: await providerAt(ctx, claim.organizationId, claim.payerId),
      appealId: appeal.id, claimId: claim.id, payerClaimNumber: claim.payerClaimNumber, member: memberOf(coverage), reason: appeal.reason,
      documents: toSend(await documentsById(ctx, appeal.documentIds)),
    });
    // Only a PREPARED appeal becomes SENT: a decision recorded meanwhile stands.
    await ctx.db.claimAppeal.updateMany({ where: { id: appeal.id, status: 'PREPARED' }, data: { status: 'SENT', payerReference: reference } });
    return { appeal: await ctx.db.claimAppeal.findUniqueOrThrow({ where: { id: appeal.id } }), deliveryError: null };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const reason = error instanceof PayerUnavailable ? error.reason : 'ERROR';
    return { appeal, deliveryError: { code: error.code, reason, message: error.message } };
  }
}

/**
 * Records the payer's decision on an appeal that came by letter or portal. Overturned: the
 * claim is adjudicated again with the amount the payer now approves (`claim.approved`), and
 * its payment comes by remittance. Upheld: the claim returns to where it was (denied, or paid
 * in part).
 */
export async function recordAppealDecision(ctx: Ctx, appealId: string, input: { outcome: 'UPHELD' | 'OVERTURNED'; approvedAmount: number | null; note: string | null }): Promise<ClaimAppeal> {
  const caller = requireStaffOf(ctx.identity, INSURANCE_STAFF, STAFF_ONLY);
  const appeal = await ctx.db.claimAppeal.findFirst({ where: { id: appealId }, include: { claim: true } });
  if (!appeal) throw notFound('ClaimAppeal');
  if (appeal.status === 'UPHELD' || appeal.status === 'OVERTURNED') throw conflict(`the appeal was already decided (${appeal.status.toLowerCase()})`);
  const claim = appeal.claim;
  if (input.outcome === 'OVERTURNED') {
    const amount = input.approvedAmount;
    if (amount === null || !Number.isInteger(amount) || amount <= (claim.paidAmount ?? 0) || amount > claim.totalCharge) {
      throw badUserInput('input.approvedAmount', `an overturned appeal approves more than was paid (${claim.paidAmount ?? 0}) and at most the claim's total (${claim.totalCharge}), in minor units`);
    }
  } else if (input.approvedAmount !== null) throw badUserInput('input.approvedAmount', 'an upheld appeal approves nothing more');
  if (input.note !== null && input.note.length > 2000) throw badUserInput('input.note', 'at most 2000 characters');
  return ctx.db.$transaction(async (tx) => {
    const decided = await decideAppeal(tx, claim.id, input.outcome === 'OVERTURNED' ? (input.approvedAmount as number) : null, caller.subject, input.note ?? 'decision recorded by staff');
    if (!decided) throw conflict('the claim is no longer under appeal');
    return decided;
  });
}

/**
 * Applies a decision to the claim's open appeal, in the caller's transaction: the appeal
 * decided, the claim adjudicated again (APPEALED → ADJUDICATED, or back to PAID when upheld
 * after a partial payment) with its event. `approvedAmount` null means upheld. Returns the
 * decided appeal, or null when the claim was not under appeal.
 */
export async function decideAppeal(tx: TransactionClient, claimId: string, approvedAmount: number | null, actorId: string | null, note: string): Promise<ClaimAppeal | null> {
  const claim = await tx.claim.findUnique({ where: { id: claimId } });
  const open = await tx.claimAppeal.findFirst({ where: { claimId, status: { in: ['PREPARED', 'SENT'] } }, orderBy: { createdAt: 'desc' } });
  if (!claim || claim.status !== 'APPEALED' || !open) return null;
  const overturned = approvedAmount !== null;
  const decided = await tx.claimAppeal.update({ where: { id: open.id }, data: { status: overturned ? 'OVERTURNED' : 'UPHELD', approvedAmount, decisionNote: note.slice(0, 2000), decidedAt: new Date() } });
  if (overturned) {
    const adjudication = approvedAmount >= claim.totalCharge ? 'APPROVED' : 'PARTIALLY_APPROVED';
    const adjudicated = await move(tx, claim, ['APPEALED'], 'ADJUDICATED', actorId, `appeal overturned: ${adjudication.toLowerCase().replace('_', ' ')}`, { adjudication, approvedAmount, reasons: [] });
    if (adjudicated) await recordEvent(tx, InsuranceEvents.claimApproved, { aggregateId: claimId, organizationId: claim.organizationId, payload: { ...eventFields(adjudicated), adjudication, approvedAmount } });
  } else {
    // Upheld: back where it was, and said again as the payer's decision (denied, or approved in part and paid).
    const back = claim.paidAmount ? 'PAID' : 'ADJUDICATED';
    const kept = await move(tx, claim, ['APPEALED'], back, actorId, 'appeal upheld: the payer keeps its decision');
    if (kept && kept.adjudication === 'DENIED') await recordEvent(tx, InsuranceEvents.claimDenied, { aggregateId: claimId, organizationId: kept.organizationId, payload: { ...eventFields(kept), reasons: [...kept.reasons, 'APPEAL_UPHELD'] } });
    if (kept && kept.adjudication === 'PARTIALLY_APPROVED') await recordEvent(tx, InsuranceEvents.claimApproved, { aggregateId: claimId, organizationId: kept.organizationId, payload: { ...eventFields(kept), adjudication: 'PARTIALLY_APPROVED', approvedAmount: kept.approvedAmount ?? 0 } });
  }
  return decided;
}
