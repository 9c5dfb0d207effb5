import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../prisma/generated/client/client.js';
import { AnalyticsEvents } from '../../subgraphs/kit/events/analytics.js';
import { BillingEvents } from '../../subgraphs/kit/events/billing.js';
import { consumedTypes, dispatchEvent, EventConsumerRunner } from '../../subgraphs/kit/events/consumers.js';
import type { EventDefinition, EventPayload } from '../../subgraphs/kit/events/define.js';
import { NurseEvents } from '../../subgraphs/kit/events/nurse.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { recordEvent, toRelayed } from '../../subgraphs/kit/outbox.js';
import type { Identity } from '../../subgraphs/kit/identity.js';
import { analyticsConsumers, rebuildReadModels } from '../../subgraphs/analytics/projections.js';
import { cohortAnalytics, organizationMetrics } from '../../subgraphs/analytics/service.js';
import { openTestDatabase } from '../support/database.js';
import { analyticsContext } from './support.js';

/**
 * The read models against a real database, events written to the outbox: order, duplicates,
 * malformed payloads, retention and rebuilds, as the live consumers meet them. Well-formed
 * events go through the outbox API; malformed ones (which it refuses) straight into the table,
 * as an old or broken producer would have left them.
 */
const log = createLogger('analytics-projections-test', 'silent');
let database: Awaited<ReturnType<typeof openTestDatabase>>;
const ORG = `org-${randomUUID()}`;
const PARTNER = `partner-${randomUUID()}`;
const FIGURES_UPDATED = AnalyticsEvents.figuresUpdated.type;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.closeAll();
});

interface Envelope {
  aggregateId?: string;
  organizationId?: string | null;
  partnerId?: string | null;
}

const emit = async <E extends EventDefinition>(definition: E, payload: EventPayload<E>, envelope: Envelope = {}): Promise<string> => {
  const { id } = await database.prisma.$transaction((tx) => recordEvent(tx, definition, { aggregateId: randomUUID(), organizationId: ORG, ...envelope, payload }));
  return id;
};

/** An outbox row the outbox API would refuse (a payload that does not match its type). */
const emitRaw = async (definition: EventDefinition, payload: Prisma.InputJsonValue, envelope: Envelope = {}): Promise<string> => {
  const { id } = await database.prisma.outboxEvent.create({
    data: { source: definition.source, type: definition.type, version: 1, aggregateId: randomUUID(), organizationId: ORG, partnerId: null, ...envelope, payload },
  });
  return id;
};

/**
 * Applies events in the order given (not seq order), as a consumer meeting them out of order
 * would; an id given twice is applied twice (the projections must not count it twice).
 */
async function applyInOrder(ids: string[]): Promise<void> {
  for (const id of ids) {
    const event = toRelayed(await database.prisma.outboxEvent.findUniqueOrThrow({ where: { id } }));
    const consumer = analyticsConsumers.find((c) => consumedTypes(c).includes(event.type));
    if (!consumer) throw new Error(`no analytics consumer for ${event.type}`);
    await database.prisma.$transaction(async (tx) => {
      await tx.eventConsumption.createMany({ data: [{ consumer: consumer.name, eventId: id }], skipDuplicates: true });
      await dispatchEvent(consumer, event, tx);
    });
  }
}

const runner = () => new EventConsumerRunner({ prisma: database.prisma, log, consumers: analyticsConsumers });
async function drain(): Promise<void> {
  const r = runner();
  for (;;) {
    let processed = 0;
    for (const consumer of analyticsConsumers) processed += await r.consumeOnce(consumer);
    if (processed === 0) return;
  }
}

/** How each consumer recorded an event: [consumer, skippedReason]. */
const consumptionsOf = async (eventId: string) =>
  (await database.prisma.eventConsumption.findMany({ where: { eventId }, select: { consumer: true, skippedReason: true } })).map((c) => [c.consumer, c.skippedReason] as const);

