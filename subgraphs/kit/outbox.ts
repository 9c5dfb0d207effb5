import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import type { Logger } from './logger.js';
import { isCatalogued } from './events/catalogue.js';
import type { EventDefinition, EventPayload } from './events/define.js';
import { Poller } from './poller.js';
import type { PubSub } from './pubsub.js';

/**
 * The transactional outbox. A service records its domain events with `recordEvent` inside the
 * transaction that changes its state, so an event exists exactly when the change does. The
 * relay then publishes each event to the pubsub (live subscriptions, caches) and fans it out to
 * webhook deliveries, which the dispatcher sends, signed, with retries and a dead letter.
 * Nothing is lost silently: every event stays in the outbox, every delivery has a state.
 */

export type TransactionClient = Prisma.TransactionClient;

/** Where an event belongs: the record it is about, and who may hear of it. */
export interface EventEnvelope<Payload> {
  aggregateId: string;
  organizationId?: string | null;
  /** Set when only one partner may receive it (events about a partner's cohort, say). */
  partnerId?: string | null;
  payload: Payload;
}

export interface RelayedEvent {
  id: string;
  seq: string;
  source: string;
  type: string;
  version: number;
  aggregateId: string;
  organizationId: string | null;
  partnerId: string | null;
  payload: Prisma.JsonValue;
  occurredAt: string;
}

/**
 * Records an event of the catalogue (subgraphs/kit/events/). Call it inside the transaction that
 * makes the change: `prisma.$transaction(async (tx) => { …; await recordEvent(tx, TrainingEvents.sessionCompleted, {…}) })`.
 * A type that is not the catalogue's, or a payload that does not match its schema, is a bug: it
 * throws, and the transaction (the change with it) rolls back. Only the schema's fields are
 * stored, so nothing the schema does not name (a patient's words, say) can ride along.
 */
export async function recordEvent<E extends EventDefinition>(tx: TransactionClient, definition: E, event: EventEnvelope<EventPayload<E>>): Promise<{ id: string }> {
  if (!isCatalogued(definition)) throw new Error(`event type ${definition.type} is not in the event catalogue`);
  const parsed = definition.payload.safeParse(event.payload);
  if (!parsed.success) throw new Error(`${definition.type} payload does not match its schema: ${describeIssues(parsed.error)}`);
  return tx.outboxEvent.create({
    data: {
      source: definition.source,
      type: definition.type,
      version: definition.version,
      aggregateId: event.aggregateId,
      organizationId: event.organizationId ?? null,
      partnerId: event.partnerId ?? null,
      payload: parsed.data as Prisma.InputJsonValue,
    },
    select: { id: true },
  });
}

/**
 * `recordEvent` for many events of one type at once (a batch of claims): each payload is
 * checked the same way, and they are written in one statement, in the order given.
 */
export async function recordEventsOf<E extends EventDefinition>(tx: TransactionClient, definition: E, events: ReadonlyArray<EventEnvelope<EventPayload<E>>>): Promise<void> {
  if (!isCatalogued(definition)) throw new Error(`event type ${definition.type} is not in the event catalogue`);
  if (events.length === 0) return;
  const rows = events.map((event) => {
    const parsed = definition.payload.safeParse(event.payload);
    if (!parsed.success) throw new Error(`${definition.type} payload does not match its schema: ${describeIssues(parsed.error)}`);
    return { id: randomUUID(), aggregateId: event.aggregateId, organizationId: event.organizationId ?? null, partnerId: event.partnerId ?? null, payload: parsed.data };
  });
  // One statement whatever the number (the rows as one JSON parameter): Prisma's createMany
  // costs about a fifth of a millisecond a row here, which a batch of thousands feels. Rows
  // get their seq in the order given.
  await tx.$executeRaw`
    INSERT INTO "platform"."OutboxEvent" ("id", "source", "type", "version", "aggregateId", "organizationId", "partnerId", "payload")
    SELECT e.value->>'id', ${definition.source}::text, ${definition.type}::text, ${definition.version}::int, e.value->>'aggregateId', e.value->>'organizationId', e.value->>'partnerId', e.value->'payload'
    FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) WITH ORDINALITY AS e(value, position)
    ORDER BY e.position`;
}

