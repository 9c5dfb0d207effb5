import { randomUUID } from 'node:crypto';
import { EventConsumerRunner } from '../../subgraphs/kit/events.js';
import { Loaders } from '../../subgraphs/kit/loaders.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { recordEvent, toRelayed, type NewEvent } from '../../subgraphs/kit/outbox.js';
import type { Identity } from '../../subgraphs/kit/identity.js';
import { analyticsConsumers, FIGURES_UPDATED, rebuildReadModels } from '../../subgraphs/analytics/projections.js';
import { cohortAnalytics, organizationMetrics } from '../../subgraphs/analytics/service.js';
import { openTestDatabase } from '../support/database.js';

/**
 * The read models against a real database, events written straight to the outbox: order,
 * duplicates, malformed payloads, retention and rebuilds, as the live consumers meet them.
 */
const log = createLogger('analytics-projections-test', 'silent');
let database: Awaited<ReturnType<typeof openTestDatabase>>;
const ORG = `org-${randomUUID()}`;
const PARTNER = `partner-${randomUUID()}`;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.closeAll();
});

const emit = async (event: Omit<NewEvent, 'source' | 'aggregateId'> & { aggregateId?: string }): Promise<string> => {
  const { id } = await database.prisma.$transaction((tx) => recordEvent(tx, { source: 'test', aggregateId: event.aggregateId ?? randomUUID(), ...event }));
  return id;
};

/**
 * Applies events in the order given (not seq order), as a consumer meeting them out of order
 * would; an id given twice is applied twice (the projections must not count it twice).
 */