const admin: Identity = { kind: 'user', subject: 'admin-1', role: 'ADMIN', organizationId: ORG };
const ctx = (identity: Identity) => analyticsContext(database.prisma, identity);
const range = { from: null, to: null };

const trainingEnvelope = { organizationId: ORG, partnerId: PARTNER };
const score = (total: number, flags: Array<[string, 'safety' | 'critical' | 'minor']> = []) => ({
  total,
  subScores: [{ section: 'history', score: total }, { section: 'diagnosis', score: null }],
  flaggedErrors: flags.map(([code, severity]) => ({ code, severity, message: 'm' })),
  metItemIds: [],
});
const completed = (sessionId: string, cohortId: string, learnerId: string, total: number, flags: Array<[string, 'safety' | 'critical' | 'minor']> = []) =>
  emit(TrainingEvents.sessionCompleted, {
    sessionId, cohortId, learnerId, caseId: 'case-1', caseVersion: 1, status: 'COMPLETED',
    startedAt: '2026-03-01T10:00:00.000Z', endedAt: '2026-03-01T10:20:00.000Z', durationSeconds: 1200, score: score(total, flags),
  }, trainingEnvelope);
const started = (sessionId: string, cohortId: string, learnerId: string) =>
  emit(TrainingEvents.sessionStarted, { sessionId, cohortId, learnerId, caseVersionId: 'v1', caseId: 'case-1', caseVersion: 1, startedAt: '2026-03-01T10:00:00.000Z' }, trainingEnvelope);
const enrolled = (cohortId: string, learnerId: string, enrolledAt: string) => emit(TrainingEvents.learnerEnrolled, { cohortId, learnerId, enrolledAt }, trainingEnvelope);

const malformed: string[] = [];

