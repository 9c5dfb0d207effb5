import type { SubgraphDeps } from '../context.js';
import type { Prisma, PrismaClient } from '../../../prisma/generated/client/client.js';
import type { Logger } from '../logger.js';
import { Poller } from '../poller.js';
import { describeIssues, toRelayed, type RelayedEvent, type TransactionClient } from '../outbox.js';
import { isCatalogued } from './catalogue.js';
import type { EventDefinition, EventPayload } from './define.js';

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
  /** One handler per event type of the catalogue it reacts to. */
  handlers: readonly EventHandler[];
  /**
   * Runs first in that transaction, before the claim: where a consumer takes a lock that a
   * maintenance job (a read-model rebuild) holds exclusively. Taken after the claim instead,
   * the job would wait on the claimed row while the consumer waits on the job: a deadlock.
   */
  beforeClaim?(tx: TransactionClient): Promise<void>;
}

/** An event as a handler sees it: the envelope, and the payload parsed against its type's schema. */
export interface ConsumedEvent<Payload> extends Omit<RelayedEvent, 'payload'> {
  payload: Payload;
}

export interface EventHandler<E extends EventDefinition = EventDefinition> {
  readonly definition: E;
  /**
   * Runs inside the transaction that records the event as consumed. Throwing retries it later;
   * MalformedEvent skips it. `deps` are the subgraph's (its settings), when it runs in one.
   */
  handle(event: ConsumedEvent<EventPayload<E>>, tx: TransactionClient, deps?: SubgraphDeps): Promise<void>;
}

/** Pairs an event type with its handler: `on(ChatEvents.redFlagRaised, async (event, tx) => …)`. */
export function on<E extends EventDefinition>(definition: E, handle: (event: ConsumedEvent<EventPayload<E>>, tx: TransactionClient, deps?: SubgraphDeps) => Promise<void>): EventHandler<E> {
  if (!isCatalogued(definition)) throw new Error(`event type ${definition.type} is not in the event catalogue`);
  return { definition, handle };
}

export const consumedTypes = (consumer: Pick<EventConsumer, 'handlers'>): string[] => consumer.handlers.map((h) => h.definition.type);

/**
 * An event whose payload lacks what its type promises. Retrying cannot help, so the runner
 * rolls back what the handler wrote, records the event as consumed with the reason and logs
 * the skip (event id, type and the problem: never payload values). The runner raises it
 * itself when a payload does not match its type's schema; a handler raises it for what a
 * schema cannot say (an amount that contradicts another field, say).
 */
export class MalformedEvent extends Error {}

/**
 * Parses a relayed event for its handler. A payload that does not match the schema, or a
 * version the handler's definition does not know, is a MalformedEvent.
 */
export function parseEvent<E extends EventDefinition>(definition: E, event: RelayedEvent): ConsumedEvent<EventPayload<E>> {
  if (event.type !== definition.type) throw new MalformedEvent(`expected ${definition.type}, got ${event.type}`);
  if (event.version !== definition.version) throw new MalformedEvent(`${event.type} version ${event.version} is not understood (expects ${definition.version})`);
  const parsed = definition.payload.safeParse(event.payload);
  if (!parsed.success) throw new MalformedEvent(describeIssues(parsed.error));
  return { ...event, payload: parsed.data as EventPayload<E> };
}

/** Runs the consumer's handler for one event (parsing it first); events of other types are ignored. */
export async function dispatchEvent(consumer: Pick<EventConsumer, 'handlers'>, event: RelayedEvent, tx: TransactionClient, deps?: SubgraphDeps): Promise<void> {
  const handler = consumer.handlers.find((h) => h.definition.type === event.type);
  if (handler) await handler.handle(parseEvent(handler.definition, event), tx, deps);
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
  /** The subgraph's, handed to handlers that need its settings. */
  deps?: SubgraphDeps;
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
      WHERE e.seq > ${lowWater} AND e.type = ANY(${consumedTypes(consumer)}::text[])
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
          await dispatchEvent(consumer, toRelayed(event), tx, this.options.deps);
          return true;
        });
      } catch (error) {
        if (!(error instanceof MalformedEvent)) throw error;
        // Retrying cannot fix a payload: the handler's writes were rolled back; only the claim is kept, and the skip is logged.
        this.options.log.warn({ consumer: consumer.name, eventId: id, eventType: event.type, problem: error.message }, 'malformed event skipped');
        done = await prisma.$transaction(async (tx) => {
          await consumer.beforeClaim?.(tx);
          return (await tx.eventConsumption.createMany({ data: [{ ...claim, skippedReason: error.message.slice(0, 1000) }], skipDuplicates: true })).count > 0;
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
      WHERE e.seq > ${lowWater} AND e.seq <= ${settled} AND e.type = ANY(${consumedTypes(consumer)}::text[])
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

/**
 * Applies `consumer`'s waiting events now, in the caller's request (a record announced a moment
 * ago that the caller asks about). Bounded: a long backlog is the live consumer's to work
 * through. Both claim events the same way, so neither applies one twice.
 */
export async function catchUp(prisma: PrismaClient, log: Logger, consumer: EventConsumer, maxBatches = 20, deps?: SubgraphDeps): Promise<void> {
  const runner = new EventConsumerRunner({ prisma, log, consumers: [consumer], ...(deps ? { deps } : {}) });
  for (let batch = 0; batch < maxBatches && (await runner.consumeOnce(consumer)) > 0; batch += 1);
}
