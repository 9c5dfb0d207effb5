import type Stripe from 'stripe';
import { Prisma, type Payment, type PrismaClient } from '../../prisma/generated/client/client.js';
import { isUniqueViolation } from '../kit/access.js';
import type { SubgraphDeps } from '../kit/context.js';
import { errorResponse, type RouteResponse } from '../kit/http.js';
import type { Logger } from '../kit/logger.js';
import type { TransactionClient } from '../kit/outbox.js';
import type { SubgraphRoute } from '../kit/subgraph.js';
import { isSignatureError, StripeNotConfigured, stripeSettingsFromEnv, verifyWebhook } from './adapters/stripe.js';
import { applyChargeRefunded, applyStripeRefund, markPaymentFailed, markPaymentSucceeded } from './settlement.js';

/**
 * `POST /webhooks/stripe`: Stripe tells us what happened to our payments and refunds. The
 * signature is checked over the raw bytes before anything is stored (400 otherwise). Each
 * event is recorded by id in the transaction that applies it, so a redelivery — or the same
 * event arriving twice at once — is applied once. Every change it makes is monotonic (a
 * payment never goes back from succeeded, refunded amounts only grow) and the invoice's status
 * is recomputed from its rows, so events arriving out of order end in the same state.
 */

const HANDLED = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded', 'payment_intent.succeeded', 'payment_intent.payment_failed', 'charge.refunded', 'refund.updated', 'refund.created', 'refund.failed']);

const idOf = (value: string | { id: string } | null | undefined): string | null => (typeof value === 'string' ? value : (value?.id ?? null));

async function paymentFor(tx: TransactionClient, ref: { paymentId?: string | null; checkoutSessionId?: string | null; paymentIntentId?: string | null; chargeId?: string | null }): Promise<Payment | null> {
  const or: Prisma.PaymentWhereInput[] = [];
  if (ref.checkoutSessionId) or.push({ stripeCheckoutSessionId: ref.checkoutSessionId });
  if (ref.paymentIntentId) or.push({ stripePaymentIntentId: ref.paymentIntentId });
  if (ref.chargeId) or.push({ stripeChargeId: ref.chargeId });
  // Our own id in the metadata finds a payment whose Stripe ids we have not stored yet (the
  // webhook overtook the response to our create call).
  if (ref.paymentId) or.push({ id: ref.paymentId });
  if (or.length === 0) return null;
  return tx.payment.findFirst({ where: { OR: or } });
}

/** Applies one verified event; returns false when it concerns nothing of ours. */
async function apply(tx: TransactionClient, event: Stripe.Event): Promise<boolean> {
  const paidAt = new Date(event.created * 1000);
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const session = event.data.object;
      const payment = await paymentFor(tx, { checkoutSessionId: session.id, paymentId: session.metadata?.['payment_id'] ?? session.client_reference_id });
      if (!payment) return false;
      // A completed session with a delayed method (bank debit) is not paid yet; its async event follows.
      if (session.payment_status === 'paid') await markPaymentSucceeded(tx, payment, { paymentIntentId: idOf(session.payment_intent), paidAt });
      return true;
    }
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const payment = await paymentFor(tx, { paymentIntentId: intent.id, paymentId: intent.metadata?.['payment_id'] });
      if (!payment) return false;
      await markPaymentSucceeded(tx, payment, { paymentIntentId: intent.id, chargeId: idOf(intent.latest_charge), paidAt });
      return true;
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const payment = await paymentFor(tx, { paymentIntentId: intent.id, paymentId: intent.metadata?.['payment_id'] });
      if (!payment) return false;
      await markPaymentFailed(tx, payment, intent.last_payment_error?.decline_code ?? intent.last_payment_error?.code ?? null);
      return true;
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const payment = await paymentFor(tx, { chargeId: charge.id, paymentIntentId: idOf(charge.payment_intent), paymentId: charge.metadata?.['payment_id'] });
      if (!payment) return false;
      if (!payment.stripeChargeId) await tx.payment.updateMany({ where: { id: payment.id, stripeChargeId: null }, data: { stripeChargeId: charge.id } });
      // Stored even if the payment's success event has not arrived yet: the invoice counts it once it has.
      await applyChargeRefunded(tx, payment, charge.amount_refunded);
      for (const refund of charge.refunds?.data ?? []) await applyRefund(tx, refund);
      return true;
    }
    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed':
      return applyRefund(tx, event.data.object);
    default:
      return false;
  }
}

async function applyRefund(tx: TransactionClient, refund: Stripe.Refund): Promise<boolean> {
  const local = await tx.refund.findFirst({ where: { OR: [{ stripeRefundId: refund.id }, ...(refund.metadata?.['refund_id'] ? [{ id: refund.metadata['refund_id'] }] : [])] }, select: { id: true } });
  if (!local) return false;
  await applyStripeRefund(tx, local.id, refund);
  return true;
}

/** Records and applies an event once. Returns whether this call applied it. */
export async function processStripeEvent(prisma: PrismaClient, event: Stripe.Event, log: Logger): Promise<'processed' | 'duplicate'> {
  try {
    await prisma.$transaction(async (tx) => {
      // First: a concurrent delivery of the same event waits on this row and then fails on it.
      await tx.stripeEvent.create({ data: { id: event.id, type: event.type, createdAt: new Date(event.created * 1000), objectId: (event.data.object as { id?: string }).id ?? null } });
      const ours = HANDLED.has(event.type) ? await apply(tx, event) : false;
      if (!ours) log.info({ stripeEventId: event.id, type: event.type }, 'stripe event recorded, nothing of ours to change');
    });
    return 'processed';
  } catch (error) {
    if (isUniqueViolation(error)) return 'duplicate';
    throw error;
  }
}

export const stripeWebhookRoute: SubgraphRoute = {
  method: 'POST',
  path: '/webhooks/stripe',
  public: true,
  async handle(request, deps: SubgraphDeps): Promise<RouteResponse> {
    const settings = deps.stripe ?? stripeSettingsFromEnv();
    const header = request.headers['stripe-signature'];
    if (typeof header !== 'string' || header === '') return errorResponse('BAD_REQUEST', 'missing Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = verifyWebhook(settings, request.body, header);
    } catch (error) {
      if (error instanceof StripeNotConfigured) {
        deps.log.error({ err: error }, 'stripe webhook received but STRIPE_WEBHOOK_SECRET is not set');
        return errorResponse('SERVICE_UNAVAILABLE', 'webhooks are not configured');
      }
      if (isSignatureError(error)) {
        // Nothing stored, nothing logged from the body: it is unauthenticated input.
        deps.log.warn({ reason: error instanceof Error ? error.message.slice(0, 120) : 'invalid' }, 'stripe webhook signature rejected');
        return errorResponse('BAD_REQUEST', 'invalid Stripe signature');
      }
      return errorResponse('BAD_REQUEST', 'invalid webhook payload');
    }
    const outcome = await processStripeEvent(deps.prisma, event, deps.log);
    // 2xx for duplicates too: Stripe retries anything else, and this event is already done.
    return { status: 200, body: { received: true, duplicate: outcome === 'duplicate' } };
  },
};
