import { randomUUID } from 'node:crypto';
import { COHORTS, ORGS, PARTNERS } from '../../prisma/seed-data.js';
import { TrainingEvents } from '../../subgraphs/kit/events/training.js';
import { recordEvent } from '../../subgraphs/kit/outbox.js';
import { entitiesQuery, runAgainstSubgraph, runThroughGateway, SEEDED, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * Every role against every root field of the analytics subgraph and its entity lookup. The
 * seeded PARTNER acts for Northwind (not Southbank); every seeded role belongs to Clinic North,
 * so the hospital's figures, and a cohort of the hospital's, are another organization's for all
 * of them.
 */
let t: TestPlatform;
/** A cohort of another organization (the hospital), of a partner of its own: announced as training would. */
const HOSPITAL_COHORT = randomUUID();
beforeAll(async () => {
  t = await startTestPlatform();
  const prisma = t.platform.database.prisma;
  const partnerId = randomUUID();
  await prisma.$transaction(async (tx) => {
    const envelope = { organizationId: ORGS.hospital.id, partnerId };
    await recordEvent(tx, TrainingEvents.partnerRegistered, { ...envelope, aggregateId: partnerId, payload: { partnerId, organizationId: ORGS.hospital.id, principalId: null } });
    await recordEvent(tx, TrainingEvents.cohortRegistered, { ...envelope, aggregateId: HOSPITAL_COHORT, payload: { cohortId: HOSPITAL_COHORT, partnerId, organizationId: ORGS.hospital.id } });
  });
  // The seeded partners and cohorts reach analytics as events; the matrix needs them there.
  const cohorts = [COHORTS.northwindA.id, COHORTS.southbank.id, HOSPITAL_COHORT];
  const partners = [PARTNERS.northwind.id, PARTNERS.southbank.id, partnerId];
  await until(
    async () => [await prisma.analyticsCohort.count({ where: { id: { in: cohorts } } }), await prisma.analyticsPartner.count({ where: { id: { in: partners } } })],
    ([c, p]) => c === 3 && p === 3,
    'the seeded cohorts in analytics',
  );
});
afterAll(async () => {
  await t?.close();
});

const COHORT_STAFF: Array<Exclude<Caller, 'ANONYMOUS'>> = ['ADMIN', 'CLINICIAN', 'BI'];
const UNKNOWN = '00000000-0000-4000-8000-00000000cafe';
const range = 'from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z"';

const ROOT: MatrixCase[] = [
  { name: 'Query.cohortAnalytics (own partner’s)', query: () => `{ cohortAnalytics(cohortId: "${COHORTS.northwindA.id}") { enrolled } }`, allowed: [...COHORT_STAFF, 'PARTNER'] },
  { name: 'Query.cohortAnalytics (another partner’s)', query: () => `{ cohortAnalytics(cohortId: "${COHORTS.southbank.id}") { enrolled } }`, allowed: COHORT_STAFF },
  { name: 'Query.cohortAnalytics (another organization’s)', query: () => `{ cohortAnalytics(cohortId: "${HOSPITAL_COHORT}") { enrolled } }`, allowed: [] },
  { name: 'Query.cohortAnalytics (unknown)', query: () => `{ cohortAnalytics(cohortId: "${UNKNOWN}") { enrolled } }`, allowed: [...COHORT_STAFF, 'PARTNER'], allowedCode: 'NOT_FOUND' },
  { name: 'Query.organizationCohortAnalytics (own organization)', query: () => `{ organizationCohortAnalytics(organizationId: "${ORGS.clinicNorth.id}") { cohortId } }`, allowed: [...COHORT_STAFF, 'PARTNER'] },
  { name: 'Query.organizationCohortAnalytics (another organization)', query: () => `{ organizationCohortAnalytics(organizationId: "${ORGS.hospital.id}") { cohortId } }`, allowed: [] },
  { name: 'Query.organizationMetrics (own organization)', query: () => `{ organizationMetrics(organizationId: "${ORGS.clinicNorth.id}", ${range}) { nurseQueue { entries } } }`, allowed: ['ADMIN', 'BI'] },
  { name: 'Query.organizationMetrics (another organization)', query: () => `{ organizationMetrics(organizationId: "${ORGS.hospital.id}", ${range}) { nurseQueue { entries } } }`, allowed: [] },
];

const ENTITIES: MatrixCase[] = [
  { name: '_entities Cohort.analytics (own partner’s)', query: () => entitiesQuery('Cohort', COHORTS.northwindA.id, 'analytics { enrolled }'), allowed: [...COHORT_STAFF, 'PARTNER'] },
  { name: '_entities Cohort.analytics (another partner’s)', query: () => entitiesQuery('Cohort', COHORTS.southbank.id, 'analytics { enrolled }'), allowed: COHORT_STAFF },
  { name: '_entities Cohort.analytics (another organization’s)', query: () => entitiesQuery('Cohort', HOSPITAL_COHORT, 'analytics { enrolled }'), allowed: [] },
  { name: '_entities Cohort.analytics (unknown)', query: () => entitiesQuery('Cohort', UNKNOWN, 'analytics { enrolled }'), allowed: [...COHORT_STAFF, 'PARTNER'], allowedCode: 'NOT_FOUND' },
];

describe('analytics authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'analytics', ENTITIES)).toEqual([]);
  });
  it('the organization’s cohorts: all of them for its staff and BI, its own for a partner', async () => {
    const query = `{ organizationCohortAnalytics(organizationId: "${ORGS.clinicNorth.id}") { cohortId } }`;
    const cohortsOf = async (caller: Exclude<Caller, 'ANONYMOUS'>) => {
      const { json } = await postGraphQL(t.graphqlUrl, { query }, { authorization: `Bearer ${await t.tokenFor(SEEDED[caller])}` });
      return (json.data as { organizationCohortAnalytics: Array<{ cohortId: string }> }).organizationCohortAnalytics.map((c) => c.cohortId).sort();
    };
    for (const caller of COHORT_STAFF) expect(await cohortsOf(caller)).toEqual([COHORTS.northwindA.id, COHORTS.southbank.id].sort());
    expect(await cohortsOf('PARTNER')).toEqual([COHORTS.northwindA.id]);
  });
});
