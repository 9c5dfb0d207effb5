import type Stripe from 'stripe';
import { badUserInput, forbidden } from '../kit/errors.js';
import { requireStaffOf } from '../kit/identity.js';
import { atStripe } from './adapters/stripe.js';
import { BILLING_STAFF } from './policies.js';
import { stripeFor, type Ctx } from './service.js';

/**
 * Finance's proof that every payment is accounted for: our succeeded payments and refunds in
 * a period against Stripe's balance transactions for the same period (read through the SDK,
 * every page). A charge's transaction matches the payment with that charge id, a refund's the
 * refund with that refund id; the rest is reported as missing on one side, or as an amount
 * mismatch when both sides exist and disagree.
 */

export interface ReconciliationItem {
  kind: 'PAYMENT' | 'REFUND';
  localId: string | null;
  stripeObjectId: string | null;
  balanceTransactionId: string | null;
  currency: string;
  localAmount: number | null;
  stripeAmount: number | null;
}

export interface ReconciliationReport {
  organizationId: string;
  from: Date;
  to: Date;
  matched: ReconciliationItem[];
  missingLocally: ReconciliationItem[];
  missingAtStripe: ReconciliationItem[];
  amountMismatches: ReconciliationItem[];
  stripeTransactionsRead: number;
}

const MAX_PERIOD_DAYS = 366;

const REFUSED = 'Only the organization’s billing staff and administrators reconcile its payments';

