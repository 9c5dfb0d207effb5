import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { openTestDatabase } from '../support/database.js';
import {
  DELIVERY_ID_HEADER, eventTopic, OutboxRelay, recordEvent, replayDeadLetters, SIGNATURE_HEADER, signWebhookPayload,
  verifyWebhookSignature, WebhookDispatcher, type RelayedEvent,
} from '../../subgraphs/kit/outbox.js';
import { MemoryPubSub } from '../../subgraphs/kit/pubsub.js';

const log = createLogger('outbox-test', 'silent');
let database: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.closeAll();
});

/** A partner's webhook receiver that can be down, and that de-duplicates on the delivery id. */
class Receiver {
  readonly seen = new Map<string, { body: string; signature: string }>();
  requests = 0;
  failuresLeft = 0;
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests += 1;
        if (this.failuresLeft > 0) {
          this.failuresLeft -= 1;
          res.writeHead(503).end();
          return;
        }
        const id = String(req.headers[DELIVERY_ID_HEADER]);
        if (!this.seen.has(id)) this.seen.set(id, { body: Buffer.concat(chunks).toString(), signature: String(req.headers[SIGNATURE_HEADER]) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }
}

const ORG = 'org-outbox-test';
const SECRET = 'whsec_test_secret_value';

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('transactional outbox', () => {
  it('records an event only when its transaction commits', async () => {
    const prisma = database.prisma;
    await expect(
      prisma.$transaction(async (tx) => {
        await recordEvent(tx, { source: 'test', type: 'test.rolled_back', aggregateId: 'a1', organizationId: ORG, payload: {} });
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(await prisma.outboxEvent.count({ where: { type: 'test.rolled_back' } })).toBe(0);
    await prisma.$transaction((tx) => recordEvent(tx, { source: 'test', type: 'test.committed', aggregateId: 'a1', organizationId: ORG, payload: { n: 1 } }));
    expect(await prisma.outboxEvent.count({ where: { type: 'test.committed' } })).toBe(1);
  });

  it('relays each event once: published, fanned out to matching endpoints only', async () => {
    const prisma = database.prisma;
    const pubsub = new MemoryPubSub();
    const relay = new OutboxRelay({ prisma, pubsub, log });
    await relay.relayOnce(); // drain what earlier tests left
    const everything = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, url: 'http://127.0.0.1:9/x', secret: SECRET, eventTypes: ['*'], active: false } });
    const partnerA = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, partnerId: 'partner-a', url: 'http://127.0.0.1:9/a', secret: SECRET, eventTypes: ['training.session.completed'] } });
    const otherOrg = await prisma.webhookEndpoint.create({ data: { organizationId: 'another-org', url: 'http://127.0.0.1:9/o', secret: SECRET, eventTypes: ['*'] } });
    const listener = pubsub.subscribe<RelayedEvent>(eventTopic('training.session.completed'));

    await prisma.$transaction(async (tx) => {
      await recordEvent(tx, { source: 'training', type: 'training.session.completed', aggregateId: 's1', organizationId: ORG, partnerId: 'partner-a', payload: { score: 80 } });
      await recordEvent(tx, { source: 'training', type: 'training.session.completed', aggregateId: 's2', organizationId: ORG, partnerId: 'partner-b', payload: { score: 70 } });
      await recordEvent(tx, { source: 'training', type: 'training.session.started', aggregateId: 's3', organizationId: ORG, partnerId: 'partner-a', payload: {} });
    });
    expect(await relay.relayOnce()).toBe(3);
    expect(await relay.relayOnce()).toBe(0);

    const first = await listener.next();
    expect(first.value).toMatchObject({ type: 'training.session.completed', aggregateId: 's1', payload: { score: 80 } });
    await listener.return?.();

    const deliveries = await prisma.webhookDelivery.findMany({ include: { event: true } });
    expect(deliveries.map((d) => [d.endpointId, d.event.aggregateId])).toEqual([[partnerA.id, 's1']]);
    expect(deliveries.some((d) => d.endpointId === everything.id || d.endpointId === otherOrg.id)).toBe(false);
    await prisma.webhookEndpoint.deleteMany({ where: { id: { in: [everything.id, partnerA.id, otherOrg.id] } } });
  });
});