describe('training projections', () => {
  const cohortId = `cohort-${randomUUID()}`;

  it('apply a completion seen before its start, and a duplicate, as one session', async () => {
    await applyInOrder([await emit(TrainingEvents.cohortRegistered, { cohortId, partnerId: PARTNER, organizationId: ORG }, trainingEnvelope)]);
    const start = await started('s1', cohortId, 'l1');
    const done = await completed('s1', cohortId, 'l1', 70, [['MISSED_ECG', 'critical']]);
    await applyInOrder([done, start, done]);
    const row = await database.prisma.analyticsTrainingSession.findUniqueOrThrow({ where: { id: 's1' } });
    expect(row).toMatchObject({ cohortId, learnerId: 'l1', caseId: 'case-1', totalScore: 70, durationSeconds: 1200, organizationId: ORG, partnerId: PARTNER });
    expect(row.completedAt?.toISOString()).toBe('2026-03-01T10:20:00.000Z');
    const figures = await cohortAnalytics(ctx(admin), cohortId, range);
    // No enrolment event was seen: a learner with a session counts as enrolled all the same.
    expect(figures).toMatchObject({ enrolled: 1, completionRate: 1, sessionsStarted: 1, sessionsCompleted: 1, meanTotalScore: 70, flaggedErrors: [{ code: 'MISSED_ECG', severity: 'critical', sessions: 1, rate: 1 }] });
    expect(figures.subScores).toEqual([{ section: 'history', meanScore: 70, sessions: 1 }, { section: 'diagnosis', meanScore: null, sessions: 0 }]);
  });

  it('announce the changed figures for the organization, in the same transaction', async () => {
    const before = await database.prisma.outboxEvent.count({ where: { type: FIGURES_UPDATED, organizationId: ORG } });
    await applyInOrder([await started('s2', cohortId, 'l2')]);
    const after = await database.prisma.outboxEvent.findMany({ where: { type: FIGURES_UPDATED, organizationId: ORG }, orderBy: { seq: 'asc' } });
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)?.payload).toMatchObject({ organizationId: ORG, area: 'training', cause: 'training.session.started' });
  });

  it('forget a cohort’s learners on a retention deletion, even when older events arrive after it', async () => {
    const enrolment = await enrolled(cohortId, 'l3', '2026-03-01T09:00:00.000Z');
    const lateStart = await started('s3', cohortId, 'l3');
    const deletion = await emit(TrainingEvents.learnerDataDeleted, { cohortId, sessions: 3, learners: 3 }, trainingEnvelope);
    await applyInOrder([deletion, enrolment, lateStart]);
    expect(await database.prisma.analyticsTrainingSession.count({ where: { cohortId } })).toBe(0);
    expect(await database.prisma.analyticsEnrollment.count({ where: { cohortId } })).toBe(0);
    // Learners who come after the deletion count again.
    await applyInOrder([await enrolled(cohortId, 'l4', '2026-03-02T09:00:00.000Z'), await started('s4', cohortId, 'l4')]);
    expect(await cohortAnalytics(ctx(admin), cohortId, range)).toMatchObject({ enrolled: 1, started: 1, sessionsStarted: 1 });
  });

  it('skip a malformed event (logged, recorded as consumed with the reason) without holding up the rest', async () => {
    const otherCohort = `cohort-${randomUUID()}`;
    const bad = await emitRaw(TrainingEvents.sessionCompleted, { cohortId: otherCohort, learnerId: 'l9', score: { total: 'high' } }, trainingEnvelope);
    // Well-formed payloads whose values the read models cannot take: no envelope partner, a version beyond an Int, an empty flag code.
    const noPartner = await emit(TrainingEvents.sessionStarted, { sessionId: 's9-orphan', cohortId: otherCohort, learnerId: 'l9' }, { partnerId: null });
    const huge = await emitRaw(TrainingEvents.sessionStarted, { sessionId: 's9-huge', cohortId: otherCohort, learnerId: 'l9', caseVersion: 2 ** 31 }, trainingEnvelope);
    const emptyFlag = await emitRaw(TrainingEvents.sessionCompleted, {
      sessionId: 's9-flag', cohortId: otherCohort, learnerId: 'l9', caseId: 'case-1', caseVersion: 1, status: 'COMPLETED',
      startedAt: '2026-03-01T10:00:00.000Z', endedAt: '2026-03-01T10:20:00.000Z', durationSeconds: 1200, score: score(50, [['', 'minor']]),
    }, trainingEnvelope);
    const good = await started('s9', otherCohort, 'l9');
    await drain();
    expect(await database.prisma.eventConsumption.count({ where: { eventId: { in: [bad, noPartner, huge, emptyFlag, good] } } })).toBe(5);
    // What was wrong is recorded (field names, never values).
    const reasons: Array<[string, RegExp]> = [[bad, /sessionId/], [noPartner, /partnerId/], [huge, /caseVersion/], [emptyFlag, /flaggedErrors\.0\.code/]];
    for (const [skipped, reason] of reasons) expect(await consumptionsOf(skipped)).toEqual([['analytics.training', expect.stringMatching(reason)]]);
    expect(await consumptionsOf(good)).toEqual([['analytics.training', null]]);
    expect(await database.prisma.analyticsTrainingSession.findMany({ where: { cohortId: otherCohort }, select: { id: true, completedAt: true } })).toEqual([{ id: 's9', completedAt: null }]);
    malformed.push(bad, noPartner, huge, emptyFlag);
  });
});

