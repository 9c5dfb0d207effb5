import type Stripe from 'stripe';
import type { Currency, Invoice, InvoiceLine, InvoiceStatus, Payment, PaymentChannel, PaymentKind, Refund } from '../../prisma/generated/client/client.js';
import { audit } from '../kit/audit.js';
import type { StripeSettings } from '../kit/config.js';
import type { SubgraphContext, SubgraphDeps } from '../kit/context.js';
import { badUserInput, conflict, forbidden, InputProblems, notFound, unauthenticated } from '../kit/errors.js';
import { isAuthenticated, Role, type AuthenticatedIdentity, type RoleName } from '../kit/identity.js';
import { recordEvent, type TransactionClient } from '../kit/outbox.js';
import { isStripeRefusal, stripeClient, stripeSettingsFromEnv } from './adapters/stripe.js';

/**
 * Invoices and the payments against them. Money moves only at Stripe: we create checkout
 * sessions, payment intents and refunds there (each with an idempotency key derived from our
 * own row's id, so a retried call never creates a second one) and learn the outcome from
 * Stripe's verified webhooks (webhooks.ts). An invoice's status is always recomputed from its
 * payments and what Stripe reports refunded, so events applied in any order end in the same
 * state. Changes others must hear about go through the outbox in the same transaction.
 */

export const SOURCE = 'billing';
export const EVENTS = {
  initiated: 'payment.initiated',
  depositPaid: 'payment.deposit.paid',
  balancePaid: 'payment.balance.paid',
  teleFeePaid: 'payment.tele_fee.paid',
  refundInitiated: 'payment.refund.initiated',
  refundIssued: 'payment.refund.issued',
} as const;

/** Who manages an organization's invoices. */
export const BILLING_STAFF: readonly RoleName[] = [Role.BILLING, Role.ADMIN];
/** Every currency is 2-decimal today (kobo, paise, cents); kept per currency so adding one is a table entry. */
export const MINOR_UNITS: Record<Currency, number> = { NGN: 2, INR: 2, USD: 2 };
/** Stripe's largest amount for a single charge in these currencies (eight digits of minor units). */
export const MAX_AMOUNT = 99_999_999;
const MAX_LINES = 100;

export type Ctx = Pick<SubgraphContext, 'prisma' | 'identity' | 'loaders' | 'log'> & Partial<Pick<SubgraphDeps, 'stripe' | 'publicUrl'>>;

export interface LineInput {
  description: string;
  quantity: number;
  unitAmount: number;
}

export interface InvoiceInput {
  patientId: string;
  currency: Currency;
  lines: LineInput[];
  organizationId?: string | null;
}

const settingsOf = (ctx: Pick<Ctx, 'stripe'>): StripeSettings => ctx.stripe ?? stripeSettingsFromEnv();

// ---------------------------------------------------------------- access

function requireIdentity(ctx: Ctx): AuthenticatedIdentity {
  if (!isAuthenticated(ctx.identity)) throw unauthenticated();
  return ctx.identity;
}

const isStaffOf = (identity: AuthenticatedIdentity, organizationId: string): boolean =>
  BILLING_STAFF.includes(identity.role) && identity.organizationId === organizationId;

const isPatientOf = (identity: AuthenticatedIdentity, invoice: Pick<Invoice, 'patientId' | 'status'>): boolean =>
  // Drafts are work in progress: the patient sees an invoice once it is issued.
  identity.role === Role.PATIENT && !!identity.patientId && identity.patientId === invoice.patientId && invoice.status !== 'DRAFT';

function requireStaff(ctx: Ctx, organizationId?: string | null): AuthenticatedIdentity & { organizationId: string } {
  const identity = requireIdentity(ctx);
  if (!BILLING_STAFF.includes(identity.role) || !identity.organizationId) throw forbidden('Only billing staff and administrators manage invoices');
  if (organizationId && organizationId !== identity.organizationId) throw forbidden('You may manage only your organization’s invoices');
  return identity as AuthenticatedIdentity & { organizationId: string };
}

