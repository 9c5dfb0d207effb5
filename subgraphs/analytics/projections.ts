import type { Prisma, PrismaClient } from '../../prisma/generated/client/client.js';
import { AnalyticsEvents } from '../kit/events/analytics.js';
import { BillingEvents } from '../kit/events/billing.js';
import { InsuranceEvents } from '../kit/events/insurance.js';
import { MalformedEvent, on, parseEvent, resetConsumer, type ConsumedEvent, type EventConsumer } from '../kit/events/consumers.js';
import type { EventDefinition, EventPayload } from '../kit/events/define.js';
import { NurseEvents } from '../kit/events/nurse.js';
import { TrainingEvents } from '../kit/events/training.js';
import type { Logger } from '../kit/logger.js';
import { recordEvent, toRelayed, type TransactionClient } from '../kit/outbox.js';

/**
 * The analytics read models, projected from other domains' events. Each projection applies
 * one event idempotently and in any order relative to the others (a consumer may see a later
 * event first within the settle window): rows are upserted, versions compared, and a
 * learner-data deletion remembers its seq so that older events cannot bring data back.
 * After each change the projection announces `analytics.figures.updated` for the
 * organization (in the same transaction), which is what invalidates cached BI answers.
 */

export type Area = 'training' | 'nurse' | 'billing' | 'insurance';

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

/**
 * Applies one event of its type; returns the organization whose figures changed (null when
 * none did). The kit has parsed the payload against its schema before this runs, and a
 * projection checks what the schema cannot say before it writes anything, so a malformed event
 * never leaves half of itself applied (the rebuild replays in one transaction).
 */
interface Projection<E extends EventDefinition = EventDefinition> {
  readonly definition: E;
  apply(tx: TransactionClient, event: ConsumedEvent<EventPayload<E>>): Promise<string | null>;
}

const project = <E extends EventDefinition>(definition: E, apply: (tx: TransactionClient, event: ConsumedEvent<EventPayload<E>>) => Promise<string | null>): Projection<E> => ({ definition, apply });

const eventSeq = (event: { seq: string }): bigint => BigInt(event.seq);
const timeOr = (iso: string | null | undefined, fallback: string): Date => new Date(iso ?? fallback);

// Whole numbers that fit an Int column and non-empty flag codes are the catalogue's to check
// (kit/events/fields.ts): an event that breaks them is malformed before a handler sees it.

// ---------------------------------------------------------------- training

