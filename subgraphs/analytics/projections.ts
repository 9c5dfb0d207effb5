import type { Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import { MalformedEvent, PayloadReader, resetConsumer, type EventConsumer } from '../kit/events.js';
import type { Logger } from '../kit/logger.js';
import { recordEvent, toRelayed, type RelayedEvent, type TransactionClient } from '../kit/outbox.js';

/**
 * The analytics read models, projected from other domains' events. Each projection applies
 * one event idempotently and in any order relative to the others (a consumer may see a later
 * event first within the settle window): rows are upserted, versions compared, and a
 * learner-data deletion remembers its seq so that older events cannot bring data back.
 * After each change the projection announces `analytics.figures.updated` for the
 * organization (in the same transaction), which is what invalidates cached BI answers.
 */

export const SOURCE = 'analytics';
export const FIGURES_UPDATED = 'analytics.figures.updated';
export type Area = 'training' | 'nurse' | 'billing';

/** Live projections hold this lock shared, a rebuild holds it exclusively: they never interleave. */
const REBUILD_LOCK = 727_000_001;
/** The namespace of per-aggregate locks (the two-key advisory locks; they never collide with REBUILD_LOCK). */
const AGGREGATE_LOCKS = 727;

/**
 * Serializes the projections of one aggregate (a cohort, a queue entry) across consumer
 * instances: each reads a row, decides, then writes, and two instances interleaving those
 * steps (a deletion and a late session, two versions of an entry) would lose one's decision.
 */
async function lockAggregate(tx: TransactionClient, kind: string, id: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AGGREGATE_LOCKS}::int, hashtext(${`${kind}:${id}`}))`;
}

interface Projection {
  area: Area;
  /**
   * Applies one event; returns the organization whose figures changed (null when none did).
   * Reads and checks the whole payload before writing anything, so a MalformedEvent never
   * leaves half an event applied (the rebuild replays in one transaction).
   */
  apply(tx: TransactionClient, event: RelayedEvent): Promise<string | null>;
}

const eventSeq = (event: RelayedEvent): bigint => BigInt(event.seq);

// ---------------------------------------------------------------- training

/** The cohort row, created from an event's envelope when the registration has not been seen (yet). */
async function cohortFor(tx: TransactionClient, event: RelayedEvent, cohortId: string): Promise<{ organizationId: string; purgedThroughSeq: bigint }> {
  if (!event.organizationId || !event.partnerId) throw new MalformedEvent('organizationId and partnerId are required on training events');
  await lockAggregate(tx, 'cohort', cohortId);
  return tx.analyticsCohort.upsert({
    where: { id: cohortId },
    create: { id: cohortId, organizationId: event.organizationId, partnerId: event.partnerId },
    update: {},
    select: { organizationId: true, purgedThroughSeq: true },
  });
}

/**
 * Records an enrolment, keeping the earliest time seen. Session events record one too: a
 * learner with a session is enrolled, even when the enrolment predates its own event.
 */
async function recordEnrollment(tx: TransactionClient, cohortId: string, learnerId: string, enrolledAt: Date, seq: bigint): Promise<void> {
  const where = { cohortId_learnerId: { cohortId, learnerId } };
  const existing = await tx.analyticsEnrollment.findUnique({ where });
  if (!existing) await tx.analyticsEnrollment.create({ data: { cohortId, learnerId, enrolledAt, eventSeq: seq } });
  else if (enrolledAt < existing.enrolledAt) await tx.analyticsEnrollment.update({ where, data: { enrolledAt } });
}

interface ScoreCardFacts {
  total: number;
  subScores: Array<{ section: string; score: number | null }>;
  flaggedErrors: Array<{ code: string; severity: string }>;
}

function readScore(payload: PayloadReader): ScoreCardFacts | null {
  const score = payload.optionalObject('score');
  if (!score) return null;
  return {
    total: score.integer('total'),
    subScores: score.objects('subScores', (s) => ({ section: s.string('section'), score: s.optionalInteger('score') })),
    flaggedErrors: score.objects('flaggedErrors', (f) => ({ code: f.string('code'), severity: f.string('severity') })),
  };
}

const training: Record<string, Projection['apply']> = {
  async 'training.partner.registered'(tx, event) {
    const p = new PayloadReader(event);
    const partner = { id: p.string('partnerId'), organizationId: p.string('organizationId'), principalId: p.optionalString('principalId') };
    await tx.analyticsPartner.upsert({ where: { id: partner.id }, create: partner, update: partner });
    // Not the figures, but who reads them: answers cached for the partner's principals must go.
    return partner.organizationId;
  },

  async 'training.cohort.registered'(tx, event) {
    const p = new PayloadReader(event);
    const cohort = { id: p.string('cohortId'), organizationId: p.string('organizationId'), partnerId: p.string('partnerId') };
    await tx.analyticsCohort.upsert({ where: { id: cohort.id }, create: cohort, update: { organizationId: cohort.organizationId, partnerId: cohort.partnerId } });
    return cohort.organizationId;
  },

  async 'training.learner.enrolled'(tx, event) {
    const p = new PayloadReader(event);
    const cohortId = p.string('cohortId');
    const learnerId = p.string('learnerId');
    const enrolledAt = p.optionalDate('enrolledAt') ?? new Date(event.occurredAt);
    const cohort = await cohortFor(tx, event, cohortId);
    if (eventSeq(event) <= cohort.purgedThroughSeq) return null;
    await recordEnrollment(tx, cohortId, learnerId, enrolledAt, eventSeq(event));
    return cohort.organizationId;
  },

  async 'training.session.started'(tx, event) {
    const p = new PayloadReader(event);
    const id = p.string('sessionId');
    const cohortId = p.string('cohortId');
    const facts = {
      learnerId: p.string('learnerId'),
      caseId: p.optionalString('caseId'),
      caseVersion: p.optionalInteger('caseVersion'),
      startedAt: p.optionalDate('startedAt') ?? new Date(event.occurredAt),
    };
    const cohort = await cohortFor(tx, event, cohortId);
    if (eventSeq(event) <= cohort.purgedThroughSeq) return null;
    const seq = eventSeq(event);
    await tx.analyticsTrainingSession.upsert({
      where: { id },
      create: { id, organizationId: cohort.organizationId, partnerId: event.partnerId, cohortId, ...facts, eventSeq: seq },
      // The completion may have been applied first: fill in what it lacked, keep what it set.
      update: { caseId: facts.caseId ?? undefined, caseVersion: facts.caseVersion ?? undefined, startedAt: facts.startedAt },
    });
    await recordEnrollment(tx, cohortId, facts.learnerId, facts.startedAt, seq);
    return cohort.organizationId;
  },

  async 'training.session.completed'(tx, event) {
    const p = new PayloadReader(event);
    const id = p.string('sessionId');
    const cohortId = p.string('cohortId');
    const score = readScore(p);
    const facts = {
      learnerId: p.string('learnerId'),
      caseId: p.string('caseId'),
      caseVersion: p.integer('caseVersion'),
      startedAt: p.date('startedAt'),
      completedAt: p.optionalDate('endedAt') ?? new Date(event.occurredAt),
      durationSeconds: p.optionalInteger('durationSeconds'),
      totalScore: score?.total ?? null,
      subScores: (score?.subScores ?? []) as Prisma.InputJsonValue,
      flaggedErrors: (score?.flaggedErrors ?? []) as Prisma.InputJsonValue,
    };
    const cohort = await cohortFor(tx, event, cohortId);
    const seq = eventSeq(event);
    if (seq <= cohort.purgedThroughSeq) return null;
    await tx.analyticsTrainingSession.upsert({
      where: { id },
      create: { id, organizationId: cohort.organizationId, partnerId: event.partnerId, cohortId, ...facts, eventSeq: seq },
      update: { ...facts, eventSeq: seq },
    });
    await recordEnrollment(tx, cohortId, facts.learnerId, facts.startedAt, seq);
    return cohort.organizationId;
  },

  /** Retention in training: the cohort's learner data goes here too, and stays gone on replay. */
  async 'training.cohort.learner_data_deleted'(tx, event) {
    const cohortId = new PayloadReader(event).string('cohortId');
    const cohort = await cohortFor(tx, event, cohortId);
    const seq = eventSeq(event);
    if (seq > cohort.purgedThroughSeq) await tx.analyticsCohort.update({ where: { id: cohortId }, data: { purgedThroughSeq: seq } });
    await tx.analyticsTrainingSession.deleteMany({ where: { cohortId, eventSeq: { lte: seq } } });
    await tx.analyticsEnrollment.deleteMany({ where: { cohortId, eventSeq: { lte: seq } } });
    return cohort.organizationId;
  },
};

// ---------------------------------------------------------------- nurse queue

const CLOSED_STATUSES = ['APPROVED', 'OVERRIDDEN', 'RESOLVED'];

const nurse: Record<string, Projection['apply']> = {
  async 'nurse.queue.changed'(tx, event) {
    const p = new PayloadReader(event);
    const id = p.string('entryId');
    const change = {
      kind: p.string('kind'),
      organizationId: p.string('organizationId'),
      source: p.string('source'),
      urgency: p.string('urgency'),
      status: p.string('status'),
      version: p.integer('version'),
      action: p.optionalString('action'),
      createdAt: p.date('createdAt'),
      slaDueAt: p.date('slaDueAt'),
      at: p.optionalDate('at') ?? new Date(event.occurredAt),
    };
    const closedAt = CLOSED_STATUSES.includes(change.status) ? change.at : null;
    const escalated = change.action === 'ESCALATE' || change.status === 'ESCALATED';
    await lockAggregate(tx, 'queue-entry', id);
    const existing = await tx.analyticsQueueEntry.findUnique({ where: { id } });
    if (!existing) {
      await tx.analyticsQueueEntry.create({
        data: {
          id, organizationId: change.organizationId, source: change.source, initialUrgency: change.urgency, urgency: change.urgency, status: change.status,
          createdAt: change.createdAt, slaDueAt: change.slaDueAt, firstActionAt: change.action ? change.at : null, closedAt, escalated, version: change.version,
        },
      });
      return change.organizationId;
    }
    const newer = change.version > existing.version;
    const firstAction = change.action && (!existing.firstActionAt || change.at < existing.firstActionAt);
    await tx.analyticsQueueEntry.update({
      where: { id },
      data: {
        ...(change.kind === 'ADDED' ? { initialUrgency: change.urgency } : {}),
        ...(newer ? { urgency: change.urgency, status: change.status, slaDueAt: change.slaDueAt, closedAt, version: change.version } : {}),
        ...(firstAction ? { firstActionAt: change.at } : {}),
        ...(escalated ? { escalated: true } : {}),
      },
    });
    return change.organizationId;
  },
};

// ---------------------------------------------------------------- billing

const PAID_KINDS: Record<string, string> = { 'payment.deposit.paid': 'DEPOSIT', 'payment.balance.paid': 'BALANCE', 'payment.tele_fee.paid': 'TELE_FEE' };

async function recordMovement(tx: TransactionClient, event: RelayedEvent, idField: string, kind: string): Promise<string> {
  const p = new PayloadReader(event);
  const movement = { id: p.string(idField), organizationId: p.string('organizationId'), kind, amount: p.integer('amount'), currency: p.string('currency'), at: new Date(event.occurredAt) };
  if (movement.amount < 0) throw new MalformedEvent('amount is negative');
  // Each payment succeeds once and each refund is issued once: a second event changes nothing.
  await tx.analyticsMoneyMovement.createMany({ data: [movement], skipDuplicates: true });
  return movement.organizationId;
}

const billing: Record<string, Projection['apply']> = {
  ...Object.fromEntries(Object.entries(PAID_KINDS).map(([type, kind]) => [type, (tx: TransactionClient, event: RelayedEvent) => recordMovement(tx, event, 'paymentId', kind)])),
  'payment.refund.issued': (tx, event) => recordMovement(tx, event, 'refundId', 'REFUND'),
};

// ---------------------------------------------------------------- consumers

const PROJECTIONS: Record<Area, Record<string, Projection['apply']>> = { training, nurse, billing };
const AREAS = Object.keys(PROJECTIONS) as Area[];
/** Which area projects each event type (an event type belongs to one area). */
const AREA_OF = new Map(AREAS.flatMap((area) => Object.keys(PROJECTIONS[area]).map((type) => [type, area] as const)));

async function applyEvent(tx: TransactionClient, area: Area, event: RelayedEvent, announce: boolean): Promise<void> {
  const apply = PROJECTIONS[area][event.type];
  if (!apply) return;
  const organizationId = await apply(tx, event);
  if (announce && organizationId) {
    await recordEvent(tx, {
      source: SOURCE, type: FIGURES_UPDATED, aggregateId: organizationId, organizationId,
      payload: { organizationId, area, cause: event.type, causeEventId: event.id },
    });
  }
}

const consumerName = (area: Area): string => `analytics.${area}`;

/** One durable consumer per area, so a failing billing projection does not hold training up. */
export const analyticsConsumers: EventConsumer[] = AREAS.map((area) => ({
  name: consumerName(area),
  eventTypes: Object.keys(PROJECTIONS[area]),
  async beforeClaim(tx: TransactionClient) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${REBUILD_LOCK})`;
  },
  async handle(event: RelayedEvent, tx: TransactionClient) {
    await applyEvent(tx, area, event, true);
  },
}));

