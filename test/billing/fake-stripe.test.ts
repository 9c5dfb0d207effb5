import Stripe from 'stripe';
import { FakeStripe, parseStripeForm } from '../support/fake-stripe.js';

/** The fake speaks enough of Stripe's wire format that the real SDK works against it. */
const fake = new FakeStripe();
let sdk: Stripe;
beforeAll(async () => {
  await fake.start();
  sdk = new Stripe(fake.secretKey, { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
});
afterAll(() => fake.stop());

describe('the Stripe fake', () => {
  it('parses form encoding with nested and indexed keys', () => {
    expect(parseStripeForm('mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=usd&metadata[a]=b')).toEqual({
      mode: 'payment', line_items: [{ quantity: '1', price_data: { currency: 'usd' } }], metadata: { a: 'b' },
    });
  });

  it('refuses a wrong secret key', async () => {
    const intruder = new Stripe('sk_test_wrong', { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
    await expect(intruder.paymentIntents.create({ amount: 100, currency: 'usd' })).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
  });

  it('replays a request with the same idempotency key and refuses the key with other parameters', async () => {
    const first = await sdk.paymentIntents.create({ amount: 500, currency: 'usd', metadata: { payment_id: 'p1' } }, { idempotencyKey: 'key-1' });
    const again = await sdk.paymentIntents.create({ amount: 500, currency: 'usd', metadata: { payment_id: 'p1' } }, { idempotencyKey: 'key-1' });
    expect(first.object).toBe('payment_intent');
    expect(first.id).toMatch(/^pi_/);
    expect(again.id).toBe(first.id);
    expect([...fake.paymentIntents.values()].filter((pi) => (pi['metadata'] as Record<string, string>)['payment_id'] === 'p1')).toHaveLength(1);
    await expect(sdk.paymentIntents.create({ amount: 600, currency: 'usd' }, { idempotencyKey: 'key-1' })).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });

  it('never refunds more than was charged', async () => {
    const intent = await sdk.paymentIntents.create({ amount: 1000, currency: 'ngn' });
    fake.succeedPaymentIntent(intent.id);
    const partial = await sdk.refunds.create({ payment_intent: intent.id, amount: 600 });
    expect(partial).toMatchObject({ object: 'refund', amount: 600, status: 'pending' });
    await expect(sdk.refunds.create({ payment_intent: intent.id, amount: 401 })).rejects.toMatchObject({ type: 'StripeInvalidRequestError', code: 'amount_too_large' });
    const rest = await sdk.refunds.create({ payment_intent: intent.id });
    expect(rest.amount).toBe(400);
    await expect(sdk.refunds.create({ payment_intent: intent.id, amount: 1 })).rejects.toMatchObject({ code: 'charge_already_refunded' });
  });

  it('lists balance transactions newest first within created bounds, page by page', async () => {
    const base = 1_700_000_000;
    for (let i = 0; i < 25; i++) fake.addBalanceTransaction({ type: 'charge', amount: 100 + i, currency: 'usd', source: `ch_page_${i}`, created: base + i });
    const page = await sdk.balanceTransactions.list({ created: { gte: base + 5, lt: base + 20 }, limit: 10 });
    expect(page).toMatchObject({ object: 'list', has_more: true });
    expect(page.data.map((txn) => txn.created)).toEqual(Array.from({ length: 10 }, (_, i) => base + 19 - i));
    const all: number[] = [];
    for await (const txn of sdk.balanceTransactions.list({ created: { gte: base + 5, lt: base + 20 }, limit: 4 })) all.push(txn.created);
    expect(all).toEqual(Array.from({ length: 15 }, (_, i) => base + 19 - i));
  });

  it('signs webhook payloads the SDK verifies, and only with the right secret', () => {
    const event = fake.event('payment_intent.succeeded', { id: 'pi_x', object: 'payment_intent' });
    const { body, signature } = fake.signed(event);
    expect(sdk.webhooks.constructEvent(body, signature, fake.webhookSecret).id).toBe(event.id);
    expect(() => sdk.webhooks.constructEvent(body, signature, 'whsec_other')).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });
});