/** The cohort row, created from an event's envelope when the registration has not been seen (yet). */
async function cohortFor(tx: TransactionClient, event: { organizationId: string | null; partnerId: string | null }, cohortId: string): Promise<{ organizationId: string; purgedThroughSeq: bigint }> {
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

const training: Projection[] = [
  project(TrainingEvents.partnerRegistered, async (tx, { payload }) => {
    const partner = { id: payload.partnerId, organizationId: payload.organizationId, principalId: payload.principalId };
    await tx.analyticsPartner.upsert({ where: { id: partner.id }, create: partner, update: partner });
    // Not the figures, but who reads them: answers cached for the partner's principals must go.
    return partner.organizationId;
  }),

  project(TrainingEvents.cohortRegistered, async (tx, { payload }) => {
    const cohort = { id: payload.cohortId, organizationId: payload.organizationId, partnerId: payload.partnerId };
    await tx.analyticsCohort.upsert({ where: { id: cohort.id }, create: cohort, update: { organizationId: cohort.organizationId, partnerId: cohort.partnerId } });
    return cohort.organizationId;
  }),

  project(TrainingEvents.learnerEnrolled, async (tx, event) => {
    const { cohortId, learnerId } = event.payload;
    const cohort = await cohortFor(tx, event, cohortId);
    if (eventSeq(event) <= cohort.purgedThroughSeq) return null;
    await recordEnrollment(tx, cohortId, learnerId, timeOr(event.payload.enrolledAt, event.occurredAt), eventSeq(event));
    return cohort.organizationId;
  }),

  project(TrainingEvents.sessionStarted, async (tx, event) => {
    const { sessionId: id, cohortId, learnerId } = event.payload;
    const facts = { learnerId, caseId: event.payload.caseId ?? null, caseVersion: event.payload.caseVersion ?? null, startedAt: timeOr(event.payload.startedAt, event.occurredAt) };
    const cohort = await cohortFor(tx, event, cohortId);
    const seq = eventSeq(event);
    if (seq <= cohort.purgedThroughSeq) return null;
    await tx.analyticsTrainingSession.upsert({
      where: { id },
      create: { id, organizationId: cohort.organizationId, partnerId: event.partnerId, cohortId, ...facts, eventSeq: seq },
      // The completion may have been applied first: fill in what it lacked, keep what it set.
      update: { caseId: facts.caseId ?? undefined, caseVersion: facts.caseVersion ?? undefined, startedAt: facts.startedAt },
    });
    await recordEnrollment(tx, cohortId, facts.learnerId, facts.startedAt, seq);
    return cohort.organizationId;
  }),

  project(TrainingEvents.sessionCompleted, async (tx, event) => {
    const { payload } = event;
    const facts = {
      learnerId: payload.learnerId,
      caseId: payload.caseId,
      caseVersion: payload.caseVersion,
      startedAt: new Date(payload.startedAt),
      completedAt: timeOr(payload.endedAt, event.occurredAt),
      durationSeconds: payload.durationSeconds,
      totalScore: payload.score?.total ?? null,
      subScores: (payload.score?.subScores ?? []).map((s) => ({ section: s.section, score: s.score })) as Prisma.InputJsonValue,
      flaggedErrors: (payload.score?.flaggedErrors ?? []).map((f) => ({ code: f.code, severity: f.severity })) as Prisma.InputJsonValue,
    };
    const cohort = await cohortFor(tx, event, payload.cohortId);
    const seq = eventSeq(event);
    if (seq <= cohort.purgedThroughSeq) return null;
    await tx.analyticsTrainingSession.upsert({
      where: { id: payload.sessionId },
      create: { id: payload.sessionId, organizationId: cohort.organizationId, partnerId: event.partnerId, cohortId: payload.cohortId, ...facts, eventSeq: seq },
      update: { ...facts, eventSeq: seq },
    });
    await recordEnrollment(tx, payload.cohortId, facts.learnerId, facts.startedAt, seq);
    return cohort.organizationId;
  }),

  /** Retention in training: the cohort's learner data goes here too, and stays gone on replay. */
  project(TrainingEvents.learnerDataDeleted, async (tx, event) => {
    const { cohortId } = event.payload;
    const cohort = await cohortFor(tx, event, cohortId);
    const seq = eventSeq(event);
    if (seq > cohort.purgedThroughSeq) await tx.analyticsCohort.update({ where: { id: cohortId }, data: { purgedThroughSeq: seq } });
    await tx.analyticsTrainingSession.deleteMany({ where: { cohortId, eventSeq: { lte: seq } } });
    await tx.analyticsEnrollment.deleteMany({ where: { cohortId, eventSeq: { lte: seq } } });
    return cohort.organizationId;
  }),
];

// ---------------------------------------------------------------- nurse queue

const CLOSED_STATUSES: readonly string[] = ['APPROVED', 'OVERRIDDEN', 'RESOLVED'];

const nurse: Projection[] = [
  project(NurseEvents.queueChanged, async (tx, { payload: change }) => {
    const id = change.entryId;
    const at = new Date(change.at);
    const createdAt = new Date(change.createdAt);
    const slaDueAt = new Date(change.slaDueAt);
    const closedAt = CLOSED_STATUSES.includes(change.status) ? at : null;
    const escalated = change.action === 'ESCALATE' || change.status === 'ESCALATED';
    await lockAggregate(tx, 'queue-entry', id);
    const existing = await tx.analyticsQueueEntry.findUnique({ where: { id } });
    if (!existing) {
      await tx.analyticsQueueEntry.create({
        data: {
          id, organizationId: change.organizationId, source: change.source, initialUrgency: change.urgency, urgency: change.urgency, status: change.status,
          createdAt, slaDueAt, firstActionAt: change.action ? at : null, closedAt, escalated, version: change.version,
        },
      });
      return change.organizationId;
    }
    const newer = change.version > existing.version;
    const firstAction = change.action && (!existing.firstActionAt || at < existing.firstActionAt);
    await tx.analyticsQueueEntry.update({
      where: { id },
      data: {
        ...(change.kind === 'ADDED' ? { initialUrgency: change.urgency } : {}),
        ...(newer ? { urgency: change.urgency, status: change.status, slaDueAt, closedAt, version: change.version } : {}),
        ...(firstAction ? { firstActionAt: at } : {}),
        ...(escalated ? { escalated: true } : {}),
      },
    });
    return change.organizationId;
  }),
];

// ---------------------------------------------------------------- billing

async function recordMovement(tx: TransactionClient, movement: { id: string; organizationId: string; kind: string; amount: number; currency: string; at: Date }): Promise<string> {
  // Each payment succeeds once and each refund is issued once: a second event changes nothing.
  await tx.analyticsMoneyMovement.createMany({ data: [movement], skipDuplicates: true });
  return movement.organizationId;
}

const paid = (definition: typeof BillingEvents.depositPaid, kind: string): Projection =>
  project(definition, (tx, { payload, occurredAt }) => recordMovement(tx, { id: payload.paymentId, organizationId: payload.organizationId, kind, amount: payload.amount, currency: payload.currency, at: new Date(occurredAt) }));

const billing: Projection[] = [
  paid(BillingEvents.depositPaid, 'DEPOSIT'),
  paid(BillingEvents.balancePaid, 'BALANCE'),
  paid(BillingEvents.teleFeePaid, 'TELE_FEE'),
  project(BillingEvents.refundIssued, (tx, { payload, occurredAt }) => recordMovement(tx, { id: payload.refundId, organizationId: payload.organizationId, kind: 'REFUND', amount: payload.amount, currency: payload.currency, at: new Date(occurredAt) })),
];

// ---------------------------------------------------------------- insurance

/**
 * A claim's row gets each step's time once (the first event of a step wins; a replay changes
 * nothing), whatever order the events arrive in.
 */
async function claimStep(tx: TransactionClient, payload: { claimId: string; organizationId: string; payerId: string; currency: string }, step: Prisma.AnalyticsClaimUpdateInput & Record<string, unknown>, unset: 'submittedAt' | 'adjudicatedAt' | 'paidAt'): Promise<string> {
  await lockAggregate(tx, 'claim', payload.claimId);
  const row = await tx.analyticsClaim.findUnique({ where: { id: payload.claimId } });
  if (!row) {
    await tx.analyticsClaim.create({ data: { id: payload.claimId, organizationId: payload.organizationId, payerId: payload.payerId, currency: payload.currency, ...(step as Record<string, unknown>) } });
  } else if (row[unset] === null) {
    await tx.analyticsClaim.update({ where: { id: payload.claimId }, data: step });
  }
  return payload.organizationId;
}

const insurance: Projection[] = [
  project(InsuranceEvents.claimSubmitted, (tx, { payload, occurredAt }) => claimStep(tx, payload, { submittedAt: new Date(occurredAt) }, 'submittedAt')),
  project(InsuranceEvents.claimApproved, (tx, { payload, occurredAt }) => claimStep(tx, payload, { adjudication: payload.adjudication, adjudicatedAt: new Date(occurredAt) }, 'adjudicatedAt')),
  project(InsuranceEvents.claimDenied, (tx, { payload, occurredAt }) => claimStep(tx, payload, { adjudication: 'DENIED', adjudicatedAt: new Date(occurredAt) }, 'adjudicatedAt')),
  project(InsuranceEvents.claimSettled, (tx, { payload, occurredAt }) => claimStep(tx, payload, { paidAt: new Date(occurredAt), paidAmount: payload.paidAmount }, 'paidAt')),
];

// ---------------------------------------------------------------- consumers

const PROJECTIONS: Record<Area, Projection[]> = { training, nurse, billing, insurance };
const AREAS = Object.keys(PROJECTIONS) as Area[];
/** Which area projects each event type (an event type belongs to one area). */
const PROJECTION_OF = new Map(AREAS.flatMap((area) => PROJECTIONS[area].map((projection) => [projection.definition.type, { area, projection }] as const)));

async function applyProjection(tx: TransactionClient, area: Area, projection: Projection, event: ConsumedEvent<unknown>, announce: boolean): Promise<void> {
  const organizationId = await projection.apply(tx, event as never);
  if (announce && organizationId) {
    await recordEvent(tx, AnalyticsEvents.figuresUpdated, { aggregateId: organizationId, organizationId, payload: { organizationId, area, cause: event.type, causeEventId: event.id } });
  }
}

const consumerName = (area: Area): string => `analytics.${area}`;

/** One durable consumer per area, so a failing billing projection does not hold training up. */
export const analyticsConsumers: EventConsumer[] = AREAS.map((area) => ({
  name: consumerName(area),
  handlers: PROJECTIONS[area].map((projection) => on(projection.definition, (event, tx) => applyProjection(tx, area, projection, event, true))),
  async beforeClaim(tx: TransactionClient) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${REBUILD_LOCK})`;
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
  const byArea: Record<Area, number> = { training: 0, nurse: 0, billing: 0, insurance: 0 };
  let events = 0;
  await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${REBUILD_LOCK})`;
    await tx.analyticsTrainingSession.deleteMany({});
    await tx.analyticsEnrollment.deleteMany({});
    await tx.analyticsCohort.deleteMany({});
    await tx.analyticsPartner.deleteMany({});
    await tx.analyticsQueueEntry.deleteMany({});
    await tx.analyticsMoneyMovement.deleteMany({});
    await tx.analyticsClaim.deleteMany({});
    for (const area of AREAS) await resetConsumer(tx, consumerName(area));
    let after = -1n;
    for (;;) {
      const batch = await tx.outboxEvent.findMany({ where: { seq: { gt: after }, type: { in: [...PROJECTION_OF.keys()] } }, orderBy: { seq: 'asc' }, take: batchSize });
      if (batch.length === 0) break;
      const consumptions: Prisma.EventConsumptionCreateManyInput[] = [];
      for (const row of batch) {
        const event = toRelayed(row);
        // The query asked for these types only.
        const { area, projection } = PROJECTION_OF.get(event.type) as { area: Area; projection: Projection };
        let skippedReason: string | null = null;
        try {
          await applyProjection(tx, area, projection, parseEvent(projection.definition, event), false);
        } catch (error) {
          // As the live consumer does: a malformed event is skipped, logged and recorded with the reason, not fatal.
          if (!(error instanceof MalformedEvent)) throw error;
          log.warn({ eventId: event.id, eventType: event.type, problem: error.message }, 'malformed event skipped in rebuild');
          skippedReason = error.message.slice(0, 1000);
        }
        consumptions.push({ consumer: consumerName(area), eventId: row.id, skippedReason });
        byArea[area] += 1;
      }
      await tx.eventConsumption.createMany({ data: consumptions, skipDuplicates: true });
      events += batch.length;
      after = (batch.at(-1) as { seq: bigint }).seq;
    }
    await recordEvent(tx, AnalyticsEvents.figuresUpdated, { aggregateId: 'rebuild', organizationId: null, payload: { organizationId: null, area: 'all', cause: 'rebuild' } });
  }, { timeout: options.timeoutMs ?? 10 * 60_000, maxWait: 60_000 });
  log.info({ events, byArea }, 'analytics read models rebuilt');
  return { events, byArea };
}
