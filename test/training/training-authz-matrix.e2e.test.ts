import { randomUUID } from 'node:crypto';
import type { Prisma } from '../../prisma/generated/client/client.js';
import { SEED_CASES } from '../../prisma/seed-cases.js';
import { caseIdFor, COHORTS, ORGS, PARTNERS, USERS } from '../../prisma/seed-data.js';
import { signPlatformToken } from '../../subgraphs/kit/tokens.js';
import { CALLERS, entitiesQuery, runAgainstSubgraph, runThroughGateway, type Caller, type MatrixCase } from '../support/authz-matrix.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { launchThrough, northwindLaunchToken } from './support.js';

/**
 * Every role against every root field of the training subgraph and its entity lookups. The
 * session under test belongs to a learner launched by the Northwind partner, so the seeded
 * LEARNER is "another learner" here; the seeded PARTNER acts for Northwind, not Southbank.
 * Records of another organization (Riverside hospital: its partner, cohort, case, case set,
 * learner and session) are created below: every reference to one is refused, and nothing is
 * written.
 *
 * Fast and deterministic: one platform, one token per seeded caller, and the cases run
 * concurrently in a small pool. No case may write (allowed callers get data or a refusal),
 * so the order they run in cannot change an outcome.
 */
let t: TestPlatform;
/** `t` with each seeded caller's token signed once. */
let fast: TestPlatform;
let sessionId = '';
let learnerToken = '';
let learnerId = '';
const UNKNOWN = '00000000-0000-4000-8000-00000000cafe';
const foreign = { partnerId: '', cohortId: '', caseId: '', draftVersionId: '', caseSetId: '', sessionId: '' };
/** Northwind-signed launch tokens naming what Northwind may not launch (refused, so never used up). */
const launches = { foreignCohort: '', foreignCase: '' };

async function createForeignOrganizationRecords(prisma: TestPlatform['platform']['database']['prisma']): Promise<void> {
  const content = SEED_CASES.find((c) => c.slug === 'chest-pain-acs')?.content as unknown as Prisma.InputJsonValue;
  const organizationId = ORGS.hospital.id;
  const partner = await prisma.partner.create({ data: { organizationId, name: 'Riverside LMS', launchIssuer: `https://lms.riverside-${randomUUID()}.example`, launchSecret: 'riverside-test-secret-not-a-credential' } });
  const cohort = await prisma.cohort.create({ data: { organizationId, partnerId: partner.id, name: 'Riverside residents' } });
  const riversideCase = await prisma.case.create({
    data: {
      organizationId, slug: 'riverside-acs', title: 'Riverside ACS',
      versions: { create: [{ number: 1, status: 'PUBLISHED', publishedAt: new Date(), content }, { number: 2, content }] },
    },
    include: { versions: { orderBy: { number: 'asc' } } },
  });
  const caseSet = await prisma.caseSet.create({ data: { organizationId, title: 'Riverside set', items: { create: [{ caseId: riversideCase.id, position: 0 }] } } });
  await prisma.cohortAssignment.create({ data: { cohortId: cohort.id, caseId: riversideCase.id } });
  const learner = await prisma.learner.create({ data: { partnerId: partner.id, externalSubject: `riverside-${randomUUID()}`, enrollments: { create: { cohortId: cohort.id } } } });
  const published = riversideCase.versions[0]?.id as string;
  const session = await prisma.caseSession.create({ data: { organizationId, partnerId: partner.id, cohortId: cohort.id, learnerId: learner.id, caseVersionId: published } });
  Object.assign(foreign, { partnerId: partner.id, cohortId: cohort.id, caseId: riversideCase.id, draftVersionId: riversideCase.versions[1]?.id, caseSetId: caseSet.id, sessionId: session.id });
}

beforeAll(async () => {
  t = await startTestPlatform();
  const tokens = new Map<string, Promise<string>>();
  fast = {
    ...t,
    tokenFor(user) {
      const key = typeof user === 'string' ? USERS[user].id : user.id;
      let token = tokens.get(key);
      if (!token) tokens.set(key, (token = t.tokenFor(user)));
      return token;
    },
  };
  await createForeignOrganizationRecords(t.platform.database.prisma);
  const launched = await launchThrough(t.graphqlUrl, await northwindLaunchToken());
  sessionId = launched.sessionId;
  learnerToken = launched.accessToken;
  learnerId = (await t.platform.database.prisma.caseSession.findUniqueOrThrow({ where: { id: sessionId } })).learnerId;
  launches.foreignCohort = await northwindLaunchToken({ cohort_id: foreign.cohortId });
  launches.foreignCase = await northwindLaunchToken({ case_id: foreign.caseId });
});
afterAll(async () => {
  await t?.close();
});