/** The invoice if the caller may see it: its organization's billing staff, or its own patient. */
export async function loadInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  const identity = requireIdentity(ctx);
  const invoice = await ctx.loaders
    .get<string, Invoice | null>('invoiceById', async (ids) => {
      const rows = await ctx.prisma.invoice.findMany({ where: { id: { in: [...ids] } } });
      return ids.map((iid) => rows.find((row) => row.id === iid) ?? null);
    })
    .load(id);
  if (!invoice) throw notFound('Invoice');
  if (!isStaffOf(identity, invoice.organizationId) && !isPatientOf(identity, invoice)) throw forbidden('You may not see this invoice');
  return invoice;
}

export async function readInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  const invoice = await loadInvoice(ctx, id);
  await audit(ctx.prisma, ctx.identity, { source: SOURCE, action: 'read', entityType: 'Invoice', entityIds: [id] });
  return invoice;
}

/** A patient's invoices: all of them in the caller's organization for staff, their own (issued) ones for the patient. */
export async function invoicesForPatient(ctx: Ctx, patientId: string): Promise<Invoice[]> {
  const identity = requireIdentity(ctx);
  if (identity.role === Role.PATIENT) {
    if (identity.patientId !== patientId) throw forbidden('You may see only your own invoices');
  } else if (!BILLING_STAFF.includes(identity.role) || !identity.organizationId) {
    throw forbidden('You may not see invoices');
  }
  const scope = identity.role === Role.PATIENT ? { status: { not: 'DRAFT' as const } } : { organizationId: identity.organizationId ?? '∅' };
  const invoices = await ctx.loaders
    .groupedBy<Invoice>(`invoicesByPatient:${identity.role}:${identity.organizationId ?? ''}`, (patientIds) => ctx.prisma.invoice.findMany({ where: { patientId: { in: patientIds }, ...scope }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] }), (row) => row.patientId)
    .load(patientId);
  await audit(ctx.prisma, ctx.identity, { source: SOURCE, action: 'read', entityType: 'Invoice', entityIds: invoices.map((i) => i.id) });
  return invoices;
}

/** An organization's invoices (staff), newest first, optionally by status. */
export async function listInvoices(ctx: Ctx, organizationId: string | null | undefined, status: InvoiceStatus[] | null | undefined, first = 50): Promise<Invoice[]> {
  const identity = requireStaff(ctx, organizationId);
  if (!Number.isInteger(first) || first < 1 || first > 200) throw badUserInput('first', 'must be 1-200');
  const invoices = await ctx.prisma.invoice.findMany({
    where: { organizationId: identity.organizationId, ...(status?.length ? { status: { in: status } } : {}) },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    take: first,
  });
  await audit(ctx.prisma, ctx.identity, { source: SOURCE, action: 'read', entityType: 'Invoice', entityIds: invoices.map((i) => i.id) });
  return invoices;
}

// ---------------------------------------------------------------- batched children

export function linesOf(ctx: Ctx, invoiceId: string): Promise<InvoiceLine[]> {
  return ctx.loaders
    .groupedBy<InvoiceLine>('linesByInvoice', (ids) => ctx.prisma.invoiceLine.findMany({ where: { invoiceId: { in: ids } }, orderBy: { position: 'asc' } }), (row) => row.invoiceId)
    .load(invoiceId);
}

