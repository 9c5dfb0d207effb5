import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A local stand-in for the Stripe API, over real HTTP, for the calls CareGraph makes: it
 * checks the Bearer secret key, reads form-encoded bodies (`a[b][0][c]=v`), answers with JSON
 * objects in Stripe's shapes (`object`, `id` prefixes, `{ error: { type, code, message } }`),
 * replays a request sent again with the same `Idempotency-Key` (same answer, no second
 * object; other parameters with the same key are an `idempotency_error`), refuses refunds
 * beyond what was charged, and lists balance transactions newest first with `created[gte]` /
 * `created[lt]` and cursor pagination. Test helpers move objects on (a customer pays, a
 * refund settles) and build the events Stripe would send, signed like Stripe signs them.
 */

type Json = Record<string, unknown>;
type Params = Record<string, unknown>;

export interface FakeStripeObject extends Json {
  id: string;
  object: string;
}

interface Charge extends FakeStripeObject {
  amount: number;
  amount_refunded: number;
  currency: string;
  payment_intent: string | null;
  refunded: boolean;
  balance_transaction: string | null;
}

interface StoredResponse {
  fingerprint: string;
  status: number;
  body: string;
}

const now = (): number => Math.floor(Date.now() / 1000);
const newId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

/** Parses Stripe's form encoding (`metadata[k]=v`, `line_items[0][quantity]=1`) into nested values. */
export function parseStripeForm(body: string): Params {
  const root: Params = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const path = rawKey.split(/\[|\]\[|\]/).filter((part) => part !== '');
    let node: Record<string, unknown> = root;
    path.forEach((part, i) => {
      if (i === path.length - 1) {
        node[part] = value;
        return;
      }
      const next = node[part];
      if (typeof next !== 'object' || next === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    });
  }
  return arraysFromIndexes(root) as Params;
}

