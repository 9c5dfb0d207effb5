import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EventConsumerRunner, MalformedEvent, on, resetConsumer, type EventConsumer } from '../../subgraphs/kit/events/consumers.js';
import { BillingEvents } from '../../subgraphs/kit/events/billing.js';
import { ChatEvents } from '../../subgraphs/kit/events/chat.js';
import { defineEvent } from '../../subgraphs/kit/events/define.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { recordEvent, type TransactionClient } from '../../subgraphs/kit/outbox.js';
import { openTestDatabase } from '../support/database.js';

const log = createLogger('events-test', 'silent');
let database: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.closeAll();
});

/** A consumer of red flags whose effect is a row in a real table (so rollbacks are visible), plus a log of calls. */
function redFlagConsumer(name: string, failFirst = 0, check?: (messageId: string) => void): EventConsumer & { calls: string[] } {
  let failures = failFirst;
  const calls: string[] = [];
  const effect = async (tx: TransactionClient, eventId: string, aggregateId: string): Promise<void> => {
    calls.push(aggregateId);
    await tx.auditEvent.create({ data: { source: 'test', actorKind: 'service', action: `consumed-by-${name}`, entityType: 'Event', entityId: eventId } });
    if (failures > 0) {
      failures -= 1;
      throw new Error('transient failure');
    }
  };
  return {
    name,
    calls,
    handlers: [
      on(ChatEvents.redFlagRaised, async (event, tx) => {
        check?.(event.payload.messageId);
        // The payload is parsed and typed: a consumer reads it without checking shapes.
        expect(event.payload.flags[0]?.urgency).toMatch(/critical|high/);
        await effect(tx, event.id, event.aggregateId);
      }),
    ],
  };
}

const effects = (name: string): Promise<number> => database.prisma.auditEvent.count({ where: { action: `consumed-by-${name}` } });
const redFlag = (aggregateId: string, messageId: string = randomUUID()) =>
  database.prisma.$transaction((tx) =>
    recordEvent(tx, ChatEvents.redFlagRaised, {
      aggregateId, organizationId: 'org',
      payload: { sessionId: aggregateId, messageId, patientId: 'patient-1', organizationId: 'org', flags: [{ code: 'CHEST_PAIN', urgency: 'critical' }] },
    }),
  );
const deposit = (aggregateId: string) =>
  database.prisma.$transaction((tx) =>
    recordEvent(tx, BillingEvents.depositPaid, {
      aggregateId, organizationId: 'org',
      payload: { paymentId: aggregateId, invoiceId: 'i1', patientId: 'p1', organizationId: 'org', kind: 'DEPOSIT', amount: 100, currency: 'NGN', invoiceStatus: 'PARTIALLY_PAID' },
    }),
  );
/** A row the outbox API would refuse, written straight to the table (an old or broken producer). */
const rawEvent = (type: string, payload: object, version = 1) =>
  database.prisma.outboxEvent.create({ data: { source: 'test', type, version, aggregateId: randomUUID(), organizationId: 'org', payload } });

describe('durable event consumers', () => {
  it('process each event of their types once, even with two instances and repeated passes', async () => {
    await redFlag('a1');
    await redFlag('a2');
    await deposit('ignored');
    const consumer = redFlagConsumer('nurse-queue');
    const one = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    const two = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    const counts = await Promise.all([one.consumeOnce(consumer), two.consumeOnce(consumer)]);
    expect(counts[0] + counts[1]).toBe(2);
    expect(await one.consumeOnce(consumer)).toBe(0);
    expect(await effects('nurse-queue')).toBe(2);
    expect(new Set(consumer.calls)).toEqual(new Set(['a1', 'a2']));
  });

  it('leave a failed event unconsumed, with none of its effects, and process it on the next pass', async () => {
    const consumer = redFlagConsumer('flaky', 1);
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    while (consumer.calls.length === 0) await runner.consumeOnce(consumer).catch(() => 0);
    expect(await effects('flaky')).toBe(0);
    while ((await runner.consumeOnce(consumer)) > 0);
    expect(await effects('flaky')).toBe(consumer.calls.length - 1);
  });

  it('skip a payload that does not match its type, or a version they do not know, and record why', async () => {
    const broken = await rawEvent(ChatEvents.redFlagRaised.type, { sessionId: 's', messageId: 'm', patientId: 'p', organizationId: 'org', flags: [] });
    const future = await rawEvent(ChatEvents.redFlagRaised.type, { sessionId: 's', messageId: 'm', patientId: 'p', organizationId: 'org', flags: [{ code: 'X', urgency: 'high' }] }, 2);
    const refused = await redFlag('refused-by-handler', 'poison');
    const consumer = redFlagConsumer('strict', 0, (messageId) => {
      if (messageId === 'poison') throw new MalformedEvent('the message id names no message');
    });
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    while ((await runner.consumeOnce(consumer)) > 0);
    const skipped = await database.prisma.eventConsumption.findMany({ where: { consumer: 'strict', skippedReason: { not: null } } });
    const reasons = new Map(skipped.map((s) => [s.eventId, s.skippedReason]));
    expect(reasons.get(broken.id)).toMatch(/flags/);
    expect(reasons.get(future.id)).toMatch(/version 2/);
    expect(reasons.get(refused.id)).toBe('the message id names no message');
    // Nothing of the skipped events was applied; the well-formed ones were.
    expect(consumer.calls).not.toContain('refused-by-handler');
    expect(consumer.calls.length).toBeGreaterThanOrEqual(2);
    expect(await effects('strict')).toBe(consumer.calls.length);
  });

  it('refuse, at definition time, a handler for a type outside the catalogue', () => {
    const stray = defineEvent({ type: 'chat.red_flag.raised', version: 1, source: 'chat', description: 'a look-alike', payload: z.object({}) });
    expect(() => on(stray, async () => undefined)).toThrow(/not in the event catalogue/);
  });

  it('reprocess every retained event after a reset (read-model rebuilds), and settle their cursor', async () => {
    const consumer = redFlagConsumer('rebuildable');
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer], settleSeconds: 0 });
    while ((await runner.consumeOnce(consumer)) > 0);
    const firstPass = consumer.calls.length;
    expect(firstPass).toBeGreaterThanOrEqual(2);
    await runner.settle(consumer);
    const cursor = await database.prisma.eventConsumerCursor.findUniqueOrThrow({ where: { consumer: 'rebuildable' } });
    expect(cursor.lowWater > 0n).toBe(true);
    await resetConsumer(database.prisma, 'rebuildable');
    while ((await runner.consumeOnce(consumer)) > 0);
    expect(consumer.calls.length).toBe(2 * firstPass);
  });

  it('run in the background once started, and stop cleanly', async () => {
    const calls: string[] = [];
    const consumer: EventConsumer = { name: 'background', handlers: [on(TrainingEvents.learnerDataDeleted, async (event) => void calls.push(event.payload.cohortId))] };
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer], pollIntervalMs: 20 });
    runner.start();
    await database.prisma.$transaction((tx) => recordEvent(tx, TrainingEvents.learnerDataDeleted, { aggregateId: 'c1', organizationId: 'org', partnerId: 'p', payload: { cohortId: 'c1', sessions: 0, learners: 0 } }));
    const deadline = Date.now() + 5_000;
    while (calls.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    expect(calls).toEqual(['c1']);
  });
});
