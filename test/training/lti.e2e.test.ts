import { randomUUID } from 'node:crypto';
import { caseIdFor, ORGS } from '../../prisma/seed-data.js';
import { ltiLoginExpiry, nextScoreAttempt } from '../../subgraphs/training/lti.js';
import { FakeLtiPlatform, formFields, type PlannedLaunch } from '../support/fake-lti-platform.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * LTI 1.3 end to end through the gateway, against a local platform that signs and receives as
 * a real one does: registration through the partner API, the OIDC third-party-initiated login,
 * the id_token launch into the partner's learner app, and the score posted back (Assignment
 * and Grade Services), retried until the platform accepts it.
 */
let t: TestPlatform;
let platform: FakeLtiPlatform;
let partnerId = '';
const LEARNER_APP = 'https://learn.lti-partner.example/app';
const LEARNER_ROLE = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';

const asAdmin = async (query: string, variables: Record<string, unknown> = {}) =>
  postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${await t.tokenFor('admin')}` });

const launchPlan = (overrides: Partial<PlannedLaunch> = {}): PlannedLaunch => ({
  sub: `moodle-user-${randomUUID().slice(0, 8)}`, name: 'Lia Synthetic', roles: [LEARNER_ROLE],
  contextId: 'course-101', contextTitle: 'Emergency medicine 101', resourceLinkId: 'link-1',
  custom: { case_id: caseIdFor('dka') }, deploymentId: 'deployment-1', ...overrides,
});

/** The browser's part: the platform's login initiation, the redirect to the platform, its form posted to the tool. */
async function launchInBrowser(plan: PlannedLaunch): Promise<{ login: Response; launch: Response; fields: Record<string, string> }> {
  const hint = randomUUID();
  platform.plan(hint, plan);
  const login = await fetch(`${t.baseUrl}/lti/login?${new URLSearchParams({ iss: platform.issuer, login_hint: hint, target_link_uri: `${t.baseUrl}/lti/launch`, client_id: platform.clientId, lti_deployment_id: plan.deploymentId })}`, { redirect: 'manual' });
  const authorize = await fetch(login.headers.get('location') ?? '', { redirect: 'manual' });
  const fields = formFields(await authorize.text());
  const launch = await postLaunch(fields);
  return { login, launch, fields };
}

const postLaunch = (fields: Record<string, string>): Promise<Response> =>
  fetch(`${t.baseUrl}/lti/launch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' });

const counts = async () => {
  const prisma = t.platform.database.prisma;
  return { learners: await prisma.learner.count(), sessions: await prisma.caseSession.count(), enrollments: await prisma.enrollment.count(), cohorts: await prisma.cohort.count() };
};

beforeAll(async () => {
  t = await startTestPlatform();
  platform = new FakeLtiPlatform(() => `${t.baseUrl}/lti/jwks`);
  await platform.start();
  const registered = await asAdmin(
    'mutation($i: RegisterPartnerInput!) { registerPartner(input: $i) { partner { id } } }',
    { i: { name: 'LTI Partner', launchIssuer: `https://lms.lti-partner.example/${randomUUID()}`, launchSigning: 'SECRET', learnerAppUrl: LEARNER_APP } },
  );
  partnerId = (registered.json.data?.['registerPartner'] as { partner: { id: string } }).partner.id;
  const lti = await asAdmin(
    'mutation($i: LtiPlatformInput!) { registerLtiPlatform(input: $i) { id toolLoginUrl toolLaunchUrl toolJwksUrl toolKeyId } }',
    { i: { partnerId, issuer: platform.issuer, clientId: platform.clientId, deploymentIds: ['deployment-1'], authLoginUrl: `${platform.url}/auth`, accessTokenUrl: `${platform.url}/token`, jwksUrl: `${platform.url}/jwks` } },
  );
  expect(lti.json.errors).toBeUndefined();
  expect(lti.json.data?.['registerLtiPlatform']).toMatchObject({ toolLoginUrl: `${t.baseUrl}/lti/login`, toolLaunchUrl: `${t.baseUrl}/lti/launch` });
});
afterAll(async () => {
  await t?.close();
  await platform?.close();
});

