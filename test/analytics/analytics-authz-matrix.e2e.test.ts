import { COHORTS, ORGS } from '../../prisma/seed-data.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * Every role against every root field of the analytics subgraph and its entity lookup. The
 * seeded PARTNER acts for Northwind (not Southbank); every seeded role belongs to Clinic North,
 * so the hospital's figures are another organization's for all of them.
 */
let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
  // The seeded partners and cohorts reach analytics as events; the matrix needs them there.
  const prisma = t.platform.database.prisma;
  await until(async () => [await prisma.analyticsCohort.count(), await prisma.analyticsPartner.count()], ([cohorts, partners]) => cohorts === 2 && partners === 2, 'the seeded cohorts in analytics');
});
afterAll(async () => {
  await t?.close();
});

const COHORT_STAFF: Caller[] = ['ADMIN', 'CLINICIAN', 'BI'];
const UNKNOWN = '00000000-0000-4000-8000-00000000cafe';
const range = 'from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z"';

const ROOT: MatrixCase[] = [
  { name: 'Query.cohortAnalytics (own partner’s)', query: () => `{ cohortAnalytics(cohortId: "${COHORTS.northwindA.id}") { enrolled } }`, allowed: [...COHORT_STAFF, 'PARTNER'] },
  { name: 'Query.cohortAnalytics (another partner’s)', query: () => `{ cohortAnalytics(cohortId: "${COHORTS.southbank.id}") { enrolled } }`, allowed: COHORT_STAFF },
  { name: 'Query.cohortAnalytics (unknown)', query: () => `{ cohortAnalytics(cohortId: "${UNKNOWN}") { enrolled } }`, allowed: [...COHORT_STAFF, 'PARTNER'], allowedCode: 'NOT_FOUND' },
  { name: 'Query.organizationCohortAnalytics (own organization)', query: () => `{ organizationCohortAnalytics(organizationId: "${ORGS.clinicNorth.id}") { cohortId } }`, allowed: [...COHORT_STAFF, 'PARTNER'] },
  { name: 'Query.organizationCohortAnalytics (another organization)', query: () => `{ organizationCohortAnalytics(organizationId: "${ORGS.hospital.id}") { cohortId } }`, allowed: [] },
  { name: 'Query.organizationMetrics (own organization)', query: () => `{ organizationMetrics(organizationId: "${ORGS.clinicNorth.id}", ${range}) { nurseQueue { entries } } }`, allowed: ['ADMIN', 'BI'] },
  { name: 'Query.organizationMetrics (another organization)', query: () => `{ organizationMetrics(organizationId: "${ORGS.hospital.id}", ${range}) { nurseQueue { entries } } }`, allowed: [] },
];

const ENTITIES: MatrixCase[] = [
  { name: '_entities Cohort.analytics (own partner’s)', query: () => entitiesQuery('Cohort', COHORTS.northwindA.id, 'analytics { enrolled }'), allowed: [...COHORT_STAFF, 'PARTNER'] },
  { name: '_entities Cohort.analytics (another partner’s)', query: () => entitiesQuery('Cohort', COHORTS.southbank.id, 'analytics { enrolled }'), allowed: COHORT_STAFF },
];

describe('analytics authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'analytics', ENTITIES)).toEqual([]);
  });
});
