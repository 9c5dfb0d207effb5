import { EventConsumerRunner, resetConsumer, type EventConsumer } from '../../subgraphs/kit/events.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { openTestDatabase } from '../support/database.js';
import { recordEvent, type RelayedEvent } from '../../subgraphs/kit/outbox.js';

const log = createLogger('events-test', 'silent');
let database: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.closeAll();
});

/** A consumer whose effect is a row in a real table (so rollbacks are visible), plus a log of calls. */
function auditingConsumer(name: string, types: string[], failFirst = 0): EventConsumer & { calls: string[] } {
  let failures = failFirst;
  const calls: string[] = [];
  return {
    name,
    eventTypes: types,
    calls,
    async handle(event: RelayedEvent, tx) {
      calls.push(event.aggregateId);
      await tx.auditEvent.create({ data: { source: 'test', actorKind: 'service', action: `consumed-by-${name}`, entityType: 'Event', entityId: event.id } });
      if (failures > 0) {
        failures -= 1;
        throw new Error('transient failure');
      }
    },
  };
}

const effects = (name: string): Promise<number> => database.prisma.auditEvent.count({ where: { action: `consumed-by-${name}` } });
const emit = (type: string, aggregateId: string): Promise<unknown> =>
  database.prisma.$transaction((tx) => recordEvent(tx, { source: 'test', type, aggregateId, organizationId: 'org', payload: { aggregateId } }));

describe('durable event consumers', () => {
  it('process each event of their types once, even with two instances and repeated passes', async () => {
    await emit('chat.red_flag.raised', 'a1');
    await emit('chat.red_flag.raised', 'a2');
    await emit('chat.message.sent', 'ignored');
    const consumer = auditingConsumer('nurse-queue', ['chat.red_flag.raised']);
    const one = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    const two = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    const counts = await Promise.all([one.consumeOnce(consumer), two.consumeOnce(consumer)]);
    expect(counts[0] + counts[1]).toBe(2);
    expect(await one.consumeOnce(consumer)).toBe(0);
    expect(await effects('nurse-queue')).toBe(2);
    expect(new Set(consumer.calls)).toEqual(new Set(['a1', 'a2']));
  });

  it('leave a failed event unconsumed, with none of its effects, and process it on the next pass', async () => {
    await emit('billing.payment.paid', 'p1');
    const consumer = auditingConsumer('flaky', ['billing.payment.paid'], 1);
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer] });
    await expect(runner.consumeOnce(consumer)).rejects.toThrow('transient failure');
    expect(await effects('flaky')).toBe(0);
    expect(await runner.consumeOnce(consumer)).toBe(1);
    expect(await effects('flaky')).toBe(1);
  });

  it('reprocess every retained event after a reset (read-model rebuilds), and settle their cursor', async () => {
    const consumer = auditingConsumer('rebuildable', ['chat.red_flag.raised']);
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
    const consumer = auditingConsumer('background', ['training.session.completed']);
    const runner = new EventConsumerRunner({ prisma: database.prisma, log, consumers: [consumer], pollIntervalMs: 20 });
    runner.start();
    await emit('training.session.completed', 's1');
    const deadline = Date.now() + 5_000;
    while ((await effects('background')) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await runner.stop();
    expect(consumer.calls).toEqual(['s1']);
  });
});