describe('LTI 1.3', () => {
  it('initiates login, launches a learner into the partner’s app, and posts the completed score back (after the platform refused once)', async () => {
    const plan = launchPlan();
    const { login, launch } = await launchInBrowser(plan);
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.get('location') ?? '');
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${platform.url}/auth`);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({ scope: 'openid', response_type: 'id_token', response_mode: 'form_post', prompt: 'none', client_id: platform.clientId });

    expect(launch.status).toBe(303);
    const location = new URL(launch.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(LEARNER_APP);
    const fragment = new URLSearchParams(location.hash.slice(1));
    const sessionId = fragment.get('session_id') ?? '';
    const learner = { authorization: `Bearer ${fragment.get('access_token')}` };

    // The course became a cohort of the partner, with the link's case assigned.
    const session = await postGraphQL(t.graphqlUrl, { query: 'query($id: ID!) { caseSession(id: $id) { caseId cohortId } }', variables: { id: sessionId } }, learner);
    const { caseId, cohortId } = session.json.data?.['caseSession'] as { caseId: string; cohortId: string };
    expect(caseId).toBe(caseIdFor('dka'));
    const cohort = await postGraphQL(t.graphqlUrl, { query: 'query($id: ID!) { cohort(id: $id) { name partnerId } }', variables: { id: cohortId } }, learner);
    expect(cohort.json.data).toEqual({ cohort: { name: 'Emergency medicine 101', partnerId } });

    platform.refuseScores = 1;
    for (const step of [
      'mutation($id: ID!) { orderInvestigation(sessionId: $id, code: "vbg") { code } }',
      'mutation($id: ID!) { submitDiagnosis(sessionId: $id, diagnosis: "Diabetic ketoacidosis") { id } }',
      'mutation($id: ID!) { submitManagement(sessionId: $id, plan: "IV fluids, fixed rate insulin infusion, potassium replacement") { id } }',
    ]) expect((await postGraphQL(t.graphqlUrl, { query: step, variables: { id: sessionId } }, learner)).json.errors).toBeUndefined();
    const completed = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { completeSession(sessionId: $id) { totalScore } }', variables: { id: sessionId } }, learner);
    const totalScore = (completed.json.data?.['completeSession'] as { totalScore: number }).totalScore;

    await until(async () => platform.scores.length, (n) => n === 1, 'the score at the platform');
    expect(platform.refuseScores).toBe(0);
    // The refusal was counted and kept (its kind, not a payload); the retry then went through
    // (marked sent once the platform's answer is back, a moment after the platform recorded it).
    const target = await until(() => t.platform.database.prisma.ltiScoreTarget.findUniqueOrThrow({ where: { sessionId } }), (row) => row.postedAt !== null, 'the score marked sent');
    expect(target).toMatchObject({ attempts: 1, scoreGiven: totalScore, userId: plan.sub, lastError: null });
    expect(platform.scores[0]).toMatchObject({
      contentType: 'application/vnd.ims.lis.v1.score+json',
      body: { userId: plan.sub, scoreGiven: totalScore, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded' },
    });
  });

  it('refuses a replayed id_token, a wrong audience, an unknown deployment, another nonce and a non-learner, writing nothing', async () => {
    const first = await launchInBrowser(launchPlan({ contextId: 'course-202' }));
    expect(first.launch.status).toBe(303);
    const before = await counts();
    const replay = await postLaunch(first.fields);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { errors: Array<{ extensions: { code: string; reason: string } }> }).errors[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });

    const refusals: Array<[string, Partial<PlannedLaunch>, number]> = [
      ['wrong audience', { tamper: (c) => ({ ...c, aud: 'someone-else' }) }, 401],
      ['unknown deployment', { tamper: (c) => ({ ...c, 'https://purl.imsglobal.org/spec/lti/claim/deployment_id': 'deployment-9' }) }, 401],
      ['another nonce', { tamper: (c) => ({ ...c, nonce: 'not-the-login-nonce' }) }, 401],
      ['not a learner', { roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor'] }, 403],
      ['another organization’s case', { custom: { case_id: randomUUID() } }, 403],
    ];
    for (const [what, overrides, status] of refusals) {
      const { launch } = await launchInBrowser(launchPlan({ contextId: 'course-303', ...overrides }));
      expect([what, launch.status]).toEqual([what, status]);
    }
    const unknownDeploymentLogin = await fetch(`${t.baseUrl}/lti/login?${new URLSearchParams({ iss: platform.issuer, login_hint: 'x', target_link_uri: 'x', client_id: platform.clientId, lti_deployment_id: 'deployment-9' })}`, { redirect: 'manual' });
    expect(unknownDeploymentLogin.status).toBe(401);
    const unknownPlatform = await fetch(`${t.baseUrl}/lti/login?${new URLSearchParams({ iss: 'https://nobody.example', login_hint: 'x', target_link_uri: 'x' })}`, { redirect: 'manual' });
    expect(unknownPlatform.status).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it('publishes the tool’s public keys only, and lets only admins of the partner’s organization register platforms', async () => {
    const jwks = (await (await fetch(`${t.baseUrl}/lti/jwks`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) expect(Object.keys(key).filter((k) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(k))).toEqual([]);
    const input = { partnerId, issuer: 'https://other-lms.example', clientId: 'x', deploymentIds: ['d'], authLoginUrl: 'https://other-lms.example/auth', accessTokenUrl: 'https://other-lms.example/token', jwksUrl: 'https://other-lms.example/jwks' };
    const foreign = await postGraphQL(t.graphqlUrl, { query: 'mutation($i: LtiPlatformInput!) { registerLtiPlatform(input: $i) { id } }', variables: { i: input } }, { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` });
    expect(errorCodes(foreign.json)).toEqual(['FORBIDDEN']);
    const bad = await asAdmin('mutation($i: LtiPlatformInput!) { registerLtiPlatform(input: $i) { id } }', { i: { ...input, jwksUrl: 'http://not-loopback.example/jwks' } });
    expect(errorCodes(bad.json)).toEqual(['BAD_USER_INPUT']);
    const duplicate = await asAdmin('mutation($i: LtiPlatformInput!) { registerLtiPlatform(input: $i) { id } }', { i: { ...input, issuer: platform.issuer, clientId: platform.clientId, authLoginUrl: `${platform.url}/auth`, accessTokenUrl: `${platform.url}/token`, jwksUrl: `${platform.url}/jwks` } });
    expect(errorCodes(duplicate.json)).toEqual(['CONFLICT']);
    // The same platform registered by another organization's admin is a duplicate too, not an error.
    const hospitalPartner = await t.platform.database.prisma.partner.create({ data: { organizationId: ORGS.hospital.id, name: 'Riverside LMS', launchIssuer: `https://lms.riverside.example/${randomUUID()}`, launchSecret: 'riverside-test-secret-not-a-credential' } });
    const elsewhere = await postGraphQL(t.graphqlUrl, {
      query: 'mutation($i: LtiPlatformInput!) { registerLtiPlatform(input: $i) { id } }',
      variables: { i: { ...input, partnerId: hospitalPartner.id, issuer: platform.issuer, clientId: platform.clientId, authLoginUrl: `${platform.url}/auth`, accessTokenUrl: `${platform.url}/token`, jwksUrl: `${platform.url}/jwks` } },
    }, { authorization: `Bearer ${await t.tokenFor('hospitalAdmin')}` });
    expect(errorCodes(elsewhere.json)).toEqual(['CONFLICT']);
  });
});

describe('LTI logins', () => {
  it('are removed an hour after they expire, and kept until then', async () => {
    const prisma = t.platform.database.prisma;
    const platformId = (await prisma.ltiPlatform.findFirstOrThrow({ where: { issuer: platform.issuer } })).id;
    const stale = { state: randomUUID(), nonce: randomUUID(), platformId, expiresAt: new Date(Date.now() - 2 * 3_600_000) };
    const recent = { state: randomUUID(), nonce: randomUUID(), platformId, expiresAt: new Date(Date.now() - 60_000) };
    await prisma.ltiLogin.createMany({ data: [stale, recent] });
    await ltiLoginExpiry.step(t.platform.deps);
    expect((await prisma.ltiLogin.findMany({ where: { state: { in: [stale.state, recent.state] } }, select: { state: true } })).map((l) => l.state)).toEqual([recent.state]);
  });
});

describe('LTI score retries', () => {
  it('wait 2 s after the first failure, doubling, never more than an hour', () => {
    const now = 1_000_000;
    expect([1, 2, 3, 12, 40].map((attempts) => nextScoreAttempt(attempts, now).getTime() - now)).toEqual([2_000, 4_000, 8_000, 3_600_000, 3_600_000]);
  });
});
