import type Stripe from 'stripe';
import type { Currency, Invoice, Payment } from '../../prisma/generated/client/client.js';
import type { SubgraphContext, SubgraphDeps } from '../kit/context.js';
import { StripeNotConfigured, stripeClient, stripeSettingsFromEnv } from './adapters/stripe.js';

/**
 * Invoices and the payments against them. Money moves only at Stripe: we create checkout
 * sessions, payment intents and refunds there (each with an idempotency key derived from our
 * own row's id, so a retried call never creates a second one) and learn the outcome from
 * Stripe's verified webhooks (webhooks.ts). An invoice's status is always recomputed from its
 * payments and what Stripe reports refunded, so events applied in any order end in the same
 * state. Changes others must hear about go through the outbox in the same transaction.
 *
 * By concern: invoices.ts (issuing, reading, voiding), payments.ts (checkout, payment intents),
 * refunds.ts, settlement.ts (state from Stripe, applied by webhooks.ts and refunds.ts),
 * reconciliation.ts. Who may see and change what is policies.ts, applied by `ctx.db`; this file
 * holds what they share.
 */

/** Every currency is 2-decimal today (kobo, paise, cents); kept per currency so adding one is a table entry. */
export const MINOR_UNITS: Record<Currency, number> = { NGN: 2, INR: 2, USD: 2 };
/** Stripe's largest amount for a single charge in these currencies (eight digits of minor units). */
export const MAX_AMOUNT = 99_999_999;

/**
 * What the services use of a request: `db` (through billing's policies) for every read and
 * write; `prisma` only where the kit needs the system view (`visibleRows`) and for the one
 * cross-organization lookup reconciliation makes.
 */
export type Ctx = Pick<SubgraphContext, 'db' | 'prisma' | 'identity' | 'loaders' | 'log' | 'directory'> & Partial<Pick<SubgraphDeps, 'stripe' | 'publicUrl'>>;

/** The Stripe SDK for this process; without configuration, SERVICE_UNAVAILABLE (and the missing setting logged). */
export function stripeFor(ctx: Pick<Ctx, 'stripe' | 'log'>): Stripe {
  try {
    return stripeClient(ctx.stripe ?? stripeSettingsFromEnv());
  } catch (error) {
    if (error instanceof StripeNotConfigured) ctx.log.error({ setting: error.setting }, 'a payment operation needs Stripe, which is not configured');
    throw error;
  }
}

/** Derived from our own row's id: a retried call is the same call at Stripe. */
export const idempotencyKey = (what: string, id: string): string => `caregraph:${what}:${id}`;

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
