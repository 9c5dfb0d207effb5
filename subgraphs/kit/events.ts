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
  /**
   * Runs first in that transaction, before the claim: where a consumer takes a lock that a
   * maintenance job (a read-model rebuild) holds exclusively. Taken after the claim instead,
   * the job would wait on the claimed row while the consumer waits on the job: a deadlock.
   */
  beforeClaim?(tx: TransactionClient): Promise<void>;
}

/**
 * An event whose payload lacks what its type promises. Retrying cannot help, so the runner
 * rolls back what the handler wrote, records the event as consumed and logs the skip
 * (event id, type and the problem: never payload values).
 */
export class MalformedEvent extends Error {}

type JsonObject = Prisma.JsonObject;

/** Typed reads from an event's payload; a missing or mistyped field throws MalformedEvent naming the field. */
export class PayloadReader {
  private readonly payload: JsonObject;

  constructor(event: Pick<RelayedEvent, 'payload' | 'type'>) {
    const payload = event.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new MalformedEvent(`${event.type}: payload is not an object`);
    this.payload = payload;
  }

  private problem(field: string, expected: string): MalformedEvent {
    return new MalformedEvent(`${field} is not ${expected}`);
  }

  string(field: string): string {
    const value = this.payload[field];
    if (typeof value !== 'string' || value === '') throw this.problem(field, 'a non-empty string');
    return value;
  }

  optionalString(field: string): string | null {
    const value = this.payload[field];
    return value === undefined || value === null ? null : this.string(field);
  }

  /** A whole number within PostgreSQL's integer range (what an Int column takes). */
  integer(field: string): number {
    const value = this.payload[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > 2_147_483_647) throw this.problem(field, 'a 32-bit integer');
    return value;
  }

  optionalInteger(field: string): number | null {
    const value = this.payload[field];
    return value === undefined || value === null ? null : this.integer(field);
  }

  date(field: string): Date {
    const date = new Date(this.string(field));
    if (Number.isNaN(date.getTime())) throw this.problem(field, 'an ISO-8601 time');
    return date;
  }

  optionalDate(field: string): Date | null {
    const value = this.payload[field];
    return value === undefined || value === null ? null : this.date(field);
  }

  /** An array of objects, each read with `read` (which may throw MalformedEvent itself). */
  objects<T>(field: string, read: (item: PayloadReader) => T): T[] {
    const value = this.payload[field];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw this.problem(field, 'an array');
    return value.map((item, index) => read(new PayloadReader({ payload: item, type: `${field}[${index}]` })));
  }

  /** A nested object, or null when absent. */
  optionalObject(field: string): PayloadReader | null {
    const value = this.payload[field];
    return value === undefined || value === null ? null : new PayloadReader({ payload: value, type: field });
  }
}

/**
 * A transaction can commit an event with a lower seq after a later one is visible; only
 * events older than this move the cursor, so none is stepped over.
 */
const DEFAULT_SETTLE_SECONDS = 60;
const SETTLE_EVERY_MS = 5_000;

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
  private lastSettled = 0;

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
    // The cursor only saves work on the next query; moving it every few seconds is plenty.
    const settleNow = Date.now() - this.lastSettled >= SETTLE_EVERY_MS;
    if (settleNow) this.lastSettled = Date.now();
    for (const consumer of this.options.consumers) {
      try {
        processed += await this.consumeOnce(consumer);
        if (settleNow) await this.settle(consumer);
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
      const claim = { consumer: consumer.name, eventId: id };
      let done: boolean;
      try {
        done = await prisma.$transaction(async (tx) => {
          await consumer.beforeClaim?.(tx);
          // Claim first: a concurrent instance that got here too fails on the key and backs off.
          const claimed = await tx.eventConsumption.createMany({ data: [claim], skipDuplicates: true });
          if (claimed.count === 0) return false;
          await consumer.handle(toRelayed(event), tx);
          return true;
        });
      } catch (error) {
        if (!(error instanceof MalformedEvent)) throw error;
        // Retrying cannot fix a payload: the handler's writes were rolled back; only the claim is kept, and the skip is logged.
        this.options.log.warn({ consumer: consumer.name, eventId: id, eventType: event.type, problem: error.message }, 'malformed event skipped');
        done = await prisma.$transaction(async (tx) => {
          await consumer.beforeClaim?.(tx);
          return (await tx.eventConsumption.createMany({ data: [claim], skipDuplicates: true })).count > 0;
        });
      }
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
