import type { Invoice, InvoiceStatus, Payment, PaymentKind, Refund } from '../../prisma/generated/client/client.js';
import { BillingEvents } from '../kit/events/billing.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { totalsOf } from './service.js';

/**
 * State from Stripe: what its webhooks (webhooks.ts, system work on the process's client) and
 * a refund's immediate answer (refunds.ts, through the caller's `ctx.db`) apply. Every change
 * is monotonic (a payment never goes back from succeeded, refunded amounts only grow) and the
 * invoice's status is recomputed from its rows, so events in any order end in the same state.
 *
 * What refunds.ts shares runs on the caller's access-checked client, which audits payments and
 * refunds: those changes lock, read and update one row by id (the audit names exactly the row
 * changed) rather than updating conditionally in bulk.
 */

const PAID_EVENT = { DEPOSIT: BillingEvents.depositPaid, BALANCE: BillingEvents.balancePaid, TELE_FEE: BillingEvents.teleFeePaid } as const satisfies Record<PaymentKind, unknown>;

/**
 * Locks a row for the rest of the transaction. Every change to an invoice's money takes the
 * invoice's lock first (two webhooks for it at once recompute from the same rows otherwise), then
 * the row it changes: one order everywhere, so changes wait for each other and never deadlock.
 */
export async function lockRow(tx: TransactionClient, table: 'Invoice' | 'Payment' | 'Refund', id: string): Promise<void> {
  if (table === 'Invoice') await tx.$queryRaw`SELECT id FROM "billing"."Invoice" WHERE id = ${id} FOR UPDATE`;
  else if (table === 'Payment') await tx.$queryRaw`SELECT id FROM "billing"."Payment" WHERE id = ${id} FOR UPDATE`;
  else await tx.$queryRaw`SELECT id FROM "billing"."Refund" WHERE id = ${id} FOR UPDATE`;
}

/**
 * Recomputes the invoice's status from its payments: nothing paid → open, refunds took it all
 * back → refunded, paid in full net of refunds → paid, otherwise partially paid. Voided and
 * draft invoices keep their status. Order-independent by construction.
 */
export async function recomputeInvoice(tx: TransactionClient, invoiceId: string): Promise<Invoice> {
  const invoice = await tx.invoice.findUniqueOrThrow({ where: { id: invoiceId } });
  if (invoice.status === 'VOID' || invoice.status === 'DRAFT') return invoice;
  const payments = await tx.payment.findMany({ where: { invoiceId } });
  const { paid, refunded } = totalsOf({ ...invoice, status: 'OPEN' }, payments);
  let status: InvoiceStatus;
  if (paid === 0) status = 'OPEN';
  else if (refunded >= paid) status = 'REFUNDED';
  else if (paid - refunded >= invoice.total) status = 'PAID';
  else status = 'PARTIALLY_PAID';
  if (status === invoice.status) return invoice;
  return tx.invoice.update({ where: { id: invoiceId }, data: { status } });
}

/** Marks a payment succeeded (once: the conditional update decides who announces it). */
export async function markPaymentSucceeded(tx: TransactionClient, payment: Payment, stripe: { paymentIntentId?: string | null; chargeId?: string | null; paidAt: Date }): Promise<void> {
  await lockRow(tx, 'Invoice', payment.invoiceId);
  const ids = { ...(stripe.paymentIntentId && !payment.stripePaymentIntentId ? { stripePaymentIntentId: stripe.paymentIntentId } : {}), ...(stripe.chargeId ? { stripeChargeId: stripe.chargeId } : {}) };
  const { count } = await tx.payment.updateMany({ where: { id: payment.id, status: { not: 'SUCCEEDED' } }, data: { status: 'SUCCEEDED', paidAt: stripe.paidAt, failureCode: null, ...ids } });
  if (count === 0) {
    // Already succeeded (through the other event of the pair): still fill in ids we lacked.
    if (stripe.chargeId && !payment.stripeChargeId) await tx.payment.updateMany({ where: { id: payment.id, stripeChargeId: null }, data: { stripeChargeId: stripe.chargeId } });
    return;
  }
  const invoice = await recomputeInvoice(tx, payment.invoiceId);
  await recordEvent(tx, PAID_EVENT[payment.kind], {
    aggregateId: payment.id,
    organizationId: payment.organizationId,
    payload: {
      paymentId: payment.id, invoiceId: payment.invoiceId, patientId: invoice.patientId, organizationId: payment.organizationId, kind: payment.kind, amount: payment.amount, currency: payment.currency, invoiceStatus: invoice.status,
      ...(invoice.sourceType && invoice.sourceId ? { source: { type: invoice.sourceType, id: invoice.sourceId } } : {}),
    },
  });
}

