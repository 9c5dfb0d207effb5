import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { verifyWebhookSignature } from '../../subgraphs/kit/outbox.js';
import { FakeStripe, type FakeStripeObject } from '../support/fake-stripe.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * Billing end to end through the gateway, against a local Stripe fake over real HTTP:
 * invoice → checkout → signed webhooks at the gateway's /webhooks/stripe → paid → refunds;
 * redeliveries and reordering; forged webhooks; who may see and pay what; reconciliation.
 */
let t: TestPlatform;
const stripe = new FakeStripe();
const received: Array<{ type: string; body: string; signature: string }> = [];
let receiver: Server;
const RECEIVER_SECRET = 'whsec_partner_receiver_secret_for_tests';

beforeAll(async () => {
  await stripe.start();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ type: String(req.headers['caregraph-event-type']), body: Buffer.concat(chunks).toString(), signature: String(req.headers['caregraph-signature']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t = await startTestPlatform({ stripe: stripe.config });
  await t.platform.database.prisma.webhookEndpoint.create({
    data: { organizationId: ORGS.clinicNorth.id, url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, secret: RECEIVER_SECRET, eventTypes: ['payment.balance.paid', 'payment.refund.issued'] },
  });
});
afterAll(async () => {
  await t?.close();
  await stripe.stop();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

type Gql = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
async function gql(user: keyof typeof USERS, query: string, variables: Record<string, unknown> = {}): Promise<Gql> {
  const { json } = await postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${await t.tokenFor(user)}` });
  return json;
}
async function ok<T>(user: keyof typeof USERS, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const json = await gql(user, query, variables);
  if (json.errors?.length) throw new Error(`${user}: ${JSON.stringify(json.errors)}`);
  return json.data as T;
}

async function webhook(body: string, signature: string | undefined): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${t.baseUrl}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) }, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}
async function deliver(event: FakeStripeObject): Promise<number> {
  const { body, signature } = stripe.signed(event);
  return (await webhook(body, signature)).status;
}

const INVOICE_FIELDS = 'id status total amountPaid amountRefunded amountDue currency minorUnits lines { description quantity unitAmount amount } payments { id kind status amount amountRefunded stripeChargeId refunds { id amount status stripeRefundId } }';
interface InvoiceView {
  id: string; status: string; total: number; amountPaid: number; amountRefunded: number; amountDue: number;
  payments: Array<{ id: string; kind: string; status: string; amount: number; amountRefunded: number; stripeChargeId: string | null; refunds: Array<{ id: string; amount: number; status: string; stripeRefundId: string | null }> }>;
}
const readInvoice = async (id: string, user: keyof typeof USERS = 'billing'): Promise<InvoiceView> =>
  (await ok<{ invoice: InvoiceView }>(user, `query($id: ID!) { invoice(id: $id) { ${INVOICE_FIELDS} } }`, { id })).invoice;

async function openInvoice(lines: Array<{ description: string; quantity: number; unitAmount: number }>, patientId = PATIENTS.amaraNorth.id, currency = 'NGN'): Promise<string> {
  const created = await ok<{ createInvoice: { id: string; status: string } }>('billing', 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id status } }', { input: { patientId, currency, lines } });
  expect(created.createInvoice.status).toBe('DRAFT');
  await ok('billing', 'mutation($id: ID!) { finalizeInvoice(id: $id) { id status } }', { id: created.createInvoice.id });
  return created.createInvoice.id;
}

const outboxOf = (type: string, aggregateId?: string) => t.platform.database.prisma.outboxEvent.findMany({ where: { type, ...(aggregateId ? { aggregateId } : {}) } });
/** The audit trail billing's data path left for one caller and one record (what was done to what; never values). */
const auditsOf = (user: keyof typeof USERS, entityId: string) =>
  t.platform.database.prisma.auditEvent.findMany({ where: { source: 'billing', actorId: USERS[user].id, entityId }, select: { action: true, entityType: true }, orderBy: { at: 'asc' } });

describe('billing through Stripe', () => {
  it('invoice → checkout → signed webhook → paid (partner webhook told) → partial refund → partially paid → full refund → refunded', async () => {
    const invoiceId = await openInvoice([{ description: 'Consultation', quantity: 2, unitAmount: 5000 }, { description: 'Dressing', quantity: 1, unitAmount: 2500 }]);
    const view = await readInvoice(invoiceId);
    expect(view).toMatchObject({ status: 'OPEN', total: 12500, amountDue: 12500, amountPaid: 0 });

    // The patient pays their own invoice; asking twice gives the same session, created once at Stripe.
    const start = 'mutation($id: ID!) { startCheckout(invoiceId: $id, kind: BALANCE) { url sessionId payment { id status amount } } }';
    const first = (await ok<{ startCheckout: { url: string; sessionId: string; payment: { id: string; status: string; amount: number } } }>('patient', start, { id: invoiceId })).startCheckout;
    const again = (await ok<{ startCheckout: { sessionId: string } }>('patient', start, { id: invoiceId })).startCheckout;
    expect(again.sessionId).toBe(first.sessionId);
    expect(first.url).toMatch(/^https:\/\/checkout\.stripe\.com\//);
    expect(first.payment).toMatchObject({ status: 'PENDING', amount: 12500 });
    const creates = stripe.requests.filter((r) => r.path === '/v1/checkout/sessions');
    expect(creates).toHaveLength(1);
    expect(creates[0]?.idempotencyKey).toBe(`caregraph:checkout:${first.payment.id}`);
    expect(creates[0]?.params).toMatchObject({ mode: 'payment', line_items: [{ quantity: '1', price_data: { currency: 'ngn', unit_amount: '12500' } }], metadata: { payment_id: first.payment.id, invoice_id: invoiceId } });
    expect((await outboxOf('payment.initiated', first.payment.id)).length).toBe(1);

    // The patient pays at Stripe; Stripe tells the gateway.
    const paid = stripe.completeCheckout(first.sessionId);
    expect(await deliver(stripe.event('checkout.session.completed', paid.session))).toBe(200);
    expect(await deliver(stripe.event('payment_intent.succeeded', paid.intent))).toBe(200);
    const afterPay = await readInvoice(invoiceId);
    expect(afterPay).toMatchObject({ status: 'PAID', amountPaid: 12500, amountDue: 0 });
    expect(afterPay.payments[0]).toMatchObject({ status: 'SUCCEEDED', stripeChargeId: paid.charge.id });
    const balancePaid = await outboxOf('payment.balance.paid', first.payment.id);
    expect(balancePaid).toHaveLength(1);
    expect(balancePaid[0]?.payload).toMatchObject({ invoiceId, amount: 12500, currency: 'NGN', invoiceStatus: 'PAID' });
    const delivered = await until(async () => received.filter((r) => r.type === 'payment.balance.paid'), (r) => r.length > 0, 'the partner webhook');
    expect(verifyWebhookSignature(RECEIVER_SECRET, delivered[0]?.signature, delivered[0]?.body ?? '')).toEqual({ ok: true });
    expect(JSON.parse(delivered[0]?.body ?? '{}')).toMatchObject({ event: { type: 'payment.balance.paid', payload: { invoiceId, amount: 12500 } } });

    // Partial refund: never more than was paid.
    const refund = 'mutation($id: ID!, $amount: Int, $reason: String!) { refundPayment(paymentId: $id, amount: $amount, reason: $reason) { id amount status stripeRefundId } }';
    expect(errorCodes(await gql('billing', refund, { id: first.payment.id, amount: 12501, reason: 'Too much' }))).toEqual(['BAD_USER_INPUT']);
    const partial = (await ok<{ refundPayment: { id: string; amount: number; status: string; stripeRefundId: string } }>('billing', refund, { id: first.payment.id, amount: 5000, reason: 'Dressing not used' })).refundPayment;
    expect(partial).toMatchObject({ amount: 5000, status: 'PENDING' });
    expect(stripe.requests.find((r) => r.path === '/v1/refunds')?.idempotencyKey).toBe(`caregraph:refund:${partial.id}`);
    expect(stripe.requests.find((r) => r.path === '/v1/refunds')?.params).toMatchObject({ amount: '5000', reason: 'requested_by_customer' });
    expect((await outboxOf('payment.refund.initiated', partial.id)).length).toBe(1);
    expect(await auditsOf('billing', partial.id)).toContainEqual({ action: 'create', entityType: 'Refund' });
    // With 5000 reserved, at most 7500 more can be refunded.
    expect(errorCodes(await gql('billing', refund, { id: first.payment.id, amount: 7501, reason: 'Too much' }))).toEqual(['BAD_USER_INPUT']);

    const settled = stripe.settleRefund(partial.stripeRefundId);
    expect(await deliver(stripe.event('charge.refunded', settled.charge))).toBe(200);
    expect(await readInvoice(invoiceId)).toMatchObject({ status: 'PARTIALLY_PAID', amountPaid: 12500, amountRefunded: 5000, amountDue: 5000 });
    expect(await deliver(stripe.event('refund.updated', settled.refund))).toBe(200);
    expect((await readInvoice(invoiceId)).payments[0]?.refunds).toEqual([expect.objectContaining({ id: partial.id, status: 'SUCCEEDED', amount: 5000 })]);
    expect((await outboxOf('payment.refund.issued', partial.id)).length).toBe(1);

    // The rest; its two events arrive in reverse order.
    const rest = (await ok<{ refundPayment: { id: string; amount: number; stripeRefundId: string } }>('billing', refund, { id: first.payment.id, reason: 'Visit cancelled' })).refundPayment;
    expect(rest.amount).toBe(7500);
    const settledRest = stripe.settleRefund(rest.stripeRefundId);
    const chargeRefunded = stripe.event('charge.refunded', settledRest.charge);
    const refundUpdated = stripe.event('refund.updated', settledRest.refund);
    expect(await deliver(refundUpdated)).toBe(200);
    expect(await deliver(chargeRefunded)).toBe(200);
    expect(await readInvoice(invoiceId)).toMatchObject({ status: 'REFUNDED', amountRefunded: 12500, amountDue: 0 });
    expect(errorCodes(await gql('billing', refund, { id: first.payment.id, reason: 'Once more' }))).toEqual(['CONFLICT']);
  });

  it('applies the same webhook delivered ten times once, and events in reverse order end in the right state', async () => {
    const invoiceId = await openInvoice([{ description: 'Telemedicine consultation', quantity: 1, unitAmount: 10000 }], PATIENTS.amaraNorth.id, 'USD');
    const intentResult = (await ok<{ createPaymentIntent: { paymentIntentId: string; clientSecret: string; payment: { id: string } } }>(
      'patient', 'mutation($id: ID!) { createPaymentIntent(invoiceId: $id, amount: 3000, kind: DEPOSIT) { paymentIntentId clientSecret payment { id } } }', { id: invoiceId },
    )).createPaymentIntent;
    expect(intentResult.clientSecret).toContain(`${intentResult.paymentIntentId}_secret_`);
    expect(stripe.requests.find((r) => r.path === '/v1/payment_intents' && r.idempotencyKey === `caregraph:payment-intent:${intentResult.payment.id}`)).toBeDefined();

    // A decline (older) and the success (newer): the success arrives first, the decline later.
    const failedSnapshot = structuredClone(stripe.failPaymentIntent(intentResult.paymentIntentId));
    const { intent } = stripe.succeedPaymentIntent(intentResult.paymentIntentId);
    const created = Math.floor(Date.now() / 1000);
    const succeeded = stripe.event('payment_intent.succeeded', intent, { created });
    const failed = stripe.event('payment_intent.payment_failed', failedSnapshot, { created: created - 30 });

    const { body, signature } = stripe.signed(succeeded);
    const statuses = await Promise.all(Array.from({ length: 5 }, () => webhook(body, signature)));
    for (let i = 0; i < 5; i++) statuses.push(await webhook(body, signature));
    expect(statuses.map((s) => s.status)).toEqual(Array(10).fill(200));
    expect(statuses.filter((s) => s.json['duplicate'] === false)).toHaveLength(1);
    expect(await deliver(failed)).toBe(200);

    const prisma = t.platform.database.prisma;
    expect(await prisma.stripeEvent.count({ where: { id: succeeded.id } })).toBe(1);
    expect(await outboxOf('payment.deposit.paid', intentResult.payment.id)).toHaveLength(1);
    const view = await readInvoice(invoiceId, 'patient');
    expect(view).toMatchObject({ status: 'PARTIALLY_PAID', amountPaid: 3000, amountDue: 7000 });
    expect(view.payments[0]).toMatchObject({ status: 'SUCCEEDED', kind: 'DEPOSIT' });
  });

  it('refuses a tampered body, a wrong secret, an old timestamp and a missing signature with 400, storing nothing', async () => {
    const invoiceId = await openInvoice([{ description: 'Follow-up', quantity: 1, unitAmount: 4000 }]);
    const checkout = (await ok<{ startCheckout: { sessionId: string; payment: { id: string } } }>('billing', 'mutation($id: ID!) { startCheckout(invoiceId: $id, kind: BALANCE) { sessionId payment { id } } }', { id: invoiceId })).startCheckout;
    const { session } = stripe.completeCheckout(checkout.sessionId);
    const event = stripe.event('checkout.session.completed', session);
    const prisma = t.platform.database.prisma;
    const eventsBefore = await prisma.stripeEvent.count();

    const genuine = stripe.signed(event);
    const tampered = genuine.body.replace('"payment_status":"paid"', '"payment_status":"paid" ');
    expect((await webhook(tampered, genuine.signature)).status).toBe(400);
    const wrongSecret = stripe.signed(event, { secret: 'whsec_not_the_endpoint_secret' });
    expect((await webhook(wrongSecret.body, wrongSecret.signature)).status).toBe(400);
    const old = stripe.signed(event, { timestamp: Math.floor(Date.now() / 1000) - 10 * 60 });
    expect((await webhook(old.body, old.signature)).status).toBe(400);
    expect((await webhook(genuine.body, undefined)).status).toBe(400);
    expect((await webhook('not json at all', genuine.signature)).status).toBe(400);

    expect(await prisma.stripeEvent.count()).toBe(eventsBefore);
    expect(await prisma.stripeEvent.count({ where: { id: event.id } })).toBe(0);
    expect((await readInvoice(invoiceId)).status).toBe('OPEN');
    expect(await outboxOf('payment.balance.paid', checkout.payment.id)).toHaveLength(0);

    // The genuine delivery still works afterwards.
    expect((await webhook(genuine.body, genuine.signature)).status).toBe(200);
    expect((await readInvoice(invoiceId)).status).toBe('PAID');
  });

  it('lets billing staff and admins of the organization manage invoices, a patient see and pay only their own, and nobody else', async () => {
    const invoiceId = await openInvoice([{ description: 'Lab panel', quantity: 1, unitAmount: 7000 }]);
    const draft = (await ok<{ createInvoice: { id: string } }>('billing', 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }', { input: { patientId: PATIENTS.amaraNorth.id, currency: 'NGN', lines: [{ description: 'Draft', quantity: 1, unitAmount: 100 }] } })).createInvoice;
    const read = 'query($id: ID!) { invoice(id: $id) { id status } }';
    expect((await gql('patient', read, { id: invoiceId })).data?.['invoice']).toMatchObject({ id: invoiceId });
    expect((await gql('admin', read, { id: invoiceId })).data?.['invoice']).toMatchObject({ id: invoiceId });
    for (const user of ['hospitalPatient', 'nurse', 'clinician', 'hospitalAdmin', 'partner', 'learner'] as const) {
      expect([user, errorCodes(await gql(user, read, { id: invoiceId }))]).toEqual([user, ['FORBIDDEN']]);
    }
    // A draft is not the patient's to see yet.
    expect(errorCodes(await gql('patient', read, { id: draft.id }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql('hospitalPatient', 'mutation($id: ID!) { startCheckout(invoiceId: $id, kind: BALANCE) { sessionId } }', { id: invoiceId }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql('patient', 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }', { input: { patientId: PATIENTS.amaraNorth.id, currency: 'NGN', lines: [{ description: 'Self-billed', quantity: 1, unitAmount: 1 }] } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql('hospitalAdmin', 'mutation($id: ID!) { voidInvoice(id: $id) { id } }', { id: invoiceId }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql('billing', 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }', { input: { patientId: PATIENTS.amaraNorth.id, currency: 'NGN', organizationId: ORGS.hospital.id, lines: [{ description: 'Elsewhere', quantity: 1, unitAmount: 1 }] } }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql('billing', 'mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { id } }', { input: { patientId: PATIENTS.amaraNorth.id, currency: 'NGN', lines: [{ description: 'Bad', quantity: 0, unitAmount: -5 }] } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes((await postGraphQL(t.graphqlUrl, { query: read, variables: { id: invoiceId } })).json)).toEqual(['UNAUTHENTICATED']);
    // Every read of an invoice is audited on the data path; a refused one leaves nothing.
    expect(await auditsOf('patient', invoiceId)).toContainEqual({ action: 'read', entityType: 'Invoice' });
    expect(await auditsOf('hospitalAdmin', invoiceId)).toEqual([]);

    // Patient.invoices, joined onto identity's patient through the gateway.
    const joined = 'query($id: ID!) { patient(id: $id) { name invoices { id status } } }';
    const asStaff = (await ok<{ patient: { name: string; invoices: Array<{ id: string; status: string }> } }>('billing', joined, { id: PATIENTS.amaraNorth.id })).patient;
    expect(asStaff.invoices.map((i) => i.id)).toEqual(expect.arrayContaining([invoiceId, draft.id]));
    const asPatient = (await ok<{ patient: { invoices: Array<{ id: string; status: string }> } }>('patient', joined, { id: PATIENTS.amaraNorth.id })).patient;
    expect(asPatient.invoices.map((i) => i.id)).toContain(invoiceId);
    expect(asPatient.invoices.map((i) => i.id)).not.toContain(draft.id);

    // Voiding: only with nothing paid.
    expect((await ok<{ voidInvoice: { status: string } }>('billing', 'mutation($id: ID!) { voidInvoice(id: $id) { status } }', { id: draft.id })).voidInvoice.status).toBe('VOID');
    expect(await auditsOf('billing', draft.id)).toEqual(expect.arrayContaining([{ action: 'create', entityType: 'Invoice' }, { action: 'update', entityType: 'Invoice' }]));
    // A voided invoice is the patient's to see, not to pay.
    expect(errorCodes(await gql('patient', 'mutation($id: ID!) { startCheckout(invoiceId: $id, kind: BALANCE) { sessionId } }', { id: draft.id }))).toEqual(['CONFLICT']);
  });

  it('reconciles local payments and refunds against Stripe’s balance transactions, finding one mismatch of each kind', async () => {
    const prisma = t.platform.database.prisma;
    const from = new Date(Date.now() - 3600_000);
    // Payouts (nothing to match) push the period past one page of 100: the report must read every page.
    for (let i = 0; i < 150; i++) stripe.addBalanceTransaction({ type: 'payout', amount: -1, currency: 'ngn', source: `po_test_${i}` });
    const invoiceId = await openInvoice([{ description: 'Physiotherapy', quantity: 3, unitAmount: 2000 }]);
    const checkout = (await ok<{ startCheckout: { sessionId: string; payment: { id: string } } }>('patient', 'mutation($id: ID!) { startCheckout(invoiceId: $id, kind: BALANCE) { sessionId payment { id } } }', { id: invoiceId })).startCheckout;
    const paid = stripe.completeCheckout(checkout.sessionId);
    // Only the session event: the report must find the charge id at Stripe itself.
    expect(await deliver(stripe.event('checkout.session.completed', paid.session))).toBe(200);

    // 1. At Stripe, unknown here.
    const unknownCharge = stripe.addBalanceTransaction({ type: 'charge', amount: 999, currency: 'ngn', source: 'ch_test_nobody_knows' });
    // 2. Here, never reached Stripe.
    const localOnly = await prisma.payment.create({ data: { invoiceId, organizationId: ORGS.clinicNorth.id, kind: 'DEPOSIT', channel: 'PAYMENT_INTENT', amount: 1500, currency: 'NGN', status: 'SUCCEEDED', stripeChargeId: 'ch_test_local_only', stripePaymentIntentId: 'pi_test_local_only', paidAt: new Date(), initiatedById: USERS.billing.id } });
    // 3. Both sides, different amounts.
    const skewed = await prisma.payment.create({ data: { invoiceId, organizationId: ORGS.clinicNorth.id, kind: 'DEPOSIT', channel: 'PAYMENT_INTENT', amount: 2500, currency: 'NGN', status: 'SUCCEEDED', stripeChargeId: 'ch_test_skewed', stripePaymentIntentId: 'pi_test_skewed', paidAt: new Date(), initiatedById: USERS.billing.id } });
    stripe.addBalanceTransaction({ type: 'charge', amount: 2400, currency: 'ngn', source: 'ch_test_skewed' });
    // Outside the period: ignored on both sides.
    stripe.addBalanceTransaction({ type: 'charge', amount: 1, currency: 'ngn', source: 'ch_test_last_year', created: Math.floor(Date.now() / 1000) - 400 * 86_400 });

    const to = new Date(Date.now() + 60_000);
    const query = 'query($org: ID!, $from: DateTime!, $to: DateTime!) { reconciliationReport(organizationId: $org, from: $from, to: $to) { stripeTransactionsRead matched { kind localId stripeObjectId localAmount stripeAmount } missingLocally { kind stripeObjectId stripeAmount } missingAtStripe { kind localId localAmount } amountMismatches { kind localId localAmount stripeAmount } } }';
    const before = stripe.requests.filter((r) => r.path === '/v1/balance_transactions').length;
    const report = (await ok<{ reconciliationReport: {
      stripeTransactionsRead: number;
      matched: Array<{ kind: string; localId: string; stripeObjectId: string; localAmount: number; stripeAmount: number }>;
      missingLocally: Array<{ kind: string; stripeObjectId: string; stripeAmount: number }>;
      missingAtStripe: Array<{ kind: string; localId: string; localAmount: number }>;
      amountMismatches: Array<{ kind: string; localId: string; localAmount: number; stripeAmount: number }>;
    } }>('billing', query, { org: ORGS.clinicNorth.id, from: from.toISOString(), to: to.toISOString() })).reconciliationReport;

    expect(report.missingLocally).toEqual([{ kind: 'PAYMENT', stripeObjectId: unknownCharge['source'], stripeAmount: 999 }]);
    expect(report.missingAtStripe).toEqual([{ kind: 'PAYMENT', localId: localOnly.id, localAmount: 1500 }]);
    expect(report.amountMismatches).toEqual([{ kind: 'PAYMENT', localId: skewed.id, localAmount: 2500, stripeAmount: 2400 }]);
    expect(report.matched).toContainEqual({ kind: 'PAYMENT', localId: checkout.payment.id, stripeObjectId: paid.charge.id, localAmount: 6000, stripeAmount: 6000 });
    // Every refund issued in the first test matches its Stripe refund transaction.
    expect(report.matched.filter((m) => m.kind === 'REFUND').map((m) => m.stripeAmount).sort((a, b) => a - b)).toEqual([5000, 7500]);
    for (const item of report.matched) expect(item.localAmount).toBe(item.stripeAmount);
    // Read through the list endpoint with the period's bounds; the SDK asks for pages until has_more is false.
    const listCalls = stripe.requests.filter((r) => r.path === '/v1/balance_transactions').slice(before);
    expect(listCalls[0]?.params).toMatchObject({ created: { gte: String(Math.floor(from.getTime() / 1000)) }, limit: '100' });
    expect(listCalls.length).toBeGreaterThanOrEqual(2);
    expect(listCalls[1]?.params['starting_after']).toMatch(/^txn_/);
    expect(report.stripeTransactionsRead).toBe(stripe.balanceTransactions.length - 1);

    expect(errorCodes(await gql('hospitalAdmin', query, { org: ORGS.clinicNorth.id, from: from.toISOString(), to: to.toISOString() }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await gql('patient', query, { org: ORGS.clinicNorth.id, from: from.toISOString(), to: to.toISOString() }))).toEqual(['FORBIDDEN']);
  });
});