/** `{ "0": a, "1": b }` → `[a, b]`, recursively, as Stripe reads indexed keys. */
function arraysFromIndexes(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, arraysFromIndexes(v)] as const);
  if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => v);
  }
  return Object.fromEntries(entries);
}

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const intParam = (params: Params, name: string, required = true): number | undefined => {
  const raw = params[name];
  if (raw === undefined) {
    if (required) throw new StripeApiError(400, 'invalid_request_error', `Missing required param: ${name}.`, 'parameter_missing', name);
    return undefined;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new StripeApiError(400, 'invalid_request_error', `Invalid integer: ${String(raw)}`, 'parameter_invalid_integer', name);
  return value;
};

const stringParam = (params: Params, name: string): string => {
  const raw = params[name];
  if (typeof raw !== 'string' || raw === '') throw new StripeApiError(400, 'invalid_request_error', `Missing required param: ${name}.`, 'parameter_missing', name);
  return raw;
};

const metadataOf = (params: Params): Record<string, string> => (typeof params['metadata'] === 'object' && params['metadata'] !== null ? (params['metadata'] as Record<string, string>) : {});

export class FakeStripe {
  readonly secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  readonly webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  /** Every request received: method, path, params, idempotency key (tests assert on these). */
  readonly requests: Array<{ method: string; path: string; params: Params; idempotencyKey?: string }> = [];
  readonly checkoutSessions = new Map<string, FakeStripeObject>();
  readonly paymentIntents = new Map<string, FakeStripeObject>();
  readonly charges = new Map<string, Charge>();
  readonly refunds = new Map<string, FakeStripeObject>();
  readonly balanceTransactions: FakeStripeObject[] = [];
  private readonly idempotent = new Map<string, StoredResponse>();
  private server: Server | undefined;
  host = '127.0.0.1';
  port = 0;
  /** The SDK's own `webhooks` helper, for signing test payloads exactly as Stripe does. */
  private readonly sdk = new Stripe('sk_test_signing_only');

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.serve(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The configuration billing needs to talk to this fake. */
  get config(): { secretKey: string; webhookSecret: string; host: string; port: number; protocol: 'http' } {
    return { secretKey: this.secretKey, webhookSecret: this.webhookSecret, host: this.host, port: this.port, protocol: 'http' };
  }

  // ------------------------------------------------------------ HTTP

  private serve(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reply = (status: number, payload: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': newId('req'), ...extra }).end(payload);
    };
    if (req.headers.authorization !== `Bearer ${this.secretKey}`) {
      reply(401, JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }));
      return;
    }
    const method = req.method ?? 'GET';
    const params = method === 'GET' ? parseStripeForm(url.search.slice(1)) : parseStripeForm(body);
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = typeof keyHeader === 'string' ? keyHeader : undefined;
    this.requests.push({ method, path: url.pathname, params, idempotencyKey });

    const fingerprint = `${method} ${url.pathname} ${body}`;
    if (method === 'POST' && idempotencyKey) {
      const stored = this.idempotent.get(idempotencyKey);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          reply(400, JSON.stringify({ error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.` } }));
          return;
        }
        reply(stored.status, stored.body, { 'idempotent-replayed': 'true', 'idempotency-key': idempotencyKey });
        return;
      }
    }
    let status = 200;
    let payload: string;
    try {
      payload = JSON.stringify(this.route(method, url.pathname, params));
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      status = error.status;
      payload = JSON.stringify({ error: { type: error.type, code: error.code, param: error.param, message: error.message } });
    }
    // Stripe stores the result of a keyed POST, errors included (but not 5xx), and replays it.
    if (method === 'POST' && idempotencyKey) this.idempotent.set(idempotencyKey, { fingerprint, status, body: payload });
    reply(status, payload, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  private route(method: string, path: string, params: Params): unknown {
    const [, version, ...rest] = path.split('/');
    if (version !== 'v1') throw new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
    const resource = rest.join('/');
    const byId = <T extends FakeStripeObject>(map: Map<string, T>, id: string | undefined, what: string): T => {
      const found = id ? map.get(id) : undefined;
      if (!found) throw new StripeApiError(404, 'invalid_request_error', `No such ${what}: '${id ?? ''}'`, 'resource_missing', 'id');
      return found;
    };
    if (method === 'POST' && resource === 'checkout/sessions') return this.createCheckoutSession(params);
    if (method === 'GET' && rest[0] === 'checkout' && rest[1] === 'sessions' && rest.length === 3) return byId(this.checkoutSessions, rest[2], 'checkout.session');
    if (method === 'POST' && resource === 'payment_intents') return this.createPaymentIntent(params);
    if (method === 'GET' && rest[0] === 'payment_intents' && rest.length === 2) return byId(this.paymentIntents, rest[1], 'payment_intent');
    if (method === 'GET' && rest[0] === 'charges' && rest.length === 2) return byId(this.charges, rest[1], 'charge');
    if (method === 'POST' && resource === 'refunds') return this.createRefund(params);
    if (method === 'GET' && rest[0] === 'refunds' && rest.length === 2) return byId(this.refunds, rest[1], 'refund');
    if (method === 'GET' && resource === 'balance_transactions') return this.listBalanceTransactions(params);
    throw new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  // ------------------------------------------------------------ resources

  private createCheckoutSession(params: Params): FakeStripeObject {
    const lineItems = Array.isArray(params['line_items']) ? (params['line_items'] as Params[]) : [];
    if (lineItems.length === 0) throw new StripeApiError(400, 'invalid_request_error', 'Missing required param: line_items.', 'parameter_missing', 'line_items');
    if (params['mode'] !== 'payment') throw new StripeApiError(400, 'invalid_request_error', 'This fake supports mode=payment only.', 'parameter_invalid', 'mode');
    let amountTotal = 0;
    let currency = '';
    for (const item of lineItems) {
      const priceData = (item['price_data'] ?? {}) as Params;
      currency = stringParam(priceData, 'currency');
      amountTotal += (intParam(priceData, 'unit_amount') ?? 0) * (intParam(item, 'quantity') ?? 1);
    }
    const metadata = metadataOf(params);
    const paymentIntentData = (params['payment_intent_data'] ?? {}) as Params;
    const intent = this.newPaymentIntent(amountTotal, currency, metadataOf(paymentIntentData));
    const id = newId('cs_test');
    const session: FakeStripeObject = {
      id,
      object: 'checkout.session',
      amount_subtotal: amountTotal,
      amount_total: amountTotal,
      client_reference_id: typeof params['client_reference_id'] === 'string' ? params['client_reference_id'] : null,
      created: now(),
      currency,
      livemode: false,
      metadata,
      mode: 'payment',
      payment_intent: intent.id,
      payment_status: 'unpaid',
      status: 'open',
      success_url: params['success_url'] ?? null,
      cancel_url: params['cancel_url'] ?? null,
      // A string only: nothing ever fetches it.
      url: `https://checkout.stripe.com/c/pay/${id}`,
    };
    this.checkoutSessions.set(id, session);
    return session;
  }

  private newPaymentIntent(amount: number, currency: string, metadata: Record<string, string>): FakeStripeObject {
    if (amount < 1) throw new StripeApiError(400, 'invalid_request_error', 'Amount must be at least 1.', 'amount_too_small', 'amount');
    const id = newId('pi');
    const intent: FakeStripeObject = {
      id,
      object: 'payment_intent',
      amount,
      amount_received: 0,
      client_secret: `${id}_secret_${randomBytes(12).toString('hex')}`,
      created: now(),
      currency,
      latest_charge: null,
      last_payment_error: null,
      livemode: false,
      metadata,
      status: 'requires_payment_method',
    };
    this.paymentIntents.set(id, intent);
    return intent;
  }

  private createPaymentIntent(params: Params): FakeStripeObject {
    return this.newPaymentIntent(intParam(params, 'amount') ?? 0, stringParam(params, 'currency'), metadataOf(params));
  }

  private createRefund(params: Params): FakeStripeObject {
    let charge: Charge | undefined;
    if (typeof params['charge'] === 'string') charge = this.charges.get(params['charge']);
    else if (typeof params['payment_intent'] === 'string') {
      const intent = this.paymentIntents.get(params['payment_intent']);
      charge = typeof intent?.['latest_charge'] === 'string' ? this.charges.get(intent['latest_charge']) : undefined;
      if (intent && !charge) throw new StripeApiError(400, 'invalid_request_error', `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, 'charge_not_refundable');
    }
    if (!charge) throw new StripeApiError(404, 'invalid_request_error', 'No such charge or payment_intent', 'resource_missing', 'charge');
    const remaining = charge.amount - charge.amount_refunded - this.pendingRefunds(charge.id);
    const amount = intParam(params, 'amount', false) ?? remaining;
    if (remaining <= 0) throw new StripeApiError(400, 'invalid_request_error', `Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
    if (amount < 1 || amount > remaining) {
      throw new StripeApiError(400, 'invalid_request_error', `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, 'amount_too_large', 'amount');
    }
    const reason = params['reason'];
    if (reason !== undefined && !['duplicate', 'fraudulent', 'requested_by_customer'].includes(String(reason))) {
      throw new StripeApiError(400, 'invalid_request_error', `Invalid reason: ${String(reason)}`, 'parameter_invalid', 'reason');
    }
    const refund: FakeStripeObject = {
      id: newId('re'),
      object: 'refund',
      amount,
      balance_transaction: null,
      charge: charge.id,
      created: now(),
      currency: charge.currency,
      metadata: metadataOf(params),
      payment_intent: charge.payment_intent,
      reason: reason ?? null,
      // Card refunds are usually succeeded at once; pending lets tests drive the webhooks.
      status: 'pending',
    };
    this.refunds.set(refund.id, refund);
    return refund;
  }

  private pendingRefunds(chargeId: string): number {
    let sum = 0;
    for (const refund of this.refunds.values()) if (refund['charge'] === chargeId && refund['status'] === 'pending') sum += refund['amount'] as number;
    return sum;
  }

  private listBalanceTransactions(params: Params): Json {
    const created = (params['created'] ?? {}) as Params;
    const gte = intParam(created, 'gte', false);
    const lt = intParam(created, 'lt', false);
    const limit = Math.min(100, Math.max(1, intParam(params, 'limit', false) ?? 10));
    // Newest first, as Stripe lists; insertion order breaks ties so cursors are stable.
    const all = this.balanceTransactions
      .map((txn, index) => ({ txn, index }))
      .filter(({ txn }) => (gte === undefined || (txn['created'] as number) >= gte) && (lt === undefined || (txn['created'] as number) < lt))
      .sort((a, b) => (b.txn['created'] as number) - (a.txn['created'] as number) || b.index - a.index)
      .map(({ txn }) => txn);
    let start = 0;
    if (typeof params['starting_after'] === 'string') {
      const at = all.findIndex((txn) => txn.id === params['starting_after']);
      if (at < 0) throw new StripeApiError(400, 'invalid_request_error', `No such balance_transaction: '${params['starting_after']}'`, 'resource_missing', 'starting_after');
      start = at + 1;
    }
    const page = all.slice(start, start + limit);
    return { object: 'list', url: '/v1/balance_transactions', has_more: start + limit < all.length, data: page };
  }

  // ------------------------------------------------------------ test helpers: the world moves on

  /** Adds a balance transaction as Stripe would record it (also used to plant mismatches). */
  addBalanceTransaction(fields: { type: 'charge' | 'refund' | 'payment' | 'payout' | 'adjustment'; amount: number; currency: string; source: string | null; created?: number }): FakeStripeObject {
    const txn: FakeStripeObject = {
      id: newId('txn'),
      object: 'balance_transaction',
      amount: fields.amount,
      available_on: (fields.created ?? now()) + 2 * 86_400,
      created: fields.created ?? now(),
      currency: fields.currency,
      description: null,
      fee: fields.type === 'charge' ? Math.round(Math.abs(fields.amount) * 0.029) : 0,
      net: fields.type === 'charge' ? fields.amount - Math.round(Math.abs(fields.amount) * 0.029) : fields.amount,
      reporting_category: fields.type === 'refund' ? 'refund' : 'charge',
      source: fields.source,
      status: 'pending',
      type: fields.type,
    };
    this.balanceTransactions.push(txn);
    return txn;
  }

  /** The customer pays a payment intent: a charge and its balance transaction appear. */
  succeedPaymentIntent(intentId: string, options: { amount?: number } = {}): { intent: FakeStripeObject; charge: Charge } {
    const intent = this.paymentIntents.get(intentId);
    if (!intent) throw new Error(`no payment intent ${intentId}`);
    const amount = options.amount ?? (intent['amount'] as number);
    const chargeId = newId('ch');
    const txn = this.addBalanceTransaction({ type: 'charge', amount, currency: intent['currency'] as string, source: chargeId });
    const charge: Charge = {
      id: chargeId,
      object: 'charge',
      amount,
      amount_captured: amount,
      amount_refunded: 0,
      balance_transaction: txn.id,
      created: now(),
      currency: intent['currency'] as string,
      metadata: intent['metadata'],
      paid: true,
      payment_intent: intent.id,
      refunded: false,
      status: 'succeeded',
    };
    this.charges.set(chargeId, charge);
    Object.assign(intent, { status: 'succeeded', amount_received: amount, latest_charge: chargeId });
    return { intent, charge };
  }

  /** The customer completes a checkout session (and pays it). */
  completeCheckout(sessionId: string): { session: FakeStripeObject; intent: FakeStripeObject; charge: Charge } {
    const session = this.checkoutSessions.get(sessionId);
    if (!session) throw new Error(`no checkout session ${sessionId}`);
    const { intent, charge } = this.succeedPaymentIntent(session['payment_intent'] as string);
    Object.assign(session, { status: 'complete', payment_status: 'paid' });
    return { session, intent, charge };
  }

  /** The payment intent's card is declined. */
  failPaymentIntent(intentId: string): FakeStripeObject {
    const intent = this.paymentIntents.get(intentId);
    if (!intent) throw new Error(`no payment intent ${intentId}`);
    Object.assign(intent, { status: 'requires_payment_method', last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } });
    return intent;
  }

  /** A pending refund succeeds: the charge's refunded amount and a refund balance transaction follow. */
  settleRefund(refundId: string, status: 'succeeded' | 'failed' = 'succeeded'): { refund: FakeStripeObject; charge: Charge } {
    const refund = this.refunds.get(refundId);
    if (!refund) throw new Error(`no refund ${refundId}`);
    const charge = this.charges.get(refund['charge'] as string);
    if (!charge) throw new Error(`no charge for refund ${refundId}`);
    if (refund['status'] === 'pending') {
      refund['status'] = status;
      if (status === 'succeeded') {
        const txn = this.addBalanceTransaction({ type: 'refund', amount: -(refund['amount'] as number), currency: charge.currency, source: refund.id });
        refund['balance_transaction'] = txn.id;
        charge.amount_refunded += refund['amount'] as number;
        charge.refunded = charge.amount_refunded >= charge.amount;
      }
    }
    return { refund, charge };
  }

  // ------------------------------------------------------------ test helpers: webhooks

  /** An Event object as Stripe sends it to a webhook endpoint (a snapshot of `object`). */
  event(type: string, object: FakeStripeObject, options: { created?: number; id?: string } = {}): FakeStripeObject {
    return {
      id: options.id ?? newId('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: options.created ?? now(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
  }

  /** The raw body and `Stripe-Signature` header for an event, signed with the SDK's own helper. */
  signed(event: FakeStripeObject, options: { secret?: string; timestamp?: number } = {}): { body: string; signature: string } {
    const body = JSON.stringify(event);
    const signature = this.sdk.webhooks.generateTestHeaderString({ payload: body, secret: options.secret ?? this.webhookSecret, timestamp: options.timestamp });
    return { body, signature };
  }
}