export function paymentsOf(ctx: Ctx, invoiceId: string): Promise<Payment[]> {
  return ctx.loaders
    .groupedBy<Payment>('paymentsByInvoice', (ids) => ctx.prisma.payment.findMany({ where: { invoiceId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }), (row) => row.invoiceId)
    .load(invoiceId);
}

export function refundsOf(ctx: Ctx, paymentId: string): Promise<Refund[]> {
  return ctx.loaders
    .groupedBy<Refund>('refundsByPayment', (ids) => ctx.prisma.refund.findMany({ where: { paymentId: { in: ids } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }), (row) => row.paymentId)
    .load(paymentId);
}

export interface InvoiceTotals {
  paid: number;
  refunded: number;
  due: number;
}

/** What was paid (succeeded payments), what Stripe refunded, and what is still owed. */
export function totalsOf(invoice: Pick<Invoice, 'total' | 'status'>, payments: readonly Pick<Payment, 'status' | 'amount' | 'amountRefunded'>[]): InvoiceTotals {
  const succeeded = payments.filter((p) => p.status === 'SUCCEEDED');
  const paid = succeeded.reduce((sum, p) => sum + p.amount, 0);
  const refunded = succeeded.reduce((sum, p) => sum + p.amountRefunded, 0);
  const due = invoice.status === 'VOID' || invoice.status === 'DRAFT' || invoice.status === 'REFUNDED' ? 0 : Math.max(0, invoice.total - (paid - refunded));
  return { paid, refunded, due };
}

// ---------------------------------------------------------------- invoices

export async function createInvoice(ctx: Ctx, input: InvoiceInput): Promise<Invoice> {
  const identity = requireStaff(ctx, input.organizationId);
  const problems = new InputProblems();
  problems.check(input.patientId.trim().length > 0, 'input.patientId', 'is required');
  problems.check(input.lines.length >= 1 && input.lines.length <= MAX_LINES, 'input.lines', `must have 1-${MAX_LINES} lines`);
  input.lines.forEach((line, i) => {
    const description = line.description.trim();
    problems.check(description.length >= 1 && description.length <= 200, `input.lines.${i}.description`, 'must be 1-200 characters');
    problems.check(Number.isInteger(line.quantity) && line.quantity >= 1 && line.quantity <= 1000, `input.lines.${i}.quantity`, 'must be a whole number 1-1000');
    problems.check(Number.isInteger(line.unitAmount) && line.unitAmount >= 0 && line.unitAmount <= MAX_AMOUNT, `input.lines.${i}.unitAmount`, `must be a whole number of minor units 0-${MAX_AMOUNT}`);
  });
  problems.throwIfAny();
  const lines = input.lines.map((line, position) => ({ position, description: line.description.trim(), quantity: line.quantity, unitAmount: line.unitAmount, amount: line.quantity * line.unitAmount }));
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  if (total < 1 || total > MAX_AMOUNT) throw badUserInput('input.lines', `the total must be 1-${MAX_AMOUNT} minor units`);
  const invoice = await ctx.prisma.invoice.create({
    data: { organizationId: identity.organizationId, patientId: input.patientId, currency: input.currency, total, createdById: identity.subject, lines: { create: lines } },
  });
  await audit(ctx.prisma, ctx.identity, { source: SOURCE, action: 'create', entityType: 'Invoice', entityIds: [invoice.id] });
  return invoice;
}

/** Moves an invoice from one status to another only if it is still in `from` (concurrent changes: one wins). */
async function transition(ctx: Ctx, id: string, from: InvoiceStatus[], data: { status: InvoiceStatus; finalizedAt?: Date; voidedAt?: Date }, action: string): Promise<Invoice> {
  const current = await loadInvoice(ctx, id);
  requireStaff(ctx, current.organizationId);
  if (!from.includes(current.status)) throw conflict(`The invoice is ${current.status.toLowerCase()}; it cannot be ${action}`);
  const updated = await ctx.prisma.invoice.updateMany({ where: { id, status: { in: from } }, data });
  if (updated.count === 0) throw conflict('The invoice changed meanwhile; reload it');
  await audit(ctx.prisma, ctx.identity, { source: SOURCE, action, entityType: 'Invoice', entityIds: [id] });
  return ctx.prisma.invoice.findUniqueOrThrow({ where: { id } });
}

export function finalizeInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  return transition(ctx, id, ['DRAFT'], { status: 'OPEN', finalizedAt: new Date() }, 'finalized');
}

/** Only an invoice nothing was paid against can be voided; one with money on it is refunded instead. */
export async function voidInvoice(ctx: Ctx, id: string): Promise<Invoice> {
  const paid = await ctx.prisma.payment.count({ where: { invoiceId: id, status: 'SUCCEEDED' } });
  if (paid > 0) throw conflict('Payments were made against this invoice; refund them instead of voiding it');
  return transition(ctx, id, ['DRAFT', 'OPEN'], { status: 'VOID', voidedAt: new Date() }, 'voided');
}

// ---------------------------------------------------------------- paying

/** The caller may pay this invoice: its own patient, or the organization's billing staff (at the desk). */
async function payableInvoice(ctx: Ctx, invoiceId: string): Promise<{ invoice: Invoice; identity: AuthenticatedIdentity; due: number }> {
  const identity = requireIdentity(ctx);
  const invoice = await loadInvoice(ctx, invoiceId);
  if (invoice.status !== 'OPEN' && invoice.status !== 'PARTIALLY_PAID') throw conflict(`The invoice is ${invoice.status.toLowerCase()}; it cannot be paid`);
  const payments = await ctx.prisma.payment.findMany({ where: { invoiceId } });
  return { invoice, identity, due: totalsOf(invoice, payments).due };
}

function checkAmount(amount: number, due: number, field: string): void {
  if (!Number.isInteger(amount) || amount < 1) throw badUserInput(field, 'must be a whole number of minor units, at least 1');
  if (amount > due) throw badUserInput(field, `exceeds the ${due} minor units still due`);
}

/**
 * A pending payment of this kind and amount not yet sent to Stripe or still open there: a
 * retried request (double click, client retry) reuses it, and with it the idempotency key,
 * instead of opening a second way to pay the same amount.
 */
async function reusablePayment(ctx: Ctx, invoiceId: string, kind: PaymentKind, amount: number, channel: PaymentChannel): Promise<Payment | null> {
  return ctx.prisma.payment.findFirst({
    where: {
      invoiceId, kind, amount, channel, status: 'PENDING',
      // Stripe expires a checkout session after 24 hours: an older one is not handed out again.
      ...(channel === 'CHECKOUT' ? { createdAt: { gt: new Date(Date.now() - 23 * 3600_000) } } : {}),
    },
    orderBy: { createdAt: 'desc' },
  });
}

const idempotencyKey = (what: string, id: string): string => `caregraph:${what}:${id}`;

const stripeCurrency = (currency: Currency): string => currency.toLowerCase();

function paymentMetadata(invoice: Invoice, payment: Payment): Record<string, string> {
  // Ids only: no names, no descriptions of care.
  return { payment_id: payment.id, invoice_id: invoice.id, organization_id: invoice.organizationId, kind: payment.kind.toLowerCase() };
}

function initiatedPayload(invoice: Invoice, payment: Payment): { [key: string]: string | number } {
  return { paymentId: payment.id, invoiceId: invoice.id, patientId: invoice.patientId, organizationId: invoice.organizationId, kind: payment.kind, amount: payment.amount, currency: payment.currency };
}

export interface CheckoutResult {
  url: string;
  sessionId: string;
  payment: Payment;
}

export async function startCheckout(ctx: Ctx, invoiceId: string, kind: PaymentKind, requestedAmount?: number | null): Promise<CheckoutResult> {
  const { invoice, identity, due } = await payableInvoice(ctx, invoiceId);
  const amount = requestedAmount ?? due;
  checkAmount(amount, due, 'amount');
  const stripe = stripeClient(settingsOf(ctx));
  const payment =
    (await reusablePayment(ctx, invoiceId, kind, amount, 'CHECKOUT')) ??
    (await ctx.prisma.payment.create({ data: { invoiceId, organizationId: invoice.organizationId, kind, channel: 'CHECKOUT', amount, currency: invoice.currency, initiatedById: identity.subject } }));
  if (payment.stripeCheckoutSessionId && payment.checkoutUrl) return { url: payment.checkoutUrl, sessionId: payment.stripeCheckoutSessionId, payment };
  const base = ctx.publicUrl ?? 'http://127.0.0.1:4000';
  const metadata = paymentMetadata(invoice, payment);
  const session = await stripe.checkout.sessions.create(
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
  );
  if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  const sessionUrl = session.url;
  const intentId = typeof session.payment_intent === 'string' ? session.payment_intent : (session.payment_intent?.id ?? null);
  const stored = await ctx.prisma.$transaction(async (tx) => {
    // Only the first request to store the session announces it (a concurrent retry finds it stored).
    const { count } = await tx.payment.updateMany({ where: { id: payment.id, stripeCheckoutSessionId: null }, data: { stripeCheckoutSessionId: session.id, checkoutUrl: sessionUrl, ...(intentId ? { stripePaymentIntentId: intentId } : {}) } });
    const row = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
    if (count === 1) await recordEvent(tx, { source: SOURCE, type: EVENTS.initiated, aggregateId: payment.id, organizationId: invoice.organizationId, payload: { ...initiatedPayload(invoice, row), via: 'checkout', stripeCheckoutSessionId: session.id } });
    return row;
  });
  return { url: sessionUrl, sessionId: session.id, payment: stored };
}

export interface PaymentIntentResult {
  paymentIntentId: string;
  clientSecret: string;
  payment: Payment;
}

export async function createPaymentIntent(ctx: Ctx, invoiceId: string, amount: number, kind: PaymentKind): Promise<PaymentIntentResult> {
  const { invoice, identity, due } = await payableInvoice(ctx, invoiceId);
  checkAmount(amount, due, 'amount');
  const stripe = stripeClient(settingsOf(ctx));
  const payment =
    (await reusablePayment(ctx, invoiceId, kind, amount, 'PAYMENT_INTENT')) ??
    (await ctx.prisma.payment.create({ data: { invoiceId, organizationId: invoice.organizationId, kind, channel: 'PAYMENT_INTENT', amount, currency: invoice.currency, initiatedById: identity.subject } }));
  // Replayed by Stripe when the payment was already sent (same key): the same intent comes back.
  const intent = await stripe.paymentIntents.create(
    { amount, currency: stripeCurrency(invoice.currency), metadata: paymentMetadata(invoice, payment), automatic_payment_methods: { enabled: true } },
    { idempotencyKey: idempotencyKey('payment-intent', payment.id) },
  );
  if (!intent.client_secret) throw new Error(`payment intent ${intent.id} has no client secret`);
  const stored = await ctx.prisma.$transaction(async (tx) => {
    const { count } = await tx.payment.updateMany({ where: { id: payment.id, stripePaymentIntentId: null }, data: { stripePaymentIntentId: intent.id } });
    const row = await tx.payment.findUniqueOrThrow({ where: { id: payment.id } });
    if (count === 1) await recordEvent(tx, { source: SOURCE, type: EVENTS.initiated, aggregateId: payment.id, organizationId: invoice.organizationId, payload: { ...initiatedPayload(invoice, row), via: 'payment_intent', stripePaymentIntentId: intent.id } });
    return row;
  });
  return { paymentIntentId: intent.id, clientSecret: intent.client_secret, payment: stored };
}

// ---------------------------------------------------------------- refunds

export async function loadPayment(ctx: Ctx, id: string): Promise<Payment> {
  const payment = await ctx.prisma.payment.findUnique({ where: { id } });
  if (!payment) throw notFound('Payment');
  await loadInvoice(ctx, payment.invoiceId);
  return payment;
}

/**
 * Refunds all or part of a succeeded payment. The refund is reserved locally first, under a
 * lock on the payment, so two refunds at once cannot together exceed what was paid; then it
 * is created at Stripe with the refund's id as idempotency key. Stripe refusing it releases
 * the reservation; a network failure leaves it pending (Stripe's webhook settles it).
 */
export async function refundPayment(ctx: Ctx, paymentId: string, requestedAmount: number | null | undefined, reason: string): Promise<Refund> {
  const existing = await loadPayment(ctx, paymentId);
  const identity = requireStaff(ctx, existing.organizationId);
  const why = reason.trim();
  if (why.length < 3 || why.length > 500) throw badUserInput('reason', 'must be 3-500 characters');
  const stripe = stripeClient(settingsOf(ctx));
  const refund = await ctx.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "billing"."Payment" WHERE id = ${paymentId} FOR UPDATE`;
    const payment = await tx.payment.findUniqueOrThrow({ where: { id: paymentId } });
    if (payment.status !== 'SUCCEEDED' || !payment.stripePaymentIntentId) throw conflict('Only a succeeded payment can be refunded');
    const reserved = await tx.refund.aggregate({ where: { paymentId, status: { in: ['PENDING', 'SUCCEEDED'] } }, _sum: { amount: true } });
    const refundable = payment.amount - Math.max(reserved._sum.amount ?? 0, payment.amountRefunded);
    const amount = requestedAmount ?? refundable;
    if (refundable <= 0) throw conflict('The payment is already fully refunded');
    if (!Number.isInteger(amount) || amount < 1) throw badUserInput('amount', 'must be a whole number of minor units, at least 1');
    if (amount > refundable) throw badUserInput('amount', `exceeds the ${refundable} minor units still refundable`);
    const created = await tx.refund.create({ data: { paymentId, invoiceId: payment.invoiceId, organizationId: payment.organizationId, amount, currency: payment.currency, reason: why, requestedById: identity.subject } });
    await recordEvent(tx, { source: SOURCE, type: EVENTS.refundInitiated, aggregateId: created.id, organizationId: payment.organizationId, payload: { refundId: created.id, paymentId, invoiceId: payment.invoiceId, organizationId: payment.organizationId, amount, currency: payment.currency } });
    return { created, intentId: payment.stripePaymentIntentId };
  });
  let stripeRefund: Stripe.Refund;
  try {
    stripeRefund = await stripe.refunds.create(
      // Stripe's reason is an enum; ours (free text, may describe care) stays in our database.
      { payment_intent: refund.intentId, amount: refund.created.amount, reason: 'requested_by_customer', metadata: { refund_id: refund.created.id, payment_id: paymentId, invoice_id: refund.created.invoiceId } },
      { idempotencyKey: idempotencyKey('refund', refund.created.id) },
    );
  } catch (error) {
    if (isStripeRefusal(error)) {
      await ctx.prisma.refund.updateMany({ where: { id: refund.created.id, status: 'PENDING' }, data: { status: 'FAILED', settledAt: new Date() } });
      throw conflict(`Stripe refused the refund: ${error.message}`);
    }
    throw error;
  }
  return ctx.prisma.$transaction(async (tx) => {
    await tx.refund.updateMany({ where: { id: refund.created.id, stripeRefundId: null }, data: { stripeRefundId: stripeRefund.id } });
    // Usually Stripe answers `pending` and a webhook follows; an immediate outcome is applied now.
    await applyRefundStatus(tx, refund.created.id, stripeRefund.status);
    return tx.refund.findUniqueOrThrow({ where: { id: refund.created.id } });
  });
}

// ---------------------------------------------------------------- state from Stripe (used by webhooks.ts)

const PAID_EVENT: Record<PaymentKind, string> = { DEPOSIT: EVENTS.depositPaid, BALANCE: EVENTS.balancePaid, TELE_FEE: EVENTS.teleFeePaid };

/** Serializes changes to one invoice (two webhooks for it at once recompute from the same rows). */
async function lockInvoice(tx: TransactionClient, invoiceId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "billing"."Invoice" WHERE id = ${invoiceId} FOR UPDATE`;
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
  await lockInvoice(tx, payment.invoiceId);
  const ids = { ...(stripe.paymentIntentId && !payment.stripePaymentIntentId ? { stripePaymentIntentId: stripe.paymentIntentId } : {}), ...(stripe.chargeId ? { stripeChargeId: stripe.chargeId } : {}) };
  const { count } = await tx.payment.updateMany({ where: { id: payment.id, status: { not: 'SUCCEEDED' } }, data: { status: 'SUCCEEDED', paidAt: stripe.paidAt, failureCode: null, ...ids } });
  if (count === 0) {
    // Already succeeded (through the other event of the pair): still fill in ids we lacked.
    if (stripe.chargeId && !payment.stripeChargeId) await tx.payment.updateMany({ where: { id: payment.id, stripeChargeId: null }, data: { stripeChargeId: stripe.chargeId } });
    return;
  }
  const invoice = await recomputeInvoice(tx, payment.invoiceId);
  await recordEvent(tx, {
    source: SOURCE,
    type: PAID_EVENT[payment.kind],
    aggregateId: payment.id,
    organizationId: payment.organizationId,
    payload: { paymentId: payment.id, invoiceId: payment.invoiceId, patientId: invoice.patientId, organizationId: payment.organizationId, kind: payment.kind, amount: payment.amount, currency: payment.currency, invoiceStatus: invoice.status },
  });
}

/** A failed attempt: only a payment still pending becomes failed (a late failure never undoes a success). */
export async function markPaymentFailed(tx: TransactionClient, payment: Payment, failureCode: string | null): Promise<void> {
  await tx.payment.updateMany({ where: { id: payment.id, status: 'PENDING' }, data: { status: 'FAILED', failureCode: failureCode ?? 'payment_failed' } });
}

/** Stripe's cumulative refunded amount on the charge; it only grows, so a stale event changes nothing. */
export async function applyChargeRefunded(tx: TransactionClient, payment: Payment, amountRefunded: number): Promise<void> {
  await lockInvoice(tx, payment.invoiceId);
  const { count } = await tx.payment.updateMany({ where: { id: payment.id, amountRefunded: { lt: Math.min(amountRefunded, payment.amount) } }, data: { amountRefunded: Math.min(amountRefunded, payment.amount) } });
  if (count > 0) await recomputeInvoice(tx, payment.invoiceId);
}

const REFUND_STATUS: Record<string, Refund['status']> = { pending: 'PENDING', requires_action: 'PENDING', succeeded: 'SUCCEEDED', failed: 'FAILED', canceled: 'CANCELED' };

/**
 * A refund's status from Stripe. Pending moves to a final status once; the move to succeeded
 * announces `payment.refund.issued` and counts the refund against the payment.
 */
export async function applyRefundStatus(tx: TransactionClient, refundId: string, stripeStatus: string | null | undefined): Promise<void> {
  const status = REFUND_STATUS[stripeStatus ?? ''];
  if (!status || status === 'PENDING') return;
  const { count } = await tx.refund.updateMany({ where: { id: refundId, status: 'PENDING' }, data: { status, settledAt: new Date() } });
  if (count === 0 || status !== 'SUCCEEDED') return;
  const refund = await tx.refund.findUniqueOrThrow({ where: { id: refundId } });
  const payment = await tx.payment.findUniqueOrThrow({ where: { id: refund.paymentId } });
  const succeeded = await tx.refund.aggregate({ where: { paymentId: payment.id, status: 'SUCCEEDED' }, _sum: { amount: true } });
  await applyChargeRefunded(tx, payment, succeeded._sum.amount ?? 0);
  await recordEvent(tx, {
    source: SOURCE,
    type: EVENTS.refundIssued,
    aggregateId: refund.id,
    organizationId: refund.organizationId,
    payload: { refundId: refund.id, paymentId: payment.id, invoiceId: refund.invoiceId, organizationId: refund.organizationId, amount: refund.amount, currency: refund.currency, stripeRefundId: refund.stripeRefundId },
  });
}