/** Runs the cases in `size` concurrent lanes; mismatches sorted, so the report does not depend on timing. */
async function pooled(cases: MatrixCase[], run: (lane: MatrixCase[]) => Promise<string[]>, size = 4): Promise<string[]> {
  const lanes = Array.from({ length: size }, (_, lane) => cases.filter((_c, i) => i % size === lane));
  return (await Promise.all(lanes.map(run))).flat().sort();
}

/** What the matrix must never change: training's rows, and the foreign organization's as they were. */
async function fingerprint(): Promise<string> {
  const prisma = t.platform.database.prisma;
  const counts = await Promise.all([
    prisma.case.count(), prisma.caseVersion.count(), prisma.caseVersion.count({ where: { status: 'PUBLISHED' } }), prisma.caseSet.count(), prisma.caseSetItem.count(),
    prisma.cohortAssignment.count(), prisma.learner.count(), prisma.enrollment.count(), prisma.launchNonce.count(),
    prisma.caseSession.count(), prisma.sessionTurn.count(), prisma.investigationOrder.count(),
    prisma.auditEvent.count({ where: { source: 'training' } }), prisma.partner.count(), prisma.cohort.count(), prisma.ltiPlatform.count(),
  ]);
  const foreignRows = await Promise.all([
    prisma.partner.findMany({ where: { organizationId: ORGS.hospital.id }, orderBy: { id: 'asc' } }),
    prisma.cohort.findMany({ where: { organizationId: ORGS.hospital.id }, orderBy: { id: 'asc' } }),
    prisma.caseVersion.findMany({ where: { caseId: foreign.caseId }, orderBy: { number: 'asc' } }),
    prisma.caseSession.findMany({ where: { organizationId: ORGS.hospital.id }, orderBy: { id: 'asc' } }),
  ]);
  return JSON.stringify({ counts, foreignRows });
}