// ---------------------------------------------------------------- rebuild

export interface RebuildResult {
  events: number;
  byArea: Record<Area, number>;
}

/**
 * Drops every read model and replays the retained events in seq order, in one transaction:
 * readers see the old figures until the new ones commit, and live projections wait on the
 * lock meanwhile. The replayed events are recorded as consumed, so the live consumers carry
 * on after them; one `analytics.figures.updated` for all organizations closes the rebuild.
 */
export async function rebuildReadModels(prisma: PrismaClient, log: Logger, options: { batchSize?: number; timeoutMs?: number } = {}): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 500;
  const byArea: Record<Area, number> = { training: 0, nurse: 0, billing: 0 };
  let events = 0;
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${REBUILD_LOCK})`;
    await tx.analyticsTrainingSession.deleteMany({});
    await tx.analyticsEnrollment.deleteMany({});
    await tx.analyticsCohort.deleteMany({});
    await tx.analyticsPartner.deleteMany({});
    await tx.analyticsQueueEntry.deleteMany({});
    await tx.analyticsMoneyMovement.deleteMany({});
    for (const area of AREAS) await resetConsumer(tx, consumerName(area));
    let after = -1n;
    for (;;) {
      const batch = await tx.outboxEvent.findMany({ where: { seq: { gt: after }, type: { in: [...AREA_OF.keys()] } }, orderBy: { seq: 'asc' }, take: batchSize });
      if (batch.length === 0) break;
      const areaOf = (type: string): Area => AREA_OF.get(type) as Area; // the query asked for these types only
      for (const row of batch) {
        const event = toRelayed(row);
        const area = areaOf(event.type);
        try {
          await applyEvent(tx, area, event, false);
        } catch (error) {
          // As the live consumer does: a malformed event is skipped (and logged), not fatal.
          if (!(error instanceof MalformedEvent)) throw error;
          log.warn({ eventId: event.id, eventType: event.type, problem: error.message }, 'malformed event skipped in rebuild');
        }
        byArea[area] += 1;
      }
      await tx.eventConsumption.createMany({
        data: batch.map((row) => ({ consumer: consumerName(areaOf(row.type)), eventId: row.id })),
        skipDuplicates: true,
      });
      events += batch.length;
      after = (batch.at(-1) as { seq: bigint }).seq;
    }
    await recordEvent(tx, { source: SOURCE, type: FIGURES_UPDATED, aggregateId: 'rebuild', organizationId: null, payload: { organizationId: null, area: 'all', cause: 'rebuild' } });
  }, { timeout: options.timeoutMs ?? 10 * 60_000, maxWait: 60_000 });
  log.info({ events, byArea }, 'analytics read models rebuilt');
  return { events, byArea };
}
