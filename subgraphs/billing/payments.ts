import { publicBaseUrl } from '../kit/context.js';
import type { Currency, Invoice, Payment, PaymentChannel, PaymentKind, Prisma } from '../../prisma/generated/client/client.js';
import { badUserInput, conflict } from '../kit/errors.js';
import { BillingEvents } from '../kit/events/billing.js';
import { requireSignedIn, type AuthenticatedIdentity } from '../kit/identity.js';
import { recordEvent } from '../kit/outbox.js';
import { atStripe } from './adapters/stripe.js';
import { loadInvoice } from './invoices.js';
import { idempotencyKey, stripeFor, totalsOf, type Ctx } from './service.js';
import { lockRow } from './settlement.js';

/**
 * Paying an invoice: a Stripe Checkout page, or a payment intent the payer's own page confirms.
 * Whoever may see the invoice may pay it (its patient online, billing staff at the desk); the
 * outcome arrives by webhook (settlement.ts).
 */

export interface CheckoutResult {
  url: string;
  sessionId: string;
  payment: Payment;
}

export interface PaymentIntentResult {
  paymentIntentId: string;
  clientSecret: string;
  payment: Payment;
}

/** The invoice, if the caller may see it and it can be paid, with what is still due. */
async function payableInvoice(ctx: Ctx, invoiceId: string): Promise<{ invoice: Invoice; caller: AuthenticatedIdentity; due: number }> {
  const caller = requireSignedIn(ctx.identity);
  const invoice = await loadInvoice(ctx, invoiceId);
  if (invoice.status !== 'OPEN' && invoice.status !== 'PARTIALLY_PAID') throw conflict(`The invoice is ${invoice.status.toLowerCase()}; it cannot be paid`);
  const payments = await ctx.db.payment.findMany({ where: { invoiceId } });
  return { invoice, caller, due: totalsOf(invoice, payments).due };
}

function checkAmount(amount: number, due: number, field: string): void {
  if (!Number.isInteger(amount) || amount < 1) throw badUserInput(field, 'must be a whole number of minor units, at least 1');
  if (amount > due) throw badUserInput(field, `exceeds the ${due} minor units still due`);
}

/**
 * A pending payment of this kind and amount not yet sent to Stripe or still open there: a
 * retried request (double click, client retry) reuses it, and with it the idempotency key,
 * instead of opening a second way to pay the same amount. Otherwise a new one.
 */
async function pendingPayment(ctx: Ctx, invoice: Invoice, caller: AuthenticatedIdentity, kind: PaymentKind, amount: number, channel: PaymentChannel): Promise<Payment> {
  const reusable = await ctx.db.payment.findFirst({
    where: {
      invoiceId: invoice.id, kind, amount, channel, status: 'PENDING',
      // Stripe expires a checkout session after 24 hours: an older one is not handed out again.
      ...(channel === 'CHECKOUT' ? { createdAt: { gt: new Date(Date.now() - 23 * 3600_000) } } : {}),
    },
    orderBy: { createdAt: 'desc' },
  });
  return reusable ?? ctx.db.payment.create({ data: { invoiceId: invoice.id, organizationId: invoice.organizationId, kind, channel, amount, currency: invoice.currency, initiatedById: caller.subject } });
}

const stripeCurrency = (currency: Currency): string => currency.toLowerCase();

function paymentMetadata(invoice: Invoice, payment: Payment): Record<string, string> {
  // Ids only: no names, no descriptions of care.
  return { payment_id: payment.id, invoice_id: invoice.id, organization_id: invoice.organizationId, kind: payment.kind.toLowerCase() };
}

type StripeIds = { via: 'checkout'; stripeCheckoutSessionId: string; data: Prisma.PaymentUpdateInput } | { via: 'payment_intent'; stripePaymentIntentId: string; data: Prisma.PaymentUpdateInput };