async function applyInOrder(ids: string[]): Promise<void> {
  for (const id of ids) {
    const event = toRelayed(await database.prisma.outboxEvent.findUniqueOrThrow({ where: { id } }));
    const consumer = analyticsConsumers.find((c) => c.eventTypes.includes(event.type));
    if (!consumer) throw new Error(`no analytics consumer for ${event.type}`);
    await database.prisma.$transaction(async (tx) => {
      await tx.eventConsumption.createMany({ data: [{ consumer: consumer.name, eventId: id }], skipDuplicates: true });
      await consumer.handle(event, tx);
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

const ctx = (identity: Identity) => ({ prisma: database.prisma, identity, loaders: new Loaders() });
const admin: Identity = { kind: 'user', subject: 'admin-1', role: 'ADMIN', organizationId: ORG };
const range = { from: null, to: null };

const training = (type: string, payload: Record<string, unknown>) => emit({ type, organizationId: ORG, partnerId: PARTNER, payload: payload as never });
const score = (total: number, flags: Array<[string, string]> = []) => ({
  total,
  subScores: [{ section: 'history', score: total }, { section: 'diagnosis', score: null }],
  flaggedErrors: flags.map(([code, severity]) => ({ code, severity, message: 'm' })),
  metItemIds: [],
});
const completed = (sessionId: string, cohortId: string, learnerId: string, total: number, flags: Array<[string, string]> = []) =>
  training('training.session.completed', {
    sessionId, cohortId, learnerId, caseId: 'case-1', caseVersion: 1, status: 'COMPLETED',
    startedAt: '2026-03-01T10:00:00.000Z', endedAt: '2026-03-01T10:20:00.000Z', durationSeconds: 1200, score: score(total, flags),
  });
const started = (sessionId: string, cohortId: string, learnerId: string) =>
  training('training.session.started', { sessionId, cohortId, learnerId, caseVersionId: 'v1', caseId: 'case-1', caseVersion: 1, startedAt: '2026-03-01T10:00:00.000Z' });

describe('training projections', () => {
  const cohortId = `cohort-${randomUUID()}`;

  it('apply a completion seen before its start, and a duplicate, as one session', async () => {
    await applyInOrder([await training('training.cohort.registered', { cohortId, partnerId: PARTNER, organizationId: ORG })]);
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
    const enrolled = await training('training.learner.enrolled', { cohortId, learnerId: 'l3', enrolledAt: '2026-03-01T09:00:00.000Z' });
    const lateStart = await started('s3', cohortId, 'l3');
    const deletion = await training('training.cohort.learner_data_deleted', { cohortId, sessions: 3, learners: 3 });
    await applyInOrder([deletion, enrolled, lateStart]);
    expect(await database.prisma.analyticsTrainingSession.count({ where: { cohortId } })).toBe(0);
    expect(await database.prisma.analyticsEnrollment.count({ where: { cohortId } })).toBe(0);
    // Learners who come after the deletion count again.
    await applyInOrder([await training('training.learner.enrolled', { cohortId, learnerId: 'l4', enrolledAt: '2026-03-02T09:00:00.000Z' }), await started('s4', cohortId, 'l4')]);
    expect(await cohortAnalytics(ctx(admin), cohortId, range)).toMatchObject({ enrolled: 1, started: 1, sessionsStarted: 1 });
  });

  it('skip a malformed event (logged, consumed) without holding up the rest', async () => {
    const otherCohort = `cohort-${randomUUID()}`;
    const bad = await training('training.session.completed', { cohortId: otherCohort, learnerId: 'l9', score: { total: 'high' } });
    const good = await started('s9', otherCohort, 'l9');
    await drain();
    expect(await database.prisma.eventConsumption.count({ where: { eventId: { in: [bad, good] } } })).toBe(2);
    expect(await database.prisma.analyticsTrainingSession.findMany({ where: { cohortId: otherCohort }, select: { id: true, completedAt: true } })).toEqual([{ id: 's9', completedAt: null }]);
  });
});

describe('nurse queue projection', () => {
  const queue = (entryId: string, change: Record<string, unknown>) =>
    emit({ type: 'nurse.queue.changed', organizationId: ORG, payload: { entryId, organizationId: ORG, source: 'MANUAL', createdAt: '2026-03-01T08:00:00.000Z', slaDueAt: '2026-03-01T08:15:00.000Z', ...change } as never });

  it('applies changes by version, whatever order they arrive in', async () => {
    const added = await queue('e1', { kind: 'ADDED', urgency: 'HIGH', status: 'WAITING', version: 1, action: null, at: '2026-03-01T08:00:00.000Z' });
    const claimed = await queue('e1', { kind: 'CHANGED', urgency: 'HIGH', status: 'IN_REVIEW', version: 2, action: 'CLAIM', at: '2026-03-01T08:10:00.000Z' });
    const escalated = await queue('e1', { kind: 'CHANGED', urgency: 'CRITICAL', status: 'ESCALATED', version: 3, action: 'ESCALATE', at: '2026-03-01T08:20:00.000Z' });
    await applyInOrder([escalated, claimed, added]);
    const row = await database.prisma.analyticsQueueEntry.findUniqueOrThrow({ where: { id: 'e1' } });
    expect(row).toMatchObject({ initialUrgency: 'HIGH', urgency: 'CRITICAL', status: 'ESCALATED', version: 3, escalated: true, closedAt: null });
    expect(row.firstActionAt?.toISOString()).toBe('2026-03-01T08:10:00.000Z');

    // A second entry never picked up, long past its due time: a breach.
    await applyInOrder([await queue('e2', { kind: 'ADDED', urgency: 'LOW', status: 'WAITING', version: 1, action: null })]);
    const metrics = await organizationMetrics(ctx(admin), ORG, new Date('2026-03-01T00:00:00Z'), new Date('2026-03-02T00:00:00Z'));
    expect(metrics.nurseQueue).toMatchObject({
      entries: 2, pickedUp: 1, escalated: 1, closed: 0, stillOpen: 2, medianWaitSeconds: 600, p90WaitSeconds: 600, slaBreaches: 1, slaBreachRate: 0.5,
      byUrgency: [{ urgency: 'HIGH', entries: 1 }, { urgency: 'LOW', entries: 1 }],
    });
  });

  it('refuses an event without the entry’s times, or with a fractional version, as malformed', async () => {
    const base = { kind: 'ADDED', organizationId: ORG, source: 'MANUAL', urgency: 'LOW', status: 'WAITING' };
    const untimed = await emit({ type: 'nurse.queue.changed', organizationId: ORG, payload: { ...base, entryId: 'e3', version: 1 } });
    const fractional = await queue('e4', { ...base, version: 1.5 });
    await drain();
    for (const bad of [untimed, fractional]) {
      expect(await database.prisma.eventConsumption.findMany({ where: { eventId: bad }, select: { consumer: true } })).toEqual([{ consumer: 'analytics.nurse' }]);
    }
    expect(await database.prisma.analyticsQueueEntry.count({ where: { id: { in: ['e3', 'e4'] } } })).toBe(0);
  });
});

describe('billing projection', () => {
  it('counts each payment and refund once, per currency', async () => {
    const paid = (paymentId: string, type: string, amount: number, currency: string) => emit({ type, organizationId: ORG, payload: { paymentId, invoiceId: 'i', organizationId: ORG, kind: 'X', amount, currency } });
    const p1 = await paid('p1', 'payment.deposit.paid', 5000, 'USD');
    await applyInOrder([p1, p1, await paid('p2', 'payment.balance.paid', 7500, 'USD'), await paid('p3', 'payment.tele_fee.paid', 200000, 'NGN')]);
    await applyInOrder([await emit({ type: 'payment.refund.issued', organizationId: ORG, payload: { refundId: 'r1', paymentId: 'p2', organizationId: ORG, amount: 2500, currency: 'USD' } })]);
    const now = new Date();
    const { billing } = await organizationMetrics(ctx(admin), ORG, new Date(now.getTime() - 3_600_000), new Date(now.getTime() + 3_600_000));
    expect(billing).toEqual({
      paymentsSucceeded: 3,
      collected: [{ currency: 'NGN', amount: 200000 }, { currency: 'USD', amount: 12500 }],
      refundsIssued: 1,
      refunded: [{ currency: 'USD', amount: 2500 }],
      net: [{ currency: 'NGN', amount: 200000 }, { currency: 'USD', amount: 10000 }],
    });
  });
});

describe('rebuild', () => {
  it('gives the same read models from the retained events, retention included', async () => {
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
    const result = await rebuildReadModels(database.prisma, log, { batchSize: 3 });
    expect(result.events).toBeGreaterThan(10);
    expect(await snapshot()).toEqual(before);
    // Every replayed event is recorded as consumed: the live consumers find nothing left to do.
    expect(await runner().consumeOnce(analyticsConsumers[0] as (typeof analyticsConsumers)[number])).toBe(0);
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
