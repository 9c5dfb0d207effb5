import { z } from 'zod';
import { defineEvent } from './define.js';
import { currency, id, minorUnits } from './fields.js';

const paymentKind = z.enum(['DEPOSIT', 'BALANCE', 'TELE_FEE']);
const paid = z.object({
  paymentId: id, invoiceId: id, patientId: id, organizationId: id, kind: paymentKind, amount: minorUnits, currency,
  invoiceStatus: z.enum(['DRAFT', 'OPEN', 'PARTIALLY_PAID', 'PAID', 'REFUNDED', 'VOID']),
  /** What the invoice is for, when another domain asked for it (a consultation's fee). */
  source: z.object({ type: z.string().max(50), id }).optional(),
});
const paidEvent = (type: string, what: string) =>
  defineEvent({ type, version: 1, source: 'billing', description: `A ${what} payment succeeded at Stripe (sent once per payment).`, payload: paid });

/** Invoices and payments through Stripe. Amounts are whole minor units of the currency. */
export const BillingEvents = {
  paymentInitiated: defineEvent({
    type: 'payment.initiated',
    version: 1,
    source: 'billing',
    description: 'A payment was started: a Stripe Checkout Session or a PaymentIntent was created for an invoice.',
    payload: z.object({
      paymentId: id, invoiceId: id, patientId: id, organizationId: id, kind: paymentKind, amount: minorUnits, currency,
      via: z.enum(['checkout', 'payment_intent']), stripeCheckoutSessionId: z.string().optional(), stripePaymentIntentId: z.string().optional(),
    }),
  }),
  depositPaid: paidEvent('payment.deposit.paid', 'deposit'),
  balancePaid: paidEvent('payment.balance.paid', 'balance'),
  teleFeePaid: paidEvent('payment.tele_fee.paid', 'teleconsultation fee'),
  refundInitiated: defineEvent({
    type: 'payment.refund.initiated',
    version: 1,
    source: 'billing',
    description: 'A refund was requested at Stripe.',
    payload: z.object({ refundId: id, paymentId: id, invoiceId: id, organizationId: id, amount: minorUnits, currency }),
  }),
  refundIssued: defineEvent({
    type: 'payment.refund.issued',
    version: 1,
    source: 'billing',
    description: 'A refund succeeded at Stripe (sent once per refund).',
    payload: z.object({ refundId: id, paymentId: id, invoiceId: id, organizationId: id, amount: minorUnits, currency, stripeRefundId: z.string().nullable(), patientId: id.optional() }),
  }),
} as const;