export async function reconciliationReport(ctx: Ctx, organizationId: string, from: Date, to: Date): Promise<ReconciliationReport> {
  const caller = requireStaffOf(ctx.identity, BILLING_STAFF, REFUSED);
  if (caller.organizationId !== organizationId) throw forbidden(REFUSED);
  if (!(from < to)) throw badUserInput('from', 'must be before to');
  if (to.getTime() - from.getTime() > MAX_PERIOD_DAYS * 86_400_000) throw badUserInput('to', `the period may span at most ${MAX_PERIOD_DAYS} days`);
  const stripe = stripeFor(ctx);
  const { db } = ctx;

  const payments = await db.payment.findMany({ where: { organizationId, status: 'SUCCEEDED', paidAt: { gte: from, lt: to } } });
  const refunds = await db.refund.findMany({ where: { organizationId, status: 'SUCCEEDED', settledAt: { gte: from, lt: to } } });
  // A checkout payment learns its charge id only from payment_intent.succeeded; ask Stripe for the rest.
  for (const payment of payments) {
    if (payment.stripeChargeId || !payment.stripePaymentIntentId) continue;
    const intent = await atStripe(stripe.paymentIntents.retrieve(payment.stripePaymentIntentId));
    const chargeId = typeof intent.latest_charge === 'string' ? intent.latest_charge : (intent.latest_charge?.id ?? null);
    if (chargeId) {
      payment.stripeChargeId = chargeId;
      await db.payment.updateMany({ where: { id: payment.id, stripeChargeId: null }, data: { stripeChargeId: chargeId } });
    }
  }

  const report: ReconciliationReport = { organizationId, from, to, matched: [], missingLocally: [], missingAtStripe: [], amountMismatches: [], stripeTransactionsRead: 0 };
  const paymentsByCharge = new Map(payments.filter((p) => p.stripeChargeId).map((p) => [p.stripeChargeId as string, p]));
  const refundsByStripeId = new Map(refunds.filter((r) => r.stripeRefundId).map((r) => [r.stripeRefundId as string, r]));
  const seenPayments = new Set<string>();
  const seenRefunds = new Set<string>();
  const unknownSources: Array<{ kind: 'PAYMENT' | 'REFUND'; txnId: string; source: string; amount: number; currency: string }> = [];

  await atStripe(
    eachBalanceTransaction(stripe, from, to, (txn) => {
      report.stripeTransactionsRead += 1;
      const source = typeof txn.source === 'string' ? txn.source : (txn.source?.id ?? null);
      if (!source) return;
      const currency = txn.currency.toUpperCase();
      if ((txn.type === 'charge' || txn.type === 'payment') && (source.startsWith('ch_') || source.startsWith('py_'))) {
        const payment = paymentsByCharge.get(source);
        if (!payment) {
          unknownSources.push({ kind: 'PAYMENT', txnId: txn.id, source, amount: txn.amount, currency });
          return;
        }
        seenPayments.add(payment.id);
        const item: ReconciliationItem = { kind: 'PAYMENT', localId: payment.id, stripeObjectId: source, balanceTransactionId: txn.id, currency, localAmount: payment.amount, stripeAmount: txn.amount };
        (payment.amount === txn.amount && payment.currency === currency ? report.matched : report.amountMismatches).push(item);
      } else if (txn.type === 'refund' || txn.type === 'payment_refund') {
        const refund = refundsByStripeId.get(source);
        // Stripe books a refund as a negative amount.
        const amount = -txn.amount;
        if (!refund) {
          unknownSources.push({ kind: 'REFUND', txnId: txn.id, source, amount, currency });
          return;
        }
        seenRefunds.add(refund.id);
        const item: ReconciliationItem = { kind: 'REFUND', localId: refund.id, stripeObjectId: source, balanceTransactionId: txn.id, currency, localAmount: refund.amount, stripeAmount: amount };
        (refund.amount === amount && refund.currency === currency ? report.matched : report.amountMismatches).push(item);
      }
    }),
  );

  // Stripe's transactions for other organizations (one Stripe account serves all) are not this
  // report's business: only what no organization knows is missing locally. Which charges and
  // refunds other organizations know is asked of the system view on purpose (ids only, nothing
  // of their rows leaves this function): through the caller's scope they would all be "missing".
  if (unknownSources.length > 0) {
    const { prisma } = ctx;
    const elsewhereCharges = new Set((await prisma.payment.findMany({ where: { stripeChargeId: { in: unknownSources.map((u) => u.source) } }, select: { stripeChargeId: true } })).map((p) => p.stripeChargeId));
    const elsewhereRefunds = new Set((await prisma.refund.findMany({ where: { stripeRefundId: { in: unknownSources.map((u) => u.source) } }, select: { stripeRefundId: true } })).map((r) => r.stripeRefundId));
    for (const unknown of unknownSources) {
      if (elsewhereCharges.has(unknown.source) || elsewhereRefunds.has(unknown.source)) continue;
      report.missingLocally.push({ kind: unknown.kind, localId: null, stripeObjectId: unknown.source, balanceTransactionId: unknown.txnId, currency: unknown.currency, localAmount: null, stripeAmount: unknown.amount });
    }
  }
  for (const payment of payments) {
    if (!seenPayments.has(payment.id)) report.missingAtStripe.push({ kind: 'PAYMENT', localId: payment.id, stripeObjectId: payment.stripeChargeId, balanceTransactionId: null, currency: payment.currency, localAmount: payment.amount, stripeAmount: null });
  }
  for (const refund of refunds) {
    if (!seenRefunds.has(refund.id)) report.missingAtStripe.push({ kind: 'REFUND', localId: refund.id, stripeObjectId: refund.stripeRefundId, balanceTransactionId: null, currency: refund.currency, localAmount: refund.amount, stripeAmount: null });
  }
  return report;
}

/** Every balance transaction in [from, to): the SDK follows `has_more` / `starting_after` for us, a page of 100 at a time. */
async function eachBalanceTransaction(stripe: Stripe, from: Date, to: Date, visit: (txn: Stripe.BalanceTransaction) => void): Promise<void> {
  for await (const txn of stripe.balanceTransactions.list({ created: { gte: Math.floor(from.getTime() / 1000), lt: Math.ceil(to.getTime() / 1000) }, limit: 100 })) visit(txn);
}