describe('nurse queue projection', () => {
  const queue = (entryId: string, change: Omit<EventPayload<typeof NurseEvents.queueChanged>, 'entryId' | 'organizationId' | 'source' | 'createdAt' | 'slaDueAt'>) =>
    emit(NurseEvents.queueChanged, { entryId, organizationId: ORG, source: 'MANUAL', createdAt: '2026-03-01T08:00:00.000Z', slaDueAt: '2026-03-01T08:15:00.000Z', ...change });

  it('applies changes by version, whatever order they arrive in', async () => {
    const added = await queue('e1', { kind: 'ADDED', urgency: 'HIGH', status: 'WAITING', version: 1, action: null, at: '2026-03-01T08:00:00.000Z' });
    const claimed = await queue('e1', { kind: 'CHANGED', urgency: 'HIGH', status: 'IN_REVIEW', version: 2, action: 'CLAIM', at: '2026-03-01T08:10:00.000Z' });
    const escalated = await queue('e1', { kind: 'CHANGED', urgency: 'CRITICAL', status: 'ESCALATED', version: 3, action: 'ESCALATE', at: '2026-03-01T08:20:00.000Z' });
    await applyInOrder([escalated, claimed, added]);
    const row = await database.prisma.analyticsQueueEntry.findUniqueOrThrow({ where: { id: 'e1' } });
    expect(row).toMatchObject({ initialUrgency: 'HIGH', urgency: 'CRITICAL', status: 'ESCALATED', version: 3, escalated: true, closedAt: null });
    expect(row.firstActionAt?.toISOString()).toBe('2026-03-01T08:10:00.000Z');

    // A second entry never picked up, long past its due time: a breach.
    await applyInOrder([await queue('e2', { kind: 'ADDED', urgency: 'LOW', status: 'WAITING', version: 1, action: null, at: '2026-03-01T08:00:00.000Z' })]);
    const metrics = await organizationMetrics(ctx(admin), ORG, new Date('2026-03-01T00:00:00Z'), new Date('2026-03-02T00:00:00Z'));
    expect(metrics.nurseQueue).toMatchObject({
      entries: 2, pickedUp: 1, escalated: 1, closed: 0, stillOpen: 2, medianWaitSeconds: 600, p90WaitSeconds: 600, slaBreaches: 1, slaBreachRate: 0.5,
      byUrgency: [{ urgency: 'HIGH', entries: 1 }, { urgency: 'LOW', entries: 1 }],
    });
  });

  it('refuses an event without the entry’s times, with a fractional version or one beyond an Int, as malformed', async () => {
    const base = { kind: 'ADDED', organizationId: ORG, source: 'MANUAL', urgency: 'LOW', status: 'WAITING', action: null, at: '2026-03-01T08:00:00.000Z' } as const;
    const times = { createdAt: '2026-03-01T08:00:00.000Z', slaDueAt: '2026-03-01T08:15:00.000Z' };
    const untimed = await emitRaw(NurseEvents.queueChanged, { ...base, entryId: 'e3', version: 1 });
    const fractional = await emitRaw(NurseEvents.queueChanged, { ...base, ...times, entryId: 'e4', version: 1.5 });
    const huge = await emitRaw(NurseEvents.queueChanged, { ...base, ...times, entryId: 'e5', version: 2 ** 31 });
    await drain();
    const reasons: Array<[string, RegExp]> = [[untimed, /createdAt/], [fractional, /version/], [huge, /version/]];
    for (const [bad, reason] of reasons) expect(await consumptionsOf(bad)).toEqual([['analytics.nurse', expect.stringMatching(reason)]]);
    expect(await database.prisma.analyticsQueueEntry.count({ where: { id: { in: ['e3', 'e4', 'e5'] } } })).toBe(0);
    malformed.push(untimed, fractional, huge);
  });
});