/** Stores what Stripe created for the payment; only the request that stores it first announces the payment. */
function storeStripeIds(ctx: Ctx, invoice: Invoice, paymentId: string, ids: StripeIds): Promise<Payment> {
  const { data, ...announced } = ids;
  return ctx.db.$transaction(async (tx) => {
    // Locked: a concurrent retry waits, then finds the ids stored and announces nothing.
    await lockRow(tx, 'Payment', paymentId);
    const current = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
    if ((ids.via === 'checkout' ? current.stripeCheckoutSessionId : current.stripePaymentIntentId) !== null) return current;
    const row = await tx.payment.update({ where: { id: paymentId }, data });
    await recordEvent(tx, BillingEvents.paymentInitiated, {
      aggregateId: paymentId,
      organizationId: invoice.organizationId,
      payload: { paymentId, invoiceId: invoice.id, patientId: invoice.patientId, organizationId: invoice.organizationId, kind: row.kind, amount: row.amount, currency: row.currency, ...announced },
    });
    return row;
  });
}

export async function startCheckout(ctx: Ctx, invoiceId: string, kind: PaymentKind, requestedAmount?: number | null): Promise<CheckoutResult> {
  const { invoice, caller, due } = await payableInvoice(ctx, invoiceId);
  const amount = requestedAmount ?? due;
  checkAmount(amount, due, 'amount');
  const stripe = stripeFor(ctx);
  const payment = await pendingPayment(ctx, invoice, caller, kind, amount, 'CHECKOUT');
  if (payment.stripeCheckoutSessionId && payment.checkoutUrl) return { url: payment.checkoutUrl, sessionId: payment.stripeCheckoutSessionId, payment };
  const base = publicBaseUrl(ctx);
  const metadata = paymentMetadata(invoice, payment);
  const session = await atStripe(
    stripe.checkout.sessions.create(
      {
        mode: 'payment',
        client_reference_id: payment.id,
        line_items: [{ quantity: 1, price_data: { currency: stripeCurrency(invoice.currency), unit_amount: amount, product_data: { name: `Invoice ${invoice.id.slice(0, 8)} (${kind.toLowerCase().replace('_', ' ')})` } } }],
        metadata,
        payment_intent_data: { metadata },
        success_url: `${base}/billing/invoices/${invoice.id}?checkout=success`,
        cancel_url: `${base}/billing/invoices/${invoice.id}?checkout=cancelled`,
      },
      { idempotencyKey: idempotencyKey('checkout', payment.id) },
    ),
  );
  if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  const intentId = typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null);
  const stored = await storeStripeIds(ctx, invoice, payment.id, {
    via: 'checkout',
    stripeCheckoutSessionId: session.id,
    data: { stripeCheckoutSessionId: session.id, checkoutUrl: session.url, ...(intentId ? { stripePaymentIntentId: intentId } : {}) },
  });
  return { url: session.url, sessionId: session.id, payment: stored };
}

export async function createPaymentIntent(ctx: Ctx, invoiceId: string, amount: number, kind: PaymentKind): Promise<PaymentIntentResult> {
  const { invoice, caller, due } = await payableInvoice(ctx, invoiceId);
  checkAmount(amount, due, 'amount');
  const stripe = stripeFor(ctx);
  const payment = await pendingPayment(ctx, invoice, caller, kind, amount, 'PAYMENT_INTENT');
  // Replayed by Stripe when the payment was already sent (same key): the same intent comes back.
  const intent = await atStripe(
    stripe.paymentIntents.create(
      { amount, currency: stripeCurrency(invoice.currency), metadata: paymentMetadata(invoice, payment), automatic_payment_methods: { enabled: true } },
      { idempotencyKey: idempotencyKey('payment-intent', payment.id) },
    ),
  );
  if (!intent.client_secret) throw new Error(`payment intent ${intent.id} has no client secret`);
  const stored = await storeStripeIds(ctx, invoice, payment.id, { via: 'payment_intent', stripePaymentIntentId: intent.id, data: { stripePaymentIntentId: intent.id } });
  return { paymentIntentId: intent.id, clientSecret: intent.client_secret, payment: stored };
}
