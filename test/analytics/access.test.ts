import { randomUUID } from 'node:crypto';
import { cohortAnalytics, organizationCohortAnalytics, organizationMetrics } from '../../subgraphs/analytics/service.js';
import { DomainError } from '../../subgraphs/kit/errors.js';
import type { Identity, RoleName } from '../../subgraphs/kit/identity.js';
import { openTestDatabase } from '../support/database.js';
import { analyticsContext } from './support.js';

/**
 * The analytics policies (policies.ts) on their own, against read-model rows written directly:
 * which cohorts, sessions, enrolments and metrics each caller reads through `ctx.db`, and that
 * no request changes a read model.
 */
let database: Awaited<ReturnType<typeof openTestDatabase>>;
const ORG = `org-${randomUUID()}`;
const OTHER_ORG = `org-${randomUUID()}`;
const PRINCIPAL = `partner-user-${randomUUID()}`;
const id = (prefix: string) => `${prefix}-${randomUUID()}`;
const own = { partner: id('partner'), cohort: id('cohort') };
const sibling = { partner: id('partner'), cohort: id('cohort') };
const foreign = { partner: id('partner'), cohort: id('cohort') };
const range = { from: null, to: null };
const window = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') };

beforeAll(async () => {
  database = await openTestDatabase();
  const { prisma } = database;
  await prisma.analyticsPartner.createMany({
    data: [
      { id: own.partner, organizationId: ORG, principalId: PRINCIPAL },
      { id: sibling.partner, organizationId: ORG, principalId: null },
      { id: foreign.partner, organizationId: OTHER_ORG, principalId: null },
    ],
  });
  const cohorts = [{ ...own, organizationId: ORG }, { ...sibling, organizationId: ORG }, { ...foreign, organizationId: OTHER_ORG }];
  await prisma.analyticsCohort.createMany({ data: cohorts.map((c) => ({ id: c.cohort, organizationId: c.organizationId, partnerId: c.partner })) });
  await prisma.analyticsEnrollment.createMany({ data: cohorts.map((c) => ({ cohortId: c.cohort, learnerId: 'l1', enrolledAt: new Date('2026-03-01T09:00:00Z'), eventSeq: 1n })) });
  await prisma.analyticsTrainingSession.createMany({
    data: cohorts.map((c) => ({
      id: id('session'), organizationId: c.organizationId, partnerId: c.partner, cohortId: c.cohort, learnerId: 'l1', caseId: 'case-1', caseVersion: 1,
      startedAt: new Date('2026-03-01T10:00:00Z'), completedAt: new Date('2026-03-01T10:30:00Z'), totalScore: 60, eventSeq: 1n,
    })),
  });
  const entry = (organizationId: string) => ({
    id: id('entry'), organizationId, source: 'MANUAL', initialUrgency: 'LOW', urgency: 'LOW', status: 'WAITING',
    createdAt: new Date('2026-03-01T08:00:00Z'), slaDueAt: new Date('2026-03-01T20:00:00Z'), version: 1,
  });
  await prisma.analyticsQueueEntry.createMany({ data: [entry(ORG), entry(OTHER_ORG)] });
  await prisma.analyticsMoneyMovement.createMany({
    data: [ORG, OTHER_ORG].map((organizationId) => ({ id: id('payment'), organizationId, kind: 'DEPOSIT', amount: 100, currency: 'USD', at: new Date('2026-03-01T12:00:00Z') })),
  });
});
afterAll(async () => {
  await database?.closeAll();
});

const as = (role: RoleName, organizationId: string | null = ORG, subject = `user-${role}`): Identity => ({ kind: 'user', subject, role, organizationId });
const ctx = (identity: Identity) => analyticsContext(database.prisma, identity);
const partner = as('PARTNER', ORG, PRINCIPAL);