describe('billing projection', () => {
  it('counts each payment and refund once, per currency', async () => {
    const paid = (definition: typeof BillingEvents.depositPaid, paymentId: string, amount: number, currency: 'USD' | 'NGN') =>
      emit(definition, { paymentId, invoiceId: 'i', patientId: 'patient-1', organizationId: ORG, kind: 'DEPOSIT', amount, currency, invoiceStatus: 'PARTIALLY_PAID' });
    const p1 = await paid(BillingEvents.depositPaid, 'p1', 5000, 'USD');
    await applyInOrder([p1, p1, await paid(BillingEvents.balancePaid, 'p2', 7500, 'USD'), await paid(BillingEvents.teleFeePaid, 'p3', 200000, 'NGN')]);
    await applyInOrder([await emit(BillingEvents.refundIssued, { refundId: 'r1', paymentId: 'p2', invoiceId: 'i', organizationId: ORG, amount: 2500, currency: 'USD', stripeRefundId: null })]);
    const now = new Date();
    const { billing } = await organizationMetrics(ctx(admin), ORG, new Date(now.getTime() - 3_600_000), new Date(now.getTime() + 3_600_000));
    expect(billing).toEqual({
      paymentsSucceeded: 3,
      collected: [{ currency: 'NGN', amount: 200000 }, { currency: 'USD', amount: 12500 }],
      refundsIssued: 1,
      refunded: [{ currency: 'USD', amount: 2500 }],
      net: [{ currency: 'NGN', amount: 200000 }, { currency: 'USD', amount: 10000 }],
    });
    // The kind is the event type's (a balance payment is a balance, whatever its payload's kind says).
    expect(await database.prisma.analyticsMoneyMovement.findMany({ where: { organizationId: ORG }, select: { id: true, kind: true }, orderBy: { id: 'asc' } }))
      .toEqual([{ id: 'p1', kind: 'DEPOSIT' }, { id: 'p2', kind: 'BALANCE' }, { id: 'p3', kind: 'TELE_FEE' }, { id: 'r1', kind: 'REFUND' }]);
  });
});

describe('rebuild', () => {
  it('gives the same read models from the retained events, retention included, malformed events skipped', async () => {
    const snapshot = async () => ({
      sessions: await database.prisma.analyticsTrainingSession.findMany({ orderBy: { id: 'asc' } }),
      enrollments: await database.prisma.analyticsEnrollment.findMany({ orderBy: [{ cohortId: 'asc' }, { learnerId: 'asc' }] }),
      cohorts: await database.prisma.analyticsCohort.findMany({ orderBy: { id: 'asc' } }),
      queue: await database.prisma.analyticsQueueEntry.findMany({ orderBy: { id: 'asc' } }),
      money: await database.prisma.analyticsMoneyMovement.findMany({ orderBy: { id: 'asc' } }),
    });
    await drain();
    const before = await snapshot();
    expect(before.sessions.length).toBeGreaterThan(0);
    expect(malformed.length).toBe(7);
    const result = await rebuildReadModels(database.prisma, log, { batchSize: 3 });
    expect(result.events).toBeGreaterThan(10);
    expect(await snapshot()).toEqual(before);
    // Every replayed event is recorded as consumed: the live consumers find nothing left to do.
    for (const consumer of analyticsConsumers) expect(await runner().consumeOnce(consumer)).toBe(0);
    // The malformed ones were replayed, skipped again, and recorded with the reason again.
    for (const bad of malformed) expect(await consumptionsOf(bad)).toEqual([[expect.stringMatching(/^analytics\./), expect.any(String)]]);
    const closing = await database.prisma.outboxEvent.findFirst({ where: { type: FIGURES_UPDATED, aggregateId: 'rebuild' } });
    expect(closing?.organizationId).toBeNull();
  });

  it('and a live consumer meeting the same event do not deadlock: the consumer waits before it claims', async () => {
    // With PostgreSQL (several connections) this is the race itself; embedded it runs serially.
    const event = await started(`s-race-${randomUUID()}`, `cohort-${randomUUID()}`, 'l-race');
    const consumer = analyticsConsumers.find((c) => c.name === 'analytics.training') as (typeof analyticsConsumers)[number];
    let consuming: Promise<number> | undefined;
    await database.prisma.$transaction(async (tx) => {
      // What rebuildReadModels does: the exclusive lock, then the replayed events recorded as consumed.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${727_000_001})`;
      consuming = runner().consumeOnce(consumer);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await tx.eventConsumption.createMany({ data: [{ consumer: consumer.name, eventId: event }], skipDuplicates: true });
    }, { timeout: 20_000 });
    await expect(consuming).resolves.toBe(0);
    expect(await database.prisma.eventConsumption.count({ where: { eventId: event } })).toBe(1);
  });
});
