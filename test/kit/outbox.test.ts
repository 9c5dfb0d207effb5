import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { openTestDatabase } from '../support/database.js';
import {
  DELIVERY_ID_HEADER, eventTopic, OutboxRelay, recordEvent, replayDeadLetters, SIGNATURE_HEADER, signWebhookPayload,
  verifyWebhookSignature, WebhookDispatcher, type RelayedEvent,
} from '../../subgraphs/kit/outbox.js';
import { MemoryPubSub, type PubSub } from '../../subgraphs/kit/pubsub.js';
import { BillingEvents } from '../../subgraphs/kit/events/billing.js';
import { defineEvent } from '../../subgraphs/kit/events/define.js';
import { NurseEvents } from '../../subgraphs/kit/events/nurse.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import { z } from 'zod';

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

const completed = (sessionId: string, total: number) => ({
  sessionId, caseId: 'case-1', caseVersion: 1, cohortId: 'cohort-1', learnerId: 'learner-1', status: 'COMPLETED' as const,
  startedAt: '2026-12-01T10:00:00.000Z', endedAt: '2026-12-01T10:20:00.000Z', durationSeconds: 1200,
  score: { total, subScores: [{ section: 'history', score: total }], flaggedErrors: [] },
});
const depositPaid = (i: number) => ({ paymentId: `p${i}`, invoiceId: 'i1', patientId: 'pt1', organizationId: ORG, kind: 'DEPOSIT' as const, amount: 100 + i, currency: 'NGN' as const, invoiceStatus: 'PARTIALLY_PAID' as const });
const queueEscalated = { kind: 'CHANGED' as const, entryId: 'q1', organizationId: ORG, source: 'MANUAL' as const, urgency: 'CRITICAL' as const, status: 'ESCALATED' as const, version: 2, action: 'ESCALATE' as const, at: '2026-12-01T10:00:00.000Z', createdAt: '2026-12-01T09:50:00.000Z', slaDueAt: '2026-12-01T09:55:00.000Z' };
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
        await recordEvent(tx, TrainingEvents.sessionCompleted, { aggregateId: 'rolled-back', organizationId: ORG, payload: completed('rolled-back', 50) });
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(await prisma.outboxEvent.count({ where: { aggregateId: 'rolled-back' } })).toBe(0);
    await prisma.$transaction((tx) => recordEvent(tx, TrainingEvents.sessionCompleted, { aggregateId: 'committed', organizationId: ORG, payload: completed('committed', 60) }));
    expect(await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: 'committed' } })).toMatchObject({ source: 'training', type: 'training.session.completed', version: 1 });
  });

  it('refuses a type outside the catalogue and a payload that does not match its schema, rolling the change back', async () => {
    const prisma = database.prisma;
    const stray = defineEvent({ type: 'test.stray', version: 1, source: 'test', description: 'not catalogued', payload: z.object({}) });
    await expect(prisma.$transaction((tx) => recordEvent(tx, stray, { aggregateId: 'stray', payload: {} }))).rejects.toThrow(/not in the event catalogue/);
    const bad = { ...completed('bad', 50), score: { total: 150, subScores: [], flaggedErrors: [] } };
    await expect(prisma.$transaction((tx) => recordEvent(tx, TrainingEvents.sessionCompleted, { aggregateId: 'bad', organizationId: ORG, payload: bad }))).rejects.toThrow(/score\.total/);
    expect(await prisma.outboxEvent.count({ where: { aggregateId: { in: ['stray', 'bad'] } } })).toBe(0);
  });

  it('stores only the fields its schema names (nothing else can ride along)', async () => {
    const prisma = database.prisma;
    const payload = { ...completed('extra', 70), patientName: 'must not be stored' };
    await prisma.$transaction((tx) => recordEvent(tx, TrainingEvents.sessionCompleted, { aggregateId: 'extra', organizationId: ORG, payload }));
    const stored = await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: 'extra' } });
    expect(JSON.stringify(stored.payload)).not.toContain('must not be stored');
  });

  it('relays each event once: published, fanned out to matching endpoints only', async () => {
    const prisma = database.prisma;
    const pubsub = new MemoryPubSub();
    const relay = new OutboxRelay({ prisma, pubsub, log });
    while ((await relay.relayOnce()) + (await relay.publishOnce()) > 0); // drain what earlier tests left
    const everything = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, url: 'http://127.0.0.1:9/x', secret: SECRET, eventTypes: ['*'], active: false } });
    const partnerA = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, partnerId: 'partner-a', url: 'http://127.0.0.1:9/a', secret: SECRET, eventTypes: ['training.session.completed'] } });
    const otherOrg = await prisma.webhookEndpoint.create({ data: { organizationId: 'another-org', url: 'http://127.0.0.1:9/o', secret: SECRET, eventTypes: ['*'] } });
    const listener = pubsub.subscribe<RelayedEvent>(eventTopic('training.session.completed'));

    await prisma.$transaction(async (tx) => {
      await recordEvent(tx, TrainingEvents.sessionCompleted, { aggregateId: 's1', organizationId: ORG, partnerId: 'partner-a', payload: completed('s1', 80) });
      await recordEvent(tx, TrainingEvents.sessionCompleted, { aggregateId: 's2', organizationId: ORG, partnerId: 'partner-b', payload: completed('s2', 70) });
      await recordEvent(tx, TrainingEvents.sessionStarted, { aggregateId: 's3', organizationId: ORG, partnerId: 'partner-a', payload: { sessionId: 's3', cohortId: 'cohort-1', learnerId: 'learner-1' } });
    });
    expect(await relay.relayOnce()).toBe(3);
    expect(await relay.relayOnce()).toBe(0);
    expect(await relay.publishOnce()).toBe(3);
    expect(await relay.publishOnce()).toBe(0);

    const first = await listener.next();
    expect(first.value).toMatchObject({ type: 'training.session.completed', version: 1, aggregateId: 's1', payload: { score: { total: 80 } } });
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
    const endpoint = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, url: receiver.url, secret: SECRET, eventTypes: ['payment.deposit.paid'] } });
    const relay = new OutboxRelay({ prisma, pubsub: new MemoryPubSub(), log });
    const dispatcher = new WebhookDispatcher({ prisma, log, baseDelayMs: 30, maxDelayMs: 200, maxAttempts: 20, pollIntervalMs: 20 });
    const port = receiver.port;
    await receiver.stop(); // down: connection refused

    await prisma.$transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await recordEvent(tx, BillingEvents.depositPaid, { aggregateId: `p${i}`, organizationId: ORG, payload: depositPaid(i) });
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
    const payloads = [...receiver.seen.values()].map((r) => (JSON.parse(r.body) as { event: { payload: { amount: number } } }).event.payload.amount).sort();
    expect(payloads).toEqual([100, 101, 102, 103, 104]);
    for (const { body, signature } of receiver.seen.values()) {
      expect(verifyWebhookSignature(SECRET, signature, body)).toEqual({ ok: true });
    }
  });

  it('dead-letters after the last attempt and replays on request with the same delivery id', async () => {
    const prisma = database.prisma;
    const receiver = new Receiver();
    await receiver.start();
    receiver.failuresLeft = 1_000;
    const endpoint = await prisma.webhookEndpoint.create({ data: { organizationId: ORG, url: receiver.url, secret: SECRET, eventTypes: ['nurse.queue.changed'] } });
    await prisma.$transaction((tx) => recordEvent(tx, NurseEvents.queueChanged, { aggregateId: 'q1', organizationId: ORG, payload: queueEscalated }));
    await new OutboxRelay({ prisma, pubsub: new MemoryPubSub(), log }).relayOnce();
    const dispatcher = new WebhookDispatcher({ prisma, log, baseDelayMs: 10, maxDelayMs: 40, maxAttempts: 3, pollIntervalMs: 15 });
    dispatcher.start();
    await until(async () => (await prisma.webhookDelivery.count({ where: { endpointId: endpoint.id, status: 'DEAD' } })) === 1);
    const dead = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(dead).toMatchObject({ attempts: 3, lastStatusCode: 503, lastError: 'HTTP 503' });
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

  it('records the real error of a failed attempt', async () => {
    const prisma = database.prisma;
    const receiver = new Receiver();
    await receiver.start();
    const url = receiver.url;
    await receiver.stop(); // nothing listens there any more
    const endpoint = await prisma.webhookEndpoint.create({ data: { organizationId: 'org-refused', url, secret: SECRET, eventTypes: ['*'] } });
    await prisma.$transaction((tx) => recordEvent(tx, NurseEvents.queueChanged, { aggregateId: 'q-refused', organizationId: 'org-refused', payload: { ...queueEscalated, organizationId: 'org-refused' } }));
    await new OutboxRelay({ prisma, pubsub: new MemoryPubSub(), log }).relayOnce();
    const dispatcher = new WebhookDispatcher({ prisma, log, maxAttempts: 1 });
    await dispatcher.dispatchOnce();
    const delivery = await prisma.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
    expect(delivery.status).toBe('DEAD');
    expect(delivery.lastError).toMatch(/^TypeError: fetch failed \(ECONNREFUSED\)$/);
  });

  it('retries over hours by default before dead-lettering', () => {
    const dispatcher = new WebhookDispatcher({ prisma: database.prisma, log });
    let total = 0;
    for (let attempts = 1; attempts < 12; attempts++) total += dispatcher.backoffMs(attempts);
    expect(total).toBeGreaterThan(2 * 3600_000);
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

describe('live publishing', () => {
  /** A pubsub that is down until `up` is set. */
  class FlakyPubSub extends MemoryPubSub implements PubSub {
    up = false;
    override async publish(topic: string, payload: unknown): Promise<boolean> {
      return this.up ? super.publish(topic, payload) : false;
    }
  }

  it('keeps events while the pubsub is down and publishes them, in order, once it is back', async () => {
    const prisma = database.prisma;
    const pubsub = new FlakyPubSub();
    const relay = new OutboxRelay({ prisma, pubsub, log });
    while ((await relay.relayOnce()) + (await new OutboxRelay({ prisma, pubsub: new MemoryPubSub(), log }).publishOnce()) > 0);
    const listener = pubsub.subscribe<RelayedEvent>(eventTopic('payment.balance.paid'));
    await prisma.$transaction(async (tx) => {
      for (const i of [1, 2, 3]) await recordEvent(tx, BillingEvents.balancePaid, { aggregateId: `late-${i}`, organizationId: ORG, payload: { ...depositPaid(i), kind: 'BALANCE' } });
    });
    expect(await relay.relayOnce()).toBe(3);
    expect(await relay.publishOnce()).toBe(0);
    expect(await prisma.outboxEvent.count({ where: { aggregateId: { startsWith: 'late-' }, publishedAt: null } })).toBe(3);
    pubsub.up = true;
    expect(await relay.publishOnce()).toBe(3);
    const received = [];
    for (let i = 0; i < 3; i++) received.push(((await listener.next()).value as RelayedEvent).aggregateId);
    expect(received).toEqual(['late-1', 'late-2', 'late-3']);
    await listener.return?.();
  });

  it('does not send events older than the live window after an outage', async () => {
    const prisma = database.prisma;
    const pubsub = new MemoryPubSub();
    const relay = new OutboxRelay({ prisma, pubsub, log, maxLiveAgeSeconds: 60 });
    while ((await relay.relayOnce()) + (await relay.publishOnce()) > 0);
    const listener = pubsub.subscribe<RelayedEvent>(eventTopic('payment.tele_fee.paid'));
    const { id } = await prisma.$transaction((tx) => recordEvent(tx, BillingEvents.teleFeePaid, { aggregateId: 'stale', organizationId: ORG, payload: { ...depositPaid(9), kind: 'TELE_FEE' } }));
    await prisma.outboxEvent.update({ where: { id }, data: { occurredAt: new Date(Date.now() - 3600_000) } });
    await relay.relayOnce();
    expect(await relay.publishOnce()).toBe(1);
    expect((await prisma.outboxEvent.findUniqueOrThrow({ where: { id } })).publishedAt).not.toBeNull();
    const next = await Promise.race([listener.next(), new Promise((resolve) => setTimeout(() => resolve('nothing'), 100))]);
    expect(next).toBe('nothing');
    await listener.return?.();
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
