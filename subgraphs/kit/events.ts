import type { Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import type { Logger } from './logger.js';
import { Poller } from './poller.js';
import { toRelayed, type RelayedEvent, type TransactionClient } from './outbox.js';

/**
 * Durable consumers of domain events: how one subgraph reacts to another's events (a chat
 * red flag becomes a nurse queue entry; read models follow the domains). Consumers read the
 * outbox directly, so nothing depends on a live pubsub message arriving. Each event is
 * processed in a transaction that also records it as consumed: an event seen twice (two
 * instances, a retry, a crash between steps) changes nothing the second time.
 */
export interface EventConsumer {
  /** Stable name: consumption is recorded under it. */
  name: string;
  eventTypes: string[];
  /** Runs inside the transaction that records the event as consumed. Throwing retries it later. */
  handle(event: RelayedEvent, tx: TransactionClient): Promise<void>;
}

/**
 * A transaction can commit an event with a lower seq after a later one is visible; only
 * events older than this move the cursor, so none is stepped over.
 */
const DEFAULT_SETTLE_SECONDS = 60;

export interface ConsumerRunnerOptions {
  prisma: PrismaClient;
  log: Logger;
  consumers: EventConsumer[];
  batchSize?: number;
  pollIntervalMs?: number;
  settleSeconds?: number;
}

export class EventConsumerRunner {
  private readonly poller: Poller;
  private readonly batchSize: number;

  constructor(private readonly options: ConsumerRunnerOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.poller = new Poller('event-consumers', options.pollIntervalMs ?? 250, () => this.step(), options.log);
  }

  start(): void {
    if (this.options.consumers.length > 0) this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One pass over every consumer; a failing consumer does not hold the others up. */
  private async step(): Promise<number> {
    let processed = 0;
    for (const consumer of this.options.consumers) {
      try {
        processed += await this.consumeOnce(consumer);
        await this.settle(consumer);
      } catch (error) {
        this.options.log.error({ err: error, consumer: consumer.name }, 'event consumer failed');
      }
    }
    return processed;
  }

  /** Processes the next batch of unconsumed events for `consumer`; returns how many it processed. */
  async consumeOnce(consumer: EventConsumer): Promise<number> {
    const { prisma } = this.options;
    const lowWater = (await prisma.eventConsumerCursor.findUnique({ where: { consumer: consumer.name } }))?.lowWater ?? 0n;
    const pending = await prisma.$queryRaw<Array<{ id: string }>>`
      SELECT e.id FROM "platform"."OutboxEvent" e
      WHERE e.seq > ${lowWater} AND e.type = ANY(${consumer.eventTypes}::text[])
        AND NOT EXISTS (SELECT 1 FROM "platform"."EventConsumption" c WHERE c.consumer = ${consumer.name} AND c."eventId" = e.id)
      ORDER BY e.seq
      LIMIT ${this.batchSize}`;
    let processed = 0;
    for (const { id } of pending) {
      const event = await prisma.outboxEvent.findUniqueOrThrow({ where: { id } });
      const done = await prisma.$transaction(async (tx) => {
        // Claim first: a concurrent instance that got here too fails on the key and backs off.
        const claimed = await tx.eventConsumption.createMany({ data: [{ consumer: consumer.name, eventId: id }], skipDuplicates: true });
        if (claimed.count === 0) return false;
        await consumer.handle(toRelayed(event), tx);
        return true;
      });
      if (done) processed += 1;
    }
    return processed;
  }

  /** Moves the cursor past settled events once none of them is left unconsumed. */
  async settle(consumer: EventConsumer): Promise<void> {
    const { prisma } = this.options;
    const lowWater = (await prisma.eventConsumerCursor.findUnique({ where: { consumer: consumer.name } }))?.lowWater ?? 0n;
    const settledRows = await prisma.$queryRaw<Array<{ settled: bigint | null }>>`
      SELECT max(seq) AS settled FROM "platform"."OutboxEvent" WHERE "occurredAt" < now() - make_interval(secs => ${this.options.settleSeconds ?? DEFAULT_SETTLE_SECONDS})`;
    const settled = settledRows[0]?.settled ?? null;
    if (settled === null || settled <= lowWater) return;
    const openRows = await prisma.$queryRaw<Array<{ open: bigint }>>`
      SELECT count(*) AS open FROM "platform"."OutboxEvent" e
      WHERE e.seq > ${lowWater} AND e.seq <= ${settled} AND e.type = ANY(${consumer.eventTypes}::text[])
        AND NOT EXISTS (SELECT 1 FROM "platform"."EventConsumption" c WHERE c.consumer = ${consumer.name} AND c."eventId" = e.id)`;
    if ((openRows[0]?.open ?? 0n) > 0n) return;
    await prisma.eventConsumerCursor.upsert({ where: { consumer: consumer.name }, create: { consumer: consumer.name, lowWater: settled }, update: { lowWater: settled } });
  }
}

/** Forgets what a consumer has processed, so it reprocesses every retained event (read-model rebuilds). */
export async function resetConsumer(prisma: PrismaClient | Prisma.TransactionClient, name: string): Promise<void> {
  await prisma.eventConsumption.deleteMany({ where: { consumer: name } });
  await prisma.eventConsumerCursor.deleteMany({ where: { consumer: name } });
}