/** A failed attempt: only a payment still pending becomes failed (a late failure never undoes a success). */
export async function markPaymentFailed(tx: TransactionClient, payment: Payment, failureCode: string | null): Promise<void> {
  await tx.payment.updateMany({ where: { id: payment.id, status: 'PENDING' }, data: { status: 'FAILED', failureCode: failureCode ?? 'payment_failed' } });
}

/** Stripe's cumulative refunded amount on the charge; it only grows, so a stale event changes nothing. */
export async function applyChargeRefunded(tx: TransactionClient, payment: Pick<Payment, 'id' | 'invoiceId' | 'amount'>, amountRefunded: number): Promise<void> {
  await lockRow(tx, 'Invoice', payment.invoiceId);
  const refunded = Math.min(amountRefunded, payment.amount);
  // Read under the invoice's lock, which every change of a refunded amount takes.
  const current = await tx.payment.findUniqueOrThrow({ where: { id: payment.id }, select: { id: true, amountRefunded: true } });
  if (current.amountRefunded >= refunded) return;
  await tx.payment.update({ where: { id: payment.id }, data: { amountRefunded: refunded }, select: { id: true } });
  await recomputeInvoice(tx, payment.invoiceId);
}

const REFUND_STATUS: Record<string, Refund['status']> = { pending: 'PENDING', requires_action: 'PENDING', succeeded: 'SUCCEEDED', failed: 'FAILED', canceled: 'CANCELED' };

/**
 * A refund as Stripe reports it: its Stripe id, once known, and its status. Pending moves to a
 * final status once; the move to succeeded announces `payment.refund.issued` and counts the
 * refund against the payment.
 */
export async function applyStripeRefund(tx: TransactionClient, refundId: string, stripe: { id: string; status: string | null | undefined }): Promise<void> {
  const { invoiceId } = await tx.refund.findUniqueOrThrow({ where: { id: refundId }, select: { id: true, invoiceId: true } });
  await lockRow(tx, 'Invoice', invoiceId);
  await lockRow(tx, 'Refund', refundId);
  let refund = await tx.refund.findUniqueOrThrow({ where: { id: refundId } });
  if (!refund.stripeRefundId) refund = await tx.refund.update({ where: { id: refundId }, data: { stripeRefundId: stripe.id } });
  const status = REFUND_STATUS[stripe.status ?? ''];
  if (!status || status === 'PENDING' || refund.status !== 'PENDING') return;
  refund = await tx.refund.update({ where: { id: refundId }, data: { status, settledAt: new Date() } });
  if (status !== 'SUCCEEDED') return;
  const payment = await tx.payment.findUniqueOrThrow({ where: { id: refund.paymentId }, select: { id: true, invoiceId: true, amount: true } });
  const succeeded = await tx.refund.aggregate({ where: { paymentId: payment.id, status: 'SUCCEEDED' }, _sum: { amount: true } });
  await applyChargeRefunded(tx, payment, succeeded._sum.amount ?? 0);
  await recordEvent(tx, BillingEvents.refundIssued, {
    aggregateId: refund.id,
    organizationId: refund.organizationId,
    payload: {
      refundId: refund.id, paymentId: payment.id, invoiceId: refund.invoiceId, organizationId: refund.organizationId, amount: refund.amount, currency: refund.currency, stripeRefundId: refund.stripeRefundId,
      patientId: (await tx.invoice.findUniqueOrThrow({ where: { id: refund.invoiceId }, select: { patientId: true } })).patientId,
    },
  });
}