describe('webhook delivery', () => {
  it('retries while the receiver is down, lands once it is back, nothing lost or doubled', async () => {
    const prisma = database.prisma;
    const receiver = new Receiver();
    await receiver.start();
    const endpoint = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, url: receiver.url, secret: SECRET, eventTypes: ['billing.payment.paid'] } });
    const relay = new OutboxRelay({ prisma, pubsub: new MemoryPubSub(), log });
    const dispatcher = new WebhookDispatcher({ prisma, log, baseDelayMs: 30, maxDelayMs: 200, maxAttempts: 20, pollIntervalMs: 20 });
    const port = receiver.port;
    await receiver.stop(); // down: connection refused

    await prisma.$transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await recordEvent(tx, { source: 'billing', type: 'billing.payment.paid', aggregateId: `p${i}`, organizationId: ORG, payload: { i } });
    });
    await relay.relayOnce();
    dispatcher.start();
    await until(async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, attempts: { gte: 2 } } })) === 5);

    receiver.failuresLeft = 3; // back, but answering 503 a few times first
    await receiver.start(port);
    await until(async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: 'DELIVERED' } })) === 5);
    await dispatcher.stop();
    await receiver.stop();

    expect(receiver.seen.size).toBe(5);
    const payloads = [...receiver.seen.values()].map((r) => (JSON.parse(r.body) as { event: { payload: { i: number } } }).event.payload.i).sort();
    expect(payloads).toEqual([0, 1, 2, 3, 4]);
    for (const { body, signature } of receiver.seen.values()) {
      expect(verifyWebhookSignature(SECRET, signature, body)).toEqual({ ok: true });
    }
  });

  it('dead-letters after the last attempt and replays on request with the same delivery id', async () => {
    const prisma = database.prisma;
    const receiver = new Receiver();
    await receiver.start();
    receiver.failuresLeft = 1_000;
    const endpoint = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, url: receiver.url, secret: SECRET, eventTypes: ['nurse.queue.escalated'] } });
    await prisma.$transaction((tx) => recordEvent(tx, { source: 'nurse', type: 'nurse.queue.escalated', aggregateId: 'q1', organizationId: ORG, payload: {} }));
    await new OutboxRelay({ prisma, pubsub: new MemoryPubSub(), log }).relayOnce();
    const dispatcher = new WebhookDispatcher({ prisma, log, baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 3, pollIntervalMs: 15 });
    dispatcher.start();
    await until(async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: 'DEAD' } })) === 1);
    const dead = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(dead).toMatchObject({ attempts: 3, lastStatusCode: 503 });
    expect(receiver.requests).toBe(3);

    receiver.failuresLeft = 0;
    expect(await replayDeadLetters(prisma, 'some-other-org')).toBe(0); // another organization's admin cannot touch it
    expect(await replayDeadLetters(prisma, ORG, [dead.id])).toBe(1);
    dispatcher.wake();
    await until(async () => (await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: dead.id } })).status === 'DELIVERED');
    await dispatcher.stop();
    await receiver.stop();
    expect([...receiver.seen.keys()]).toEqual([dead.id]);
  });

  it('backs off exponentially, with a cap', () => {
    const dispatcher = new WebhookDispatcher({ prisma: database.prisma, log, baseDelayMs: 1_000, maxDelayMs: 60_000 });
    const delays = [1, 2, 3, 4, 10].map((attempts) => dispatcher.backoffMs(attempts));
    expect(delays[0]).toBeGreaterThanOrEqual(800);
    expect(delays[0]).toBeLessThanOrEqual(1_200);
    expect(delays[1]).toBeGreaterThanOrEqual(1_600);
    expect(delays[3]).toBeGreaterThanOrEqual(6_400);
    expect(delays[4]).toBeLessThanOrEqual(72_000);
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"d1"}';
  it('accepts the signed body and refuses tampering, staleness and garbage', () => {
    const header = signWebhookPayload(SECRET, body);
    expect(verifyWebhookSignature(SECRET, header, body)).toEqual({ ok: true });
    expect(verifyWebhookSignature(SECRET, header, '{"id":"d2"}')).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature('whsec_other', header, body)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(SECRET, signWebhookPayload(SECRET, body, Math.floor(Date.now() / 1000) - 3_600), body)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature(SECRET, 't=abc,v1=zz', body)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature(SECRET, undefined, body)).toEqual({ ok: false, reason: 'missing' });
  });
});
