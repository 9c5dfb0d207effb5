import type Stripe from 'stripe';
import type { Payment, Refund } from '../../prisma/generated/client/client.js';
import { badUserInput, conflict, notFound } from '../kit/errors.js';
import { BillingEvents } from '../kit/events/billing.js';
import { requireStaffOf } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import { atStripe, isStripeRefusal } from './adapters/stripe.js';
import { BILLING_STAFF } from './policies.js';
import { idempotencyKey, stripeFor, type Ctx } from './service.js';
import { applyStripeRefund, lockRow } from './settlement.js';

/** The payment, if the caller may see it: FORBIDDEN when it exists out of sight, NOT_FOUND otherwise. */
async function loadPayment(ctx: Ctx, id: string): Promise<Payment> {
  const payment = await ctx.db.payment.findUnique({ where: { id } });
  if (!payment) throw notFound('Payment');
  return payment;
}

/**
 * Refunds all or part of a succeeded payment (billing staff of its organization). The refund
 * is reserved locally first, under a lock on the payment, so two refunds at once cannot
 * together exceed what was paid; then it is created at Stripe with the refund's id as
 * idempotency key. Stripe refusing it releases the reservation; a network failure leaves it
 * pending (Stripe's webhook settles it).
 */
export async function refundPayment(ctx: Ctx, paymentId: string, requestedAmount: number | null | undefined, reason: string): Promise<Refund> {
  const caller = requireStaffOf(ctx.identity, BILLING_STAFF, 'Only billing staff and administrators refund payments');
  await loadPayment(ctx, paymentId);
  const why = reason.trim();
  if (why.length < 3 || why.length > 500) throw badUserInput('reason', 'must be 3-500 characters');
  const stripe = stripeFor(ctx);
  const refund = await ctx.db.$transaction(async (tx) => {
    await lockRow(tx, 'Payment', paymentId);
    const payment = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
    if (payment.status !== 'SUCCEEDED' || !payment.stripePaymentIntentId) throw conflict('Only a succeeded payment can be refunded');
    const reserved = await tx.refund.aggregate({ where: { paymentId, status: { in: ['PENDING', 'SUCCEEDED'] } }, _sum: { amount: true } });
    const refundable = payment.amount - Math.max(reserved._sum.amount ?? 0, payment.amountRefunded);
    const amount = requestedAmount ?? refundable;
    if (refundable <= 0) throw conflict('The payment is already fully refunded');
    if (!Number.isInteger(amount) || amount < 1) throw badUserInput('amount', 'must be a whole number of minor units, at least 1');
    if (amount > refundable) throw badUserInput('amount', `exceeds the ${refundable} minor units still refundable`);
    const created = await tx.refund.create({ data: { paymentId, invoiceId: payment.invoiceId, organizationId: payment.organizationId, amount, currency: payment.currency, reason: why, requestedById: caller.subject } });
    await recordEvent(tx, BillingEvents.refundInitiated, { aggregateId: created.id, organizationId: payment.organizationId, payload: { refundId: created.id, paymentId, invoiceId: payment.invoiceId, organizationId: payment.organizationId, amount, currency: payment.currency } });
    return { created, intentId: payment.stripePaymentIntentId };
  });
  let stripeRefund: Stripe.Refund;
  try {
    stripeRefund = await atStripe(
      stripe.refunds.create(
        // Stripe's reason is an enum; ours (free text, may describe care) stays in our database.
        { payment_intent: refund.intentId, amount: refund.created.amount, reason: 'requested_by_customer', metadata: { refund_id: refund.created.id, payment_id: paymentId, invoice_id: refund.created.invoiceId } },
        { idempotencyKey: idempotencyKey('refund', refund.created.id) },
      ),
    );
  } catch (error) {
    if (isStripeRefusal(error)) {
      await ctx.db.refund.updateMany({ where: { id: refund.created.id, status: 'PENDING' }, data: { status: 'FAILED', settledAt: new Date() } });
      throw conflict(`Stripe refused the refund: ${error.message}`);
    }
    throw error;
  }
  return ctx.db.$transaction(async (tx) => {
    // Usually Stripe answers `pending` and a webhook follows; an immediate outcome is applied now.
    await applyStripeRefund(tx, refund.created.id, stripeRefund);
    return tx.refund.findUniqueOrThrow({ where: { id: refund.created.id } });
  });
}
