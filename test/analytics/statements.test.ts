import { randomUUID } from 'node:crypto';
import { organizationCohortAnalytics } from '../../subgraphs/analytics/service.js';
import { openTestDatabase } from '../support/database.js';
import { analyticsContext } from './support.js';

/** No N+1: the figures of 3 cohorts and of 60 cost the same number of SQL statements. */
let database: Awaited<ReturnType<typeof openTestDatabase>>;
const small = `org-${randomUUID()}`;
const large = `org-${randomUUID()}`;

async function cohortsWithSessions(organizationId: string, cohorts: number): Promise<void> {
  const ids = Array.from({ length: cohorts }, () => randomUUID());
  await database.prisma.analyticsCohort.createMany({ data: ids.map((id) => ({ id, organizationId, partnerId: 'p' })) });
  await database.prisma.analyticsEnrollment.createMany({ data: ids.flatMap((cohortId) => [1, 2].map((n) => ({ cohortId, learnerId: `l${n}`, enrolledAt: new Date(), eventSeq: 1n }))) });
  await database.prisma.analyticsTrainingSession.createMany({
    data: ids.flatMap((cohortId) => [40, 80].map((totalScore, n) => ({
      id: randomUUID(), organizationId, cohortId, learnerId: `l${n}`, caseId: 'c', caseVersion: 1, startedAt: new Date(), completedAt: new Date(), totalScore, eventSeq: 1n,
      subScores: [{ section: 'history', score: totalScore }], flaggedErrors: [{ code: 'X', severity: 'minor' }],
    }))),
  });
}

beforeAll(async () => {
  database = await openTestDatabase({ countStatements: true });
  await cohortsWithSessions(small, 3);
  await cohortsWithSessions(large, 60);
});
afterAll(async () => {
  await database?.closeAll();
});

async function measure(organizationId: string): Promise<{ statements: number; rows: number; means: Array<number | null> }> {
  // Through the policies, as a request reads: their own lookups count too.
  const ctx = analyticsContext(database.prisma, { kind: 'user', subject: 'bi', role: 'BI', organizationId });
  const before = database.statements.length;
  const figures = await organizationCohortAnalytics(ctx, organizationId, { from: null, to: null });
  const statements = database.statements.slice(before).filter((sql) => sql.includes('"analytics".')).length;
  return { statements, rows: figures.length, means: [...new Set(figures.map((f) => f.meanTotalScore))] };
}

it('costs the same number of statements for 3 cohorts and for 60', async () => {
  const few = await measure(small);
  const many = await measure(large);
  expect(few).toMatchObject({ rows: 3, means: [60] });
  expect(many).toMatchObject({ rows: 60, means: [60] });
  expect(few.statements).toBeGreaterThan(0);
  expect(many.statements).toBe(few.statements);
});