async function codeOf(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return 'OK';
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe('cohort figures', () => {
  it('for the cohort’s partner, and admins, clinicians and BI of its organization', async () => {
    const callers: Array<[string, Identity, Record<string, string>]> = [
      ['partner', partner, { own: 'OK', sibling: 'FORBIDDEN', foreign: 'FORBIDDEN', unknown: 'NOT_FOUND' }],
      ['admin', as('ADMIN'), { own: 'OK', sibling: 'OK', foreign: 'FORBIDDEN', unknown: 'NOT_FOUND' }],
      ['clinician', as('CLINICIAN'), { own: 'OK', sibling: 'OK', foreign: 'FORBIDDEN', unknown: 'NOT_FOUND' }],
      ['bi', as('BI'), { own: 'OK', sibling: 'OK', foreign: 'FORBIDDEN', unknown: 'NOT_FOUND' }],
      ['another organization’s admin', as('ADMIN', OTHER_ORG), { own: 'FORBIDDEN', sibling: 'FORBIDDEN', foreign: 'OK', unknown: 'NOT_FOUND' }],
      ['a partner principal no partner names', as('PARTNER', ORG), { own: 'FORBIDDEN', sibling: 'FORBIDDEN', foreign: 'FORBIDDEN', unknown: 'NOT_FOUND' }],
      ['nurse', as('NURSE'), { own: 'FORBIDDEN', sibling: 'FORBIDDEN', foreign: 'FORBIDDEN', unknown: 'FORBIDDEN' }],
      ['anonymous', { kind: 'anonymous' }, { own: 'UNAUTHENTICATED', sibling: 'UNAUTHENTICATED', foreign: 'UNAUTHENTICATED', unknown: 'UNAUTHENTICATED' }],
    ];
    const cohorts = { own: own.cohort, sibling: sibling.cohort, foreign: foreign.cohort, unknown: id('cohort') };
    for (const [name, identity, expected] of callers) {
      const got: Record<string, string> = {};
      for (const [which, cohortId] of Object.entries(cohorts)) got[which] = await codeOf(cohortAnalytics(ctx(identity), cohortId, range));
      expect({ name, got }).toEqual({ name, got: expected });
    }
    // The API's words, not the read model's.
    await expect(cohortAnalytics(ctx(as('ADMIN')), 'nope', range)).rejects.toThrow('Cohort not found');
  });

  it('per organization: staff and BI see all of their own organization’s, a partner its own, nobody another organization’s', async () => {
    const ids = async (identity: Identity, organizationId: string) => (await organizationCohortAnalytics(ctx(identity), organizationId, range)).map((c) => c.cohortId).sort();
    expect(await ids(as('BI'), ORG)).toEqual([own.cohort, sibling.cohort].sort());
    expect(await ids(as('CLINICIAN'), ORG)).toEqual([own.cohort, sibling.cohort].sort());
    expect(await ids(partner, ORG)).toEqual([own.cohort]);
    for (const identity of [as('BI'), as('ADMIN'), partner, as('PARTNER', ORG)]) expect(await codeOf(organizationCohortAnalytics(ctx(identity), OTHER_ORG, range))).toBe('FORBIDDEN');
    expect(await codeOf(organizationCohortAnalytics(ctx(as('PARTNER', ORG)), ORG, range))).toBe('FORBIDDEN');
  });

  it('counts only the rows of cohorts the caller sees, however it asks', async () => {
    const { db } = ctx(partner);
    expect((await db.analyticsTrainingSession.findMany({ select: { cohortId: true } })).map((s) => s.cohortId)).toEqual([own.cohort]);
    expect((await db.analyticsEnrollment.findMany({ select: { cohortId: true } })).map((e) => e.cohortId)).toEqual([own.cohort]);
    expect((await db.analyticsPartner.findMany({ select: { id: true } })).map((p) => p.id)).toEqual([own.partner]);
    expect(await db.analyticsQueueEntry.count()).toBe(0);
    expect(await db.analyticsMoneyMovement.count()).toBe(0);
    const staff = ctx(as('CLINICIAN')).db;
    expect(new Set((await staff.analyticsTrainingSession.findMany({ select: { organizationId: true } })).map((s) => s.organizationId))).toEqual(new Set([ORG]));
    expect(await staff.analyticsEnrollment.count()).toBe(2);
    // A clinician reads cohort figures, not the organization's operations.
    expect(await staff.analyticsQueueEntry.count()).toBe(0);
  });
});

describe('organization metrics', () => {
  it('for admins and BI of the organization only', async () => {
    const code = (identity: Identity, organizationId = ORG) => codeOf(organizationMetrics(ctx(identity), organizationId, window.from, window.to));
    expect(await code(as('ADMIN'))).toBe('OK');
    expect(await code(as('BI'))).toBe('OK');
    for (const role of ['CLINICIAN', 'NURSE', 'BILLING', 'PARTNER', 'PATIENT'] as const) expect(await code(as(role))).toBe('FORBIDDEN');
    expect(await code(as('ADMIN'), OTHER_ORG)).toBe('FORBIDDEN');
    expect(await code(as('ADMIN', null))).toBe('FORBIDDEN');
    expect(await code({ kind: 'anonymous' })).toBe('UNAUTHENTICATED');
    const metrics = await organizationMetrics(ctx(as('BI')), ORG, window.from, window.to);
    expect(metrics).toMatchObject({ nurseQueue: { entries: 1 }, training: { sessionsStarted: 2, sessionsCompleted: 2 }, billing: { paymentsSucceeded: 1 } });
  });
});

describe('writes', () => {
  it('are never a request’s: the read models change only through the projections', async () => {
    const { db } = ctx(as('ADMIN'));
    expect((await db.analyticsCohort.updateMany({ data: { partnerId: 'stolen' } })).count).toBe(0);
    expect((await db.analyticsQueueEntry.deleteMany({})).count).toBe(0);
    expect(await codeOf(db.analyticsCohort.update({ where: { id: own.cohort }, data: { partnerId: 'stolen' } }))).toBe('FORBIDDEN');
    expect(await codeOf(db.analyticsMoneyMovement.create({ data: { id: id('payment'), organizationId: ORG, kind: 'DEPOSIT', amount: 1, currency: 'USD', at: new Date() } }))).toBe('FORBIDDEN');
    expect(await database.prisma.analyticsCohort.count({ where: { partnerId: 'stolen' } })).toBe(0);
  });
});
