import { COHORTS } from '../../prisma/seed-data.js';
import { CALLERS, entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { launchThrough, northwindLaunchToken } from './support.js';

/**
 * Every role against every root field of the training subgraph and its entity lookups. The
 * session under test belongs to a learner launched by the Northwind partner, so the seeded
 * LEARNER is "another learner" here; the seeded PARTNER acts for Northwind, not Southbank.
 */
let t: TestPlatform;
let sessionId = '';
beforeAll(async () => {
  t = await startTestPlatform();
  sessionId = (await launchThrough(t.graphqlUrl, await northwindLaunchToken())).sessionId;
});
afterAll(async () => {
  await t?.close();
});

const STAFF: Caller[] = ['ADMIN', 'CLINICIAN'];
const UNKNOWN = '00000000-0000-4000-8000-00000000cafe';
const everyone = CALLERS.filter((c) => c !== 'ANONYMOUS');

const ROOT: MatrixCase[] = [
  { name: 'Query.caseSession (another learner’s)', query: () => `{ caseSession(id: "${sessionId}") { id } }`, allowed: ['PARTNER', ...STAFF] },
  { name: 'Query.caseSessions (cohort)', query: () => `{ caseSessions(cohortId: "${COHORTS.northwindA.id}") { id } }`, allowed: ['LEARNER', 'PARTNER', ...STAFF] },
  // BI of the cohort's organization reads cohorts (to label its figures), never their sessions.
  { name: 'Query.cohort (own partner’s)', query: () => `{ cohort(id: "${COHORTS.northwindA.id}") { id } }`, allowed: ['PARTNER', 'BI', ...STAFF] },
  { name: 'Query.cohort (another partner’s)', query: () => `{ cohort(id: "${COHORTS.southbank.id}") { id } }`, allowed: ['BI', ...STAFF] },
  { name: 'Query.cohortCases', query: () => `{ cohortCases(cohortId: "${COHORTS.northwindA.id}") { caseId } }`, allowed: ['PARTNER', 'BI', ...STAFF] },
  { name: 'Query.trainingCases', query: () => '{ trainingCases { id } }', allowed: STAFF },
  { name: 'Query.rescoreSession', query: () => `{ rescoreSession(sessionId: "${sessionId}") { total } }`, allowed: STAFF },
  // The token is the credential: anyone may try, a bad token is UNAUTHENTICATED for everyone.
  { name: 'Mutation.launchSession (bad token)', query: () => 'mutation { launchSession(token: "not-a-token") { accessToken } }', allowed: everyone, allowedCode: 'UNAUTHENTICATED' },
  { name: 'Mutation.signInWithPartnerSso (bad token)', query: () => 'mutation { signInWithPartnerSso(idToken: "not-a-token") { accessToken } }', allowed: everyone, allowedCode: 'UNAUTHENTICATED' },
  { name: 'Mutation.startCaseSession (not enrolled)', query: () => `mutation { startCaseSession(cohortId: "${COHORTS.northwindA.id}") { id } }`, allowed: [] },
  { name: 'Mutation.sendLearnerMessage (another learner’s)', query: () => `mutation { sendLearnerMessage(sessionId: "${sessionId}", text: "hello") { replyTurnId } }`, allowed: [] },
  { name: 'Mutation.orderInvestigation (another learner’s)', query: () => `mutation { orderInvestigation(sessionId: "${sessionId}", code: "ECG") { result } }`, allowed: [] },
  { name: 'Mutation.submitDiagnosis (another learner’s)', query: () => `mutation { submitDiagnosis(sessionId: "${sessionId}", diagnosis: "x") { id } }`, allowed: [] },
  { name: 'Mutation.submitManagement (another learner’s)', query: () => `mutation { submitManagement(sessionId: "${sessionId}", plan: "x") { id } }`, allowed: [] },
  { name: 'Mutation.completeSession (another learner’s)', query: () => `mutation { completeSession(sessionId: "${sessionId}") { id } }`, allowed: [] },
  { name: 'Mutation.deleteCohortLearnerData (unknown cohort)', query: () => `mutation { deleteCohortLearnerData(cohortId: "${UNKNOWN}", reason: "matrix") { sessions } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.createCase (invalid content)', query: () => 'mutation { createCase(input: {slug: "matrix", title: "m", content: {}}) { id } }', allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.reviseCase (unknown)', query: () => `mutation { reviseCase(caseId: "${UNKNOWN}", content: {}) { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.publishCaseVersion (unknown)', query: () => `mutation { publishCaseVersion(versionId: "${UNKNOWN}") { id } }`, allowed: STAFF, allowedCode: 'NOT_FOUND' },
  {
    name: 'Mutation.assignToCohort (another partner’s cohort)',
    query: () => `mutation { assignToCohort(input: {cohortId: "${COHORTS.southbank.id}"}) { id } }`,
    allowed: STAFF,
    allowedCode: 'BAD_USER_INPUT',
  },
];

const ENTITIES: MatrixCase[] = [
  { name: '_entities CaseSession', query: () => entitiesQuery('CaseSession', sessionId, 'status'), allowed: ['PARTNER', ...STAFF] },
  { name: '_entities Cohort (own partner’s)', query: () => entitiesQuery('Cohort', COHORTS.northwindA.id, 'name'), allowed: ['PARTNER', 'BI', ...STAFF] },
  { name: '_entities Cohort (another partner’s)', query: () => entitiesQuery('Cohort', COHORTS.southbank.id, 'name'), allowed: ['BI', ...STAFF] },
];

describe('training authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await runThroughGateway(t, ROOT)).toEqual([]);
  });
  it('entity lookups', async () => {
    expect(await runAgainstSubgraph(t, 'training', ENTITIES)).toEqual([]);
  });
});