/** Which fields failed and how (zod's messages name the expectation, never the value). */
export function describeIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || '(payload)'}: ${issue.message}`).join('; ');
}

/** The pubsub topic an event type is published on. */
export const eventTopic = (type: string): string => `events:${type}`;

// ---------------------------------------------------------------- relay

export interface RelayOptions {
  prisma: PrismaClient;
  pubsub: PubSub;
  log: Logger;
  batchSize?: number;
  pollIntervalMs?: number;
}

/** A worker whose `step` runs on a poller: start, wake after a commit, stop. */
abstract class PolledWorker {
  private readonly poller: Poller;

  protected constructor(name: string, intervalMs: number, log: Logger) {
    this.poller = new Poller(name, intervalMs, () => this.step(), log);
  }

  protected abstract step(): Promise<number>;

  start(): void {
    this.poller.start();
  }

  wake(): void {
    this.poller.wake();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }
}

/** Live events older than this are not sent late after a pubsub outage: their subscribers were told they may have missed events. */
const DEFAULT_MAX_LIVE_AGE_SECONDS = 600;

export class OutboxRelay extends PolledWorker {
  private readonly batchSize: number;
  private readonly maxLiveAgeSeconds: number;

  constructor(private readonly options: RelayOptions & { maxLiveAgeSeconds?: number }) {
    super('outbox-relay', options.pollIntervalMs ?? 250, options.log);
    this.batchSize = options.batchSize ?? 100;
    this.maxLiveAgeSeconds = options.maxLiveAgeSeconds ?? DEFAULT_MAX_LIVE_AGE_SECONDS;
  }

  protected async step(): Promise<number> {
    const fannedOut = await this.relayOnce();
    const published = await this.publishOnce();
    return fannedOut + published;
  }

  /**
   * Claims a batch of events not yet fanned out (SKIP LOCKED: several relays can run side by
   * side; NO KEY UPDATE: a delivery inserted elsewhere for a claimed event takes a key-share
   * lock on it and must not wait on, or deadlock with, the claim), creates their webhook deliveries and marks them relayed, in one transaction.
   * Webhooks never wait for the pubsub. Returns how many it relayed.
   */
  async relayOnce(): Promise<number> {
    const { prisma } = this.options;
    return prisma.$transaction(async (tx) => {
      const claimed = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM "platform"."OutboxEvent"
        WHERE "relayedAt" IS NULL
        ORDER BY seq
        LIMIT ${this.batchSize}
        FOR NO KEY UPDATE SKIP LOCKED`;
      if (claimed.length === 0) return 0;
      const rows = await tx.outboxEvent.findMany({ where: { id: { in: claimed.map((c) => c.id) } }, orderBy: { seq: 'asc' } });
      const organizations = [...new Set(rows.map((r) => r.organizationId).filter((o): o is string => o !== null))];
      const endpoints = organizations.length
        ? await tx.webhookEndpoint.findMany({ where: { active: true, organizationId: { in: organizations } } })
        : [];
      const deliveries = rows.flatMap((event) =>
        endpoints
          .filter((endpoint) => endpointWants(endpoint, event))
          .map((endpoint) => ({ eventId: event.id, endpointId: endpoint.id })),
      );
      if (deliveries.length > 0) await tx.webhookDelivery.createMany({ data: deliveries, skipDuplicates: true });
      await tx.outboxEvent.updateMany({ where: { id: { in: rows.map((r) => r.id) } }, data: { relayedAt: new Date() } });
      return rows.length;
    });
  }

  /**
   * Publishes relayed events to live subscribers in seq order, marking each once sent. When the
   * pubsub is down it stops and the same events are tried again next time, so an outage delays
   * live events instead of dropping them; events older than `maxLiveAgeSeconds` are marked
   * without being sent (their subscribers were told they may have missed events).
   */
  async publishOnce(): Promise<number> {
    const { prisma, pubsub } = this.options;
    return prisma.$transaction(async (tx) => {
      const claimed = await tx.$queryRaw<Array<{ id: string }>>`
        SELECT id FROM "platform"."OutboxEvent"
        WHERE "publishedAt" IS NULL AND "relayedAt" IS NOT NULL
        ORDER BY seq
        LIMIT ${this.batchSize}
        FOR NO KEY UPDATE SKIP LOCKED`;
      if (claimed.length === 0) return 0;
      const rows = await tx.outboxEvent.findMany({ where: { id: { in: claimed.map((c) => c.id) } }, orderBy: { seq: 'asc' } });
      const tooOld = Date.now() - this.maxLiveAgeSeconds * 1000;
      const done: string[] = [];
      for (const event of rows) {
        if (event.occurredAt.getTime() >= tooOld && !(await pubsub.publish(eventTopic(event.type), toRelayed(event)))) break;
        done.push(event.id);
      }
      if (done.length > 0) await tx.outboxEvent.updateMany({ where: { id: { in: done } }, data: { publishedAt: new Date() } });
      // Nothing sent while the pubsub is down: report no progress, so the poller waits before retrying.
      return done.length;
    });
  }
}