const STAFF: Caller[] = ['ADMIN', 'CLINICIAN'];
const everyone = CALLERS.filter((c) => c !== 'ANONYMOUS');
const ASSIGN = (input: string): string => `mutation { assignToCohort(input: {${input}}) { id } }`;

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
  { name: 'Mutation.assignToCohort (another partner’s cohort)', query: () => ASSIGN(`cohortId: "${COHORTS.southbank.id}"`), allowed: STAFF, allowedCode: 'BAD_USER_INPUT' },
  // Partner onboarding: admins of the organization; a partner reads its own record only.
  { name: 'Query.partners', query: () => '{ partners { id } }', allowed: ['ADMIN', 'PARTNER'] },
  { name: 'Query.partner (Northwind, the seeded partner’s own)', query: () => `{ partner(id: "${PARTNERS.northwind.id}") { id launchSigning } }`, allowed: ['ADMIN', 'PARTNER'] },
  { name: 'Query.partner (Southbank)', query: () => `{ partner(id: "${PARTNERS.southbank.id}") { id } }`, allowed: ['ADMIN'] },
  { name: 'Mutation.registerPartner (invalid)', query: () => 'mutation { registerPartner(input: {name: "", launchIssuer: "https://matrix.example", launchSigning: SECRET}) { launchSecret } }', allowed: ['ADMIN'], allowedCode: 'BAD_USER_INPUT' },
  { name: 'Mutation.updatePartner (unknown)', query: () => `mutation { updatePartner(id: "${UNKNOWN}", input: {name: "m"}) { id } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.rotatePartnerLaunchSecret (unknown)', query: () => `mutation { rotatePartnerLaunchSecret(partnerId: "${UNKNOWN}") { launchSecret } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.createCohort (unknown partner)', query: () => `mutation { createCohort(input: {partnerId: "${UNKNOWN}", name: "m"}) { id } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  { name: 'Mutation.renameCohort (unknown)', query: () => `mutation { renameCohort(id: "${UNKNOWN}", name: "m") { id } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
  { name: 'Query.ltiPlatforms', query: () => '{ ltiPlatforms { id } }', allowed: ['ADMIN'] },
  {
    name: 'Mutation.registerLtiPlatform (invalid)',
    query: () => `mutation { registerLtiPlatform(input: {partnerId: "${PARTNERS.northwind.id}", issuer: "not a url", clientId: "c", deploymentIds: ["d"], authLoginUrl: "https://lms.example/auth", accessTokenUrl: "https://lms.example/token", jwksUrl: "https://lms.example/jwks"}) { id } }`,
    allowed: ['ADMIN'],
    allowedCode: 'BAD_USER_INPUT',
  },
  { name: 'Mutation.archiveCohort (unknown)', query: () => `mutation { archiveCohort(id: "${UNKNOWN}") { id } }`, allowed: ['ADMIN'], allowedCode: 'NOT_FOUND' },
];

/** References to records of another organization or another partner: refused for every caller. */
const CROSS: MatrixCase[] = [
  { name: 'assignToCohort: own cohort, another organization’s case', query: () => ASSIGN(`cohortId: "${COHORTS.northwindA.id}", caseId: "${foreign.caseId}"`), allowed: [] },
  { name: 'assignToCohort: own cohort, another organization’s case set', query: () => ASSIGN(`cohortId: "${COHORTS.northwindA.id}", caseSetId: "${foreign.caseSetId}"`), allowed: [] },
  { name: 'assignToCohort: another organization’s cohort, own case', query: () => ASSIGN(`cohortId: "${foreign.cohortId}", caseId: "${caseIdFor('dka')}"`), allowed: [] },
  // Staff of the organization may assign to any of its cohorts: a past due date keeps them from writing.
  {
    name: 'assignToCohort: another partner’s cohort (valid case)',
    query: () => ASSIGN(`cohortId: "${COHORTS.southbank.id}", caseId: "${caseIdFor('dka')}", dueAt: "2001-01-01T00:00:00Z"`),
    allowed: STAFF,
    allowedCode: 'BAD_USER_INPUT',
  },
  { name: 'partner: another organization’s', query: () => `{ partner(id: "${foreign.partnerId}") { id } }`, allowed: [] },
  { name: 'updatePartner: another organization’s', query: () => `mutation { updatePartner(id: "${foreign.partnerId}", input: {name: "Taken"}) { id } }`, allowed: [] },
  { name: 'rotatePartnerLaunchSecret: another organization’s', query: () => `mutation { rotatePartnerLaunchSecret(partnerId: "${foreign.partnerId}") { launchSecret } }`, allowed: [] },
  { name: 'createCohort: another organization’s partner', query: () => `mutation { createCohort(input: {partnerId: "${foreign.partnerId}", name: "Planted"}) { id } }`, allowed: [] },
  {
    name: 'registerLtiPlatform: another organization’s partner',
    query: () => `mutation { registerLtiPlatform(input: {partnerId: "${foreign.partnerId}", issuer: "https://lms.example", clientId: "c", deploymentIds: ["d"], authLoginUrl: "https://lms.example/auth", accessTokenUrl: "https://lms.example/token", jwksUrl: "https://lms.example/jwks"}) { id } }`,
    allowed: [],
  },
  { name: 'renameCohort: another organization’s cohort', query: () => `mutation { renameCohort(id: "${foreign.cohortId}", name: "Planted") { id } }`, allowed: [] },
  { name: 'archiveCohort: another organization’s cohort', query: () => `mutation { archiveCohort(id: "${foreign.cohortId}") { id } }`, allowed: [] },
  { name: 'startCaseSession: another organization’s cohort', query: () => `mutation { startCaseSession(cohortId: "${foreign.cohortId}") { id } }`, allowed: [] },
  { name: 'deleteCohortLearnerData: another organization’s cohort', query: () => `mutation { deleteCohortLearnerData(cohortId: "${foreign.cohortId}", reason: "matrix") { sessions } }`, allowed: [] },
  { name: 'reviseCase: another organization’s case', query: () => `mutation { reviseCase(caseId: "${foreign.caseId}", content: {}) { id } }`, allowed: [] },
  { name: 'publishCaseVersion: another organization’s draft', query: () => `mutation { publishCaseVersion(versionId: "${foreign.draftVersionId}") { id } }`, allowed: [] },
  { name: 'orderInvestigation: another organization’s session', query: () => `mutation { orderInvestigation(sessionId: "${foreign.sessionId}", code: "ECG") { result } }`, allowed: [] },
  { name: 'completeSession: another organization’s session', query: () => `mutation { completeSession(sessionId: "${foreign.sessionId}") { id } }`, allowed: [] },
  { name: 'rescoreSession: another organization’s session', query: () => `{ rescoreSession(sessionId: "${foreign.sessionId}") { total } }`, allowed: [] },
  { name: 'caseSession: another organization’s', query: () => `{ caseSession(id: "${foreign.sessionId}") { id } }`, allowed: [] },
  // A learner asking for another cohort's sessions gets their own there: none.
  { name: 'caseSessions: another organization’s cohort', query: () => `{ caseSessions(cohortId: "${foreign.cohortId}") { id } }`, allowed: ['LEARNER'] },
  { name: 'cohort: another organization’s', query: () => `{ cohort(id: "${foreign.cohortId}") { id } }`, allowed: [] },
  { name: 'cohortCases: another organization’s cohort', query: () => `{ cohortCases(cohortId: "${foreign.cohortId}") { caseId } }`, allowed: [] },
  // Northwind's own signature does not reach another partner's cohort or case, whoever presents it.
  { name: 'launchSession: Northwind token for another organization’s cohort', query: () => `mutation { launchSession(token: "${launches.foreignCohort}") { accessToken } }`, allowed: [], outcomes: { ANONYMOUS: 'FORBIDDEN' } },
  { name: 'launchSession: Northwind token for another organization’s case', query: () => `mutation { launchSession(token: "${launches.foreignCase}") { accessToken } }`, allowed: [], outcomes: { ANONYMOUS: 'FORBIDDEN' } },
];

const ENTITIES: MatrixCase[] = [
  { name: '_entities CaseSession', query: () => entitiesQuery('CaseSession', sessionId, 'status'), allowed: ['PARTNER', ...STAFF] },
  { name: '_entities CaseSession (another organization’s)', query: () => entitiesQuery('CaseSession', foreign.sessionId, 'status'), allowed: [] },
  { name: '_entities Cohort (own partner’s)', query: () => entitiesQuery('Cohort', COHORTS.northwindA.id, 'name'), allowed: ['PARTNER', 'BI', ...STAFF] },
  { name: '_entities Cohort (another partner’s)', query: () => entitiesQuery('Cohort', COHORTS.southbank.id, 'name'), allowed: ['BI', ...STAFF] },
  { name: '_entities Cohort (another organization’s)', query: () => entitiesQuery('Cohort', foreign.cohortId, 'name'), allowed: [] },
  // Any signed-in caller may ask; the access policies answer the profile only to those who may see the learner (onboarding.e2e).
  { name: '_entities User (learner profile)', query: () => entitiesQuery('User', learnerId, 'learner { partnerId }'), allowed: everyone },
];

describe('training authorization matrix', () => {
  it('root fields through the gateway', async () => {
    expect(await pooled(ROOT, (lane) => runThroughGateway(fast, lane))).toEqual([]);
  });

  it('references to another organization’s or partner’s records: refused, nothing written', async () => {
    const before = await fingerprint();
    expect(await pooled(CROSS, (lane) => runThroughGateway(fast, lane))).toEqual([]);
    expect(await fingerprint()).toEqual(before);
  });

  it('entity lookups', async () => {
    expect(await pooled(ENTITIES, (lane) => runAgainstSubgraph(fast, 'training', lane))).toEqual([]);
  });

  it('a launched learner reaches only their own cohort and sessions, even with a token naming other cohorts', async () => {
    // A platform token naming cohorts the learner is not enrolled in (as a stale one might).
    const wider = await signPlatformToken(t.keys, { userId: learnerId, role: 'LEARNER', organizationId: ORGS.clinicNorth.id, cohortIds: [COHORTS.northwindA.id, COHORTS.southbank.id, foreign.cohortId] });
    const attempts: Array<[token: string, query: string]> = [
      [learnerToken, `mutation { startCaseSession(cohortId: "${COHORTS.southbank.id}") { id } }`],
      [wider, `mutation { startCaseSession(cohortId: "${COHORTS.southbank.id}") { id } }`],
      [wider, `mutation { startCaseSession(cohortId: "${foreign.cohortId}") { id } }`],
      [learnerToken, `mutation { startCaseSession(cohortId: "${COHORTS.northwindA.id}", caseId: "${foreign.caseId}") { id } }`],
      [learnerToken, `mutation { sendLearnerMessage(sessionId: "${foreign.sessionId}", text: "hello") { replyTurnId } }`],
      [learnerToken, `mutation { orderInvestigation(sessionId: "${foreign.sessionId}", code: "ECG") { result } }`],
      [learnerToken, `mutation { submitDiagnosis(sessionId: "${foreign.sessionId}", diagnosis: "x") { id } }`],
      [learnerToken, `{ caseSession(id: "${foreign.sessionId}") { id } }`],
      [learnerToken, `{ cohort(id: "${COHORTS.southbank.id}") { id } }`],
      [learnerToken, `{ cohortCases(cohortId: "${foreign.cohortId}") { caseId } }`],
    ];
    const before = await fingerprint();
    const outcomes = await Promise.all(attempts.map(async ([token, query]) => errorCodes((await postGraphQL(t.graphqlUrl, { query }, { authorization: `Bearer ${token}` })).json)));
    expect(outcomes).toEqual(attempts.map(() => ['FORBIDDEN']));
    expect(await fingerprint()).toEqual(before);
  });
});
