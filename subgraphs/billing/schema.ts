import type { GraphQLSchema } from 'graphql';
import { createBuilder, extendPatient, organizationPeriodArgs, patientReference, toSubgraphSchema } from '../kit/builder.js';
import * as invoices from './invoices.js';
import { TELE_CONSULTATION } from './tele-fees.js';
import * as payments from './payments.js';
import * as reconciliation from './reconciliation.js';
import * as refunds from './refunds.js';
import { MINOR_UNITS, totalsOf } from './service.js';

/** The billing subgraph's types. Resolvers translate; rules live in the services, access in policies.ts. */
export function buildBillingSchema(): GraphQLSchema {
  const builder = createBuilder();

  const CurrencyEnum = builder.enumType('Currency', { values: ['NGN', 'INR', 'USD'] as const, description: 'ISO 4217; amounts are integers in the minor unit (kobo, paise, cents).' });
  const InvoiceStatusEnum = builder.enumType('InvoiceStatus', { values: ['DRAFT', 'OPEN', 'PAID', 'PARTIALLY_PAID', 'REFUNDED', 'VOID'] as const });
  const PaymentKindEnum = builder.enumType('PaymentKind', { values: ['DEPOSIT', 'BALANCE', 'TELE_FEE'] as const });
  const PaymentChannelEnum = builder.enumType('PaymentChannel', { values: ['CHECKOUT', 'PAYMENT_INTENT'] as const });
  const PaymentStatusEnum = builder.enumType('PaymentStatus', { values: ['PENDING', 'SUCCEEDED', 'FAILED'] as const });
  const RefundStatusEnum = builder.enumType('RefundStatus', { values: ['PENDING', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const });

  const PatientRef = patientReference(builder);

  const RefundRef = builder.prismaObject('Refund', {
    fields: (t) => ({
      id: t.exposeID('id'),
      amount: t.exposeInt('amount', { description: 'Refunded, in the currency’s minor units.' }),
      currency: t.field({ type: CurrencyEnum, resolve: (r) => r.currency }),
      reason: t.exposeString('reason'),
      status: t.field({ type: RefundStatusEnum, resolve: (r) => r.status }),
      stripeRefundId: t.exposeString('stripeRefundId', { nullable: true }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      settledAt: t.expose('settledAt', { type: 'DateTime', nullable: true }),
    }),
  });

  const PaymentRef = builder.prismaObject('Payment', {
    fields: (t) => ({
      id: t.exposeID('id'),
      invoiceId: t.exposeID('invoiceId'),
      kind: t.field({ type: PaymentKindEnum, resolve: (p) => p.kind }),
      channel: t.field({ type: PaymentChannelEnum, resolve: (p) => p.channel }),
      amount: t.exposeInt('amount', { description: 'Charged, in the currency’s minor units.' }),
      currency: t.field({ type: CurrencyEnum, resolve: (p) => p.currency }),
      status: t.field({ type: PaymentStatusEnum, resolve: (p) => p.status }),
      amountRefunded: t.exposeInt('amountRefunded', { description: 'What Stripe reports refunded on the charge.' }),
      stripeCheckoutSessionId: t.exposeString('stripeCheckoutSessionId', { nullable: true }),
      stripePaymentIntentId: t.exposeString('stripePaymentIntentId', { nullable: true }),
      stripeChargeId: t.exposeString('stripeChargeId', { nullable: true }),
      failureCode: t.exposeString('failureCode', { nullable: true }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      paidAt: t.expose('paidAt', { type: 'DateTime', nullable: true }),
      refunds: t.field({ type: [RefundRef], resolve: (p, _args, ctx) => invoices.refundsOf(ctx, p.id) }),
    }),
  });

  const LineRef = builder.prismaObject('InvoiceLine', {
    fields: (t) => ({
      description: t.exposeString('description'),
      quantity: t.exposeInt('quantity'),
      unitAmount: t.exposeInt('unitAmount', { description: 'Price of one unit, in the invoice currency’s minor units.' }),
      amount: t.exposeInt('amount', { description: 'quantity × unitAmount.' }),
    }),
  });

  const SourceRef = builder.objectRef<{ type: string; id: string }>('InvoiceSource').implement({
    description: '`TELE_CONSULTATION` and the consultation’s id, for a teleconsultation fee.',
    fields: (t) => ({ type: t.exposeString('type'), id: t.exposeID('id') }),
  });
  const InvoiceRef = builder.prismaObject('Invoice', {
    fields: (t) => ({
      id: t.exposeID('id'),
      organizationId: t.exposeID('organizationId'),
      patient: t.field({ type: PatientRef, resolve: (i) => ({ id: i.patientId }) }),
      currency: t.field({ type: CurrencyEnum, resolve: (i) => i.currency }),
      minorUnits: t.int({ description: 'Digits after the decimal point of the currency.', resolve: (i) => MINOR_UNITS[i.currency] }),
      status: t.field({ type: InvoiceStatusEnum, resolve: (i) => i.status }),
      total: t.exposeInt('total'),
      amountPaid: t.int({ resolve: async (i, _args, ctx) => totalsOf(i, await invoices.paymentsOf(ctx, i.id)).paid }),
      amountRefunded: t.int({ resolve: async (i, _args, ctx) => totalsOf(i, await invoices.paymentsOf(ctx, i.id)).refunded }),
      amountDue: t.int({ resolve: async (i, _args, ctx) => totalsOf(i, await invoices.paymentsOf(ctx, i.id)).due }),
      lines: t.field({ type: [LineRef], resolve: (i, _args, ctx) => invoices.linesOf(ctx, i.id) }),
      source: t.field({
        type: SourceRef, nullable: true, description: 'What another domain invoiced through an event (a consultation’s fee).',
        resolve: (i) => (i.sourceType && i.sourceId ? { type: i.sourceType, id: i.sourceId } : null),
      }),
      payments: t.field({ type: [PaymentRef], resolve: (i, _args, ctx) => invoices.paymentsOf(ctx, i.id) }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      finalizedAt: t.expose('finalizedAt', { type: 'DateTime', nullable: true }),
      voidedAt: t.expose('voidedAt', { type: 'DateTime', nullable: true }),
    }),
  });
  builder.asEntity(InvoiceRef, { key: builder.selection<{ id: string }>('id'), resolveReference: (ref, ctx) => invoices.loadInvoice(ctx, ref.id) });

  extendPatient(PatientRef, (t) => ({
    invoices: t.field({
      type: [InvoiceRef],
      description: 'This patient’s invoices: the caller’s organization’s for billing staff, their own issued ones for the patient.',
      resolve: (patient, _args, ctx) => invoices.invoicesForPatient(ctx, patient.id),
    }),
  }));

  const CheckoutRef = builder.objectRef<payments.CheckoutResult>('CheckoutSession').implement({
    fields: (t) => ({ url: t.exposeString('url'), sessionId: t.exposeString('sessionId'), payment: t.field({ type: PaymentRef, resolve: (r) => r.payment }) }),
  });
  const IntentRef = builder.objectRef<payments.PaymentIntentResult>('PaymentIntentResult').implement({
    fields: (t) => ({
      paymentIntentId: t.exposeString('paymentIntentId'),
      clientSecret: t.exposeString('clientSecret', { description: 'For Stripe.js on the payer’s page; give it to no one else.' }),
      payment: t.field({ type: PaymentRef, resolve: (r) => r.payment }),
    }),
  });

  const LineInput = builder.inputType('InvoiceLineInput', {
    fields: (t) => ({ description: t.string({ required: true }), quantity: t.int({ required: true }), unitAmount: t.int({ required: true, description: 'Minor units.' }) }),
  });
  const InvoiceInput = builder.inputType('CreateInvoiceInput', {
    fields: (t) => ({
      patientId: t.id({ required: true }),
      currency: t.field({ type: CurrencyEnum, required: true }),
      lines: t.field({ type: [LineInput], required: true }),
      organizationId: t.id({ required: false, description: 'Defaults to the caller’s organization.' }),
    }),
  });

  const MatchKindEnum = builder.enumType('ReconciliationKind', { values: ['PAYMENT', 'REFUND'] as const });
  const ItemRef = builder.objectRef<reconciliation.ReconciliationItem>('ReconciliationItem').implement({
    fields: (t) => ({
      kind: t.field({ type: MatchKindEnum, resolve: (i) => i.kind }),
      localId: t.exposeID('localId', { nullable: true }),
      stripeObjectId: t.exposeString('stripeObjectId', { nullable: true, description: 'The charge (ch_…) or refund (re_…) at Stripe.' }),
      balanceTransactionId: t.exposeString('balanceTransactionId', { nullable: true }),
      currency: t.exposeString('currency'),
      localAmount: t.exposeInt('localAmount', { nullable: true }),
      stripeAmount: t.exposeInt('stripeAmount', { nullable: true }),
    }),
  });
  const ReportRef = builder.objectRef<reconciliation.ReconciliationReport>('ReconciliationReport').implement({
    fields: (t) => ({
      organizationId: t.exposeID('organizationId'),
      from: t.expose('from', { type: 'DateTime' }),
      to: t.expose('to', { type: 'DateTime' }),
      matched: t.field({ type: [ItemRef], resolve: (r) => r.matched }),
      missingLocally: t.field({ type: [ItemRef], description: 'At Stripe, not in our records.', resolve: (r) => r.missingLocally }),
      missingAtStripe: t.field({ type: [ItemRef], description: 'In our records, not at Stripe.', resolve: (r) => r.missingAtStripe }),
      amountMismatches: t.field({ type: [ItemRef], resolve: (r) => r.amountMismatches }),
      stripeTransactionsRead: t.exposeInt('stripeTransactionsRead'),
    }),
  });

  // Telemedicine's Consultation: the invoice of its fee, which must be paid before anyone joins.
  builder.externalRef('Consultation', builder.selection<{ id: string }>('id')).implement({
    externalFields: (t) => ({ id: t.id() }),
    fields: (t) => ({
      feeInvoice: t.field({ type: InvoiceRef, nullable: true, description: 'Issued when the consultation is booked (none for a free one).', resolve: (c, _args, ctx) => invoices.invoiceForSource(ctx, TELE_CONSULTATION, c.id) }),
    }),
  });

  builder.queryFields((t) => ({
    invoice: t.field({ type: InvoiceRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => invoices.loadInvoice(ctx, String(args.id)) }),
    invoices: t.field({
      type: [InvoiceRef],
      description: 'The organization’s invoices, newest first (billing staff and administrators).',
      args: { organizationId: t.arg.id({ required: false }), status: t.arg({ type: [InvoiceStatusEnum], required: false }), first: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => invoices.listInvoices(ctx, args.organizationId ? String(args.organizationId) : null, args.status, args.first ?? 50),
    }),
    reconciliationReport: t.field({
      type: ReportRef,
      description: 'Local payments and refunds in [from, to) against Stripe’s balance transactions for the same period.',
      args: organizationPeriodArgs(builder),
      resolve: (_root, args, ctx) => reconciliation.reconciliationReport(ctx, String(args.organizationId), args.from, args.to),
    }),
  }));

  builder.mutationFields((t) => ({
    createInvoice: t.field({
      type: InvoiceRef,
      args: { input: t.arg({ type: InvoiceInput, required: true }) },
      resolve: (_root, { input }, ctx) =>
        invoices.createInvoice(ctx, {
          patientId: String(input.patientId),
          currency: input.currency,
          lines: input.lines.map((l) => ({ description: l.description, quantity: l.quantity, unitAmount: l.unitAmount })),
          organizationId: input.organizationId ? String(input.organizationId) : null,
        }),
    }),
    finalizeInvoice: t.field({ type: InvoiceRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => invoices.finalizeInvoice(ctx, String(args.id)) }),
    voidInvoice: t.field({ type: InvoiceRef, args: { id: t.arg.id({ required: true }) }, resolve: (_root, args, ctx) => invoices.voidInvoice(ctx, String(args.id)) }),
    startCheckout: t.field({
      type: CheckoutRef,
      description: 'A Stripe Checkout page for the amount still due (or `amount`); asking again returns the same open session.',
      args: { invoiceId: t.arg.id({ required: true }), kind: t.arg({ type: PaymentKindEnum, required: true }), amount: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => payments.startCheckout(ctx, String(args.invoiceId), args.kind, args.amount),
    }),
    createPaymentIntent: t.field({
      type: IntentRef,
      args: { invoiceId: t.arg.id({ required: true }), amount: t.arg.int({ required: true }), kind: t.arg({ type: PaymentKindEnum, required: true }) },
      resolve: (_root, args, ctx) => payments.createPaymentIntent(ctx, String(args.invoiceId), args.amount, args.kind),
    }),
    refundPayment: t.field({
      type: RefundRef,
      description: 'Refunds all that remains refundable, or `amount`; never more than was paid.',
      args: { paymentId: t.arg.id({ required: true }), amount: t.arg.int({ required: false }), reason: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => refunds.refundPayment(ctx, String(args.paymentId), args.amount, args.reason),
    }),
  }));

  return toSubgraphSchema(builder);
}