function endpointWants(
  endpoint: { organizationId: string; partnerId: string | null; eventTypes: string[] },
  event: { organizationId: string | null; partnerId: string | null; type: string },
): boolean {
  if (endpoint.organizationId !== event.organizationId) return false;
  if (endpoint.partnerId !== null && endpoint.partnerId !== event.partnerId) return false;
  return endpoint.eventTypes.includes('*') || endpoint.eventTypes.includes(event.type);
}

/** An outbox row in the shape published and handed to consumers (ids and times as strings). */
export function toRelayed(event: {
  id: string; seq: bigint; source: string; type: string; version: number; aggregateId: string; organizationId: string | null;
  partnerId: string | null; payload: Prisma.JsonValue; occurredAt: Date;
}): RelayedEvent {
  return { ...event, seq: event.seq.toString(), occurredAt: event.occurredAt.toISOString() };
}

// ---------------------------------------------------------------- webhook signatures

export const SIGNATURE_HEADER = 'caregraph-signature';
export const DELIVERY_ID_HEADER = 'caregraph-delivery-id';
export const EVENT_TYPE_HEADER = 'caregraph-event-type';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe-style receivers expect. */
export function signWebhookPayload(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** Verifies a `CareGraph-Signature`-style header over the raw body, with a timestamp tolerance. */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: string | Buffer, toleranceSeconds = 300, now = Date.now()): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: 'malformed' };
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex')) ? { ok: true } : { ok: false, reason: 'mismatch' };
}

export const newWebhookSecret = (): string => `whsec_${randomBytes(24).toString('base64url')}`;

// ---------------------------------------------------------------- dispatcher

export interface DispatcherOptions {
  prisma: PrismaClient;
  log: Logger;
  /** Attempts before a delivery is dead-lettered. */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt (with jitter), capped by maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  batchSize?: number;
  pollIntervalMs?: number;
  fetch?: typeof fetch;
}

export class WebhookDispatcher extends PolledWorker {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: DispatcherOptions) {
    super('webhook-dispatcher', options.pollIntervalMs ?? 500, options.log);
    // 10 s doubling to an hour, 12 attempts: a receiver may be down for about three and a half hours before a delivery is dead-lettered.
    this.maxAttempts = options.maxAttempts ?? 12;
    this.baseDelayMs = options.baseDelayMs ?? 10_000;
    this.maxDelayMs = options.maxDelayMs ?? 60 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.batchSize = options.batchSize ?? 20;
    this.fetchImpl = options.fetch ?? fetch;
  }

  protected step(): Promise<number> {
    return this.dispatchOnce();
  }

  /** The delay before attempt `attempts + 1`: exponential, ±20 % jitter so retries do not stampede. */
  backoffMs(attempts: number): number {
    const raw = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  }

  /**
   * Claims due deliveries by pushing their next attempt past the request timeout (a lease:
   * another dispatcher will not send them meanwhile, and a crashed one's lease expires),
   * sends each, and records the outcome. Returns how many it attempted.
   */
  async dispatchOnce(): Promise<number> {
    const { prisma } = this.options;
    const leaseSeconds = Math.ceil(this.timeoutMs / 1000) + 5;
    const claimed = await prisma.$queryRaw<Array<{ id: string }>>`
      UPDATE "platform"."WebhookDelivery" SET "nextAttemptAt" = now() + make_interval(secs => ${leaseSeconds})
      WHERE id IN (
        SELECT id FROM "platform"."WebhookDelivery"
        WHERE status = 'PENDING' AND "nextAttemptAt" <= now()
        ORDER BY "nextAttemptAt"
        LIMIT ${this.batchSize}
        FOR NO KEY UPDATE SKIP LOCKED)
      RETURNING id`;
    if (claimed.length === 0) return 0;
    const deliveries = await prisma.webhookDelivery.findMany({
      where: { id: { in: claimed.map((c) => c.id) } },
      include: { event: true, endpoint: true },
    });
    await Promise.all(deliveries.map((delivery) => this.send(delivery)));
    return deliveries.length;
  }

  private async send(delivery: {
    id: string; attempts: number;
    event: Parameters<typeof toRelayed>[0];
    endpoint: { url: string; secret: string };
  }): Promise<void> {
    const body = JSON.stringify({ id: delivery.id, event: toRelayed(delivery.event) });
    let statusCode: number | null = null;
    let failure: string | null = null;
    try {
      const response = await this.fetchImpl(delivery.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signWebhookPayload(delivery.endpoint.secret, body),
          [DELIVERY_ID_HEADER]: delivery.id,
          [EVENT_TYPE_HEADER]: delivery.event.type,
          'user-agent': 'CareGraph-Webhooks/1',
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      statusCode = response.status;
      await response.body?.cancel();
      if (response.status < 200 || response.status >= 300) failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = describeFailure(error);
    }
    const attempts = delivery.attempts + 1;
    if (failure === null) {
      await this.options.prisma.webhookDelivery.update({
        where: { id: delivery.id },
        data: { status: 'DELIVERED', attempts, deliveredAt: new Date(), lastStatusCode: statusCode, lastError: null },
      });
      return;
    }
    const dead = attempts >= this.maxAttempts;
    this.options.log.warn({ deliveryId: delivery.id, attempts, statusCode, dead }, 'webhook delivery failed');
    await this.options.prisma.webhookDelivery.update({
      where: { id: delivery.id },
      data: {
        attempts,
        lastStatusCode: statusCode,
        lastError: failure,
        status: dead ? 'DEAD' : 'PENDING',
        nextAttemptAt: new Date(Date.now() + (dead ? 0 : this.backoffMs(attempts))),
      },
    });
  }
}

/** What went wrong with a delivery, for the admin reading it: `TypeError: fetch failed (ECONNREFUSED)`, `TimeoutError: …`. */
export function describeFailure(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (instanceof Error would miss them).
  const { name, message, cause } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (typeof name !== 'string' || typeof message !== 'string') return 'request failed';
  const detail = typeof cause?.code === 'string' ? ` (${cause.code})` : typeof cause?.message === 'string' ? ` (${cause.message})` : '';
  return `${name}: ${message}${detail}`.slice(0, 500);
}

/**
 * Puts dead-lettered deliveries of an organization back in the queue (all, or the given ids),
 * with a fresh attempt budget. The delivery ids stay the same, so receivers that already
 * processed one (and answered too late) still de-duplicate it. Returns how many were requeued.
 */
export async function replayDeadLetters(prisma: PrismaClient, organizationId: string, deliveryIds?: readonly string[]): Promise<number> {
  const { count } = await prisma.webhookDelivery.updateMany({
    where: {
      status: 'DEAD',
      endpoint: { organizationId },
      ...(deliveryIds ? { id: { in: [...deliveryIds] } } : {}),
    },
    data: { status: 'PENDING', attempts: 0, nextAttemptAt: new Date(), lastError: null },
  });
  return count;
}

// ---------------------------------------------------------------- running them

export interface OutboxWorkers {
  relay: OutboxRelay;
  dispatcher: WebhookDispatcher;
  stop(): Promise<void>;
}

/**
 * The relay and the dispatcher for one process. Every subgraph process runs a pair: rows are
 * claimed with SKIP LOCKED, so any number of them share the work without sending twice.
 */
export function startOutboxWorkers(options: { prisma: PrismaClient; pubsub: PubSub; log: Logger; dispatcher?: Partial<DispatcherOptions> }): OutboxWorkers {
  const relay = new OutboxRelay({ prisma: options.prisma, pubsub: options.pubsub, log: options.log });
  const dispatcher = new WebhookDispatcher({ prisma: options.prisma, log: options.log, ...options.dispatcher });
  relay.start();
  dispatcher.start();
  return {
    relay,
    dispatcher,
    async stop() {
      await relay.stop();
      await dispatcher.stop();
    },
  };
}
