import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { caseIdFor, PARTNERS, USERS } from '../../prisma/seed-data.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity } from '../../subgraphs/kit/identity.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * A partner onboarded through the API alone, as an organization admin and then the partner
 * would do it: registered with a JWKS URL and an OpenID Connect provider, given a cohort and
 * an API key; its learner launched in a browser (303 to the partner's learner app) and signed
 * in by SSO; the partner reading the summary and the figures with its own key.
 */
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let t: TestPlatform;
let keys: Server;
let launchKey: PrivateKey;
let idpKey: PrivateKey;
const LEARNER_APP = 'https://learn.acme-academy.example/caregraph';
const LAUNCH_ISSUER = `https://lms.acme-academy.example/${randomUUID()}`;
const IDP_ISSUER = 'https://idp.acme-academy.example';
const CLIENT_ID = 'caregraph-acme';

let partnerId = '';
let cohortId = '';
let partnerKey = '';

const asAdmin = async (query: string, variables: Record<string, unknown> = {}, user: keyof typeof USERS = 'admin') =>
  postGraphQL(t.graphqlUrl, { query, variables }, { authorization: `Bearer ${await t.tokenFor(user)}` });

function data<T>(answer: { json: { data?: Record<string, unknown> | null; errors?: unknown } }, field: string): T {
  if (answer.json.errors) throw new Error(JSON.stringify(answer.json.errors));
  return answer.json.data?.[field] as T;
}

const launchToken = (claims: Record<string, unknown>, signWith: { alg: 'RS256'; key: PrivateKey } | { alg: 'HS256'; secret: string }, issuer = LAUNCH_ISSUER): Promise<string> => {
  const jwt = new SignJWT({ role: 'learner', name: 'Ari Synthetic', ...claims })
    .setIssuer(issuer)
    .setSubject(typeof claims['sub'] === 'string' ? claims['sub'] : `acme-user-${randomUUID()}`)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('5m');
  return signWith.alg === 'RS256'
    ? jwt.setProtectedHeader({ alg: 'RS256', kid: 'launch-1' }).sign(signWith.key)
    : jwt.setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(signWith.secret));
};

/** A browser's form post of the launch through the gateway, not following the redirect. */
const browserLaunch = (token: string): Promise<Response> =>
  fetch(`${t.baseUrl}/integrations/partner/launch`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml' },
    body: new URLSearchParams({ token }).toString(),
    redirect: 'manual',
  });

const REGISTER = `mutation($input: RegisterPartnerInput!) { registerPartner(input: $input) { launchSecret partner { id name launchIssuer launchSigning jwksUrl learnerAppUrl oidcProvider { issuer clientId jwksUrl } } } }`;
const CREATE_COHORT = 'mutation($input: CreateCohortInput!) { createCohort(input: $input) { id name partnerId archivedAt } }';
const CREATE_KEY = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id role partnerId } } }';

beforeAll(async () => {
  // Two key sets, as a partner's LMS and its identity provider publish them.
  const launchPair = await generateKeyPair('RS256');
  const idpPair = await generateKeyPair('ES256');
  launchKey = launchPair.privateKey;
  idpKey = idpPair.privateKey;
  const published = {
    '/launch-jwks': { keys: [{ ...(await exportJWK(launchPair.publicKey)), kid: 'launch-1', alg: 'RS256' }] },
    '/idp-jwks': { keys: [{ ...(await exportJWK(idpPair.publicKey)), kid: 'idp-1', alg: 'ES256' }] },
  } as Record<string, unknown>;
  keys = createServer((req, res) => {
    const body = published[req.url ?? ''];
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(keys.address() as AddressInfo).port}`;
  t = await startTestPlatform();

  const registered = data<{ launchSecret: string | null; partner: { id: string; launchSigning: string; oidcProvider: unknown } }>(
    await asAdmin(REGISTER, {
      input: {
        name: 'Acme Academy', launchIssuer: LAUNCH_ISSUER, launchSigning: 'JWKS', jwksUrl: `${base}/launch-jwks`,
        oidcProvider: { issuer: IDP_ISSUER, clientId: CLIENT_ID, jwksUrl: `${base}/idp-jwks` }, learnerAppUrl: LEARNER_APP,
      },
    }),
    'registerPartner',
  );
  expect(registered.launchSecret).toBeNull();
  expect(registered.partner).toMatchObject({ launchSigning: 'JWKS', oidcProvider: { issuer: IDP_ISSUER, clientId: CLIENT_ID } });
  partnerId = registered.partner.id;
  cohortId = data<{ id: string }>(await asAdmin(CREATE_COHORT, { input: { partnerId, name: 'Acme Emergency 2027' } }), 'createCohort').id;
  data(await asAdmin('mutation($c: ID!, $k: ID!) { assignToCohort(input: { cohortId: $c, caseId: $k }) { id } }', { c: cohortId, k: caseIdFor('dka') }), 'assignToCohort');
  // The identity subgraph learns the partner from its announcement before it binds a key to it.
  const created = await until(() => asAdmin(CREATE_KEY, { input: { name: 'Acme LMS', role: 'PARTNER', partnerId } }), (a) => !a.json.errors, 'the partner key');
  partnerKey = data<{ key: string; apiKey: { partnerId: string } }>(created, 'createApiKey').key;
});
afterAll(async () => {
  await t?.close();
  keys?.close();
});

describe('an admin onboards a partner; its learner launches, signs in and completes; the partner reads with its own key', () => {
  let sessionId = '';

  it('launches a browser learner with 303 to the partner’s learner app, the session and token in the fragment only', async () => {
    const response = await browserLaunch(await launchToken({ cohort_id: cohortId, case_id: caseIdFor('dka') }, { alg: 'RS256', key: launchKey }));
    expect(response.status).toBe(303);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(LEARNER_APP);
    expect(location.search).toBe('');
    const fragment = new URLSearchParams(location.hash.slice(1));
    sessionId = fragment.get('session_id') ?? '';
    const accessToken = fragment.get('access_token') ?? '';
    expect(sessionId).not.toBe('');

    const learner = { authorization: `Bearer ${accessToken}` };
    // The launched learner is a user: `me` answers, with their partner and cohort.
    const me = await postGraphQL(t.graphqlUrl, { query: '{ me { id roles learner { partnerId cohortIds displayName } } }' }, learner);
    expect(me.json.errors).toBeUndefined();
    expect(me.json.data).toEqual({ me: { id: expect.any(String), roles: ['LEARNER'], learner: { partnerId, cohortIds: [cohortId], displayName: 'Ari Synthetic' } } });
    // Who else sees that profile (the User entity as the gateway fetches it from training): the
    // organization's staff; not another partner, not another learner.
    const learnerId = (me.json.data?.['me'] as { id: string }).id;
    const profileAs = async (identity: Identity) => {
      const url = `${t.platform.subgraphs.find((s) => s.name === 'training')?.url}/graphql`;
      const query = `{ _entities(representations: [{__typename: "User", id: "${learnerId}"}]) { ... on User { learner { partnerId } } } }`;
      const answer = await postGraphQL(url, { query }, { [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(identity, t.keys.internalIdentitySecret) });
      return (answer.json.data?.['_entities'] as Array<{ learner: unknown }>)[0]?.learner;
    };
    const seeded = (user: (typeof USERS)[keyof typeof USERS]): Identity => ({ kind: 'user', subject: user.id, role: user.role, organizationId: user.organizationId });
    expect(await profileAs(seeded(USERS.admin))).toEqual({ partnerId });
    expect(await profileAs(seeded(USERS.otherPartner))).toBeNull();
    expect(await profileAs(seeded(USERS.learner))).toBeNull();
    expect(await profileAs(seeded(USERS.hospitalAdmin))).toBeNull();
    const session = await postGraphQL(t.graphqlUrl, { query: 'query($id: ID!) { caseSession(id: $id) { id status cohortId } }', variables: { id: sessionId } }, learner);
    expect(session.json.data).toEqual({ caseSession: { id: sessionId, status: 'ACTIVE', cohortId } });
    for (const step of [
      'mutation($id: ID!) { orderInvestigation(sessionId: $id, code: "vbg") { code } }',
      'mutation($id: ID!) { submitDiagnosis(sessionId: $id, diagnosis: "Diabetic ketoacidosis") { id } }',
      'mutation($id: ID!) { submitManagement(sessionId: $id, plan: "IV fluids, fixed rate insulin infusion, potassium replacement") { id } }',
      'mutation($id: ID!) { completeSession(sessionId: $id) { status } }',
    ]) {
      const answer = await postGraphQL(t.graphqlUrl, { query: step, variables: { id: sessionId } }, learner);
      expect(answer.json.errors).toBeUndefined();
    }
  });

  it('signs a learner in through the partner’s own OpenID Connect provider', async () => {
    const idToken = await new SignJWT({ name: 'Ari Synthetic', cohort_id: cohortId })
      .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(IDP_ISSUER).setAudience(CLIENT_ID).setSubject('idp-user-1').setIssuedAt().setExpirationTime('5m')
      .sign(idpKey);
    const signedIn = data<{ accessToken: string; cohortIds: string[] }>(
      await postGraphQL(t.graphqlUrl, { query: 'mutation($t: String!) { signInWithPartnerSso(idToken: $t) { accessToken cohortIds } }', variables: { t: idToken } }),
      'signInWithPartnerSso',
    );
    expect(signedIn.cohortIds).toEqual([cohortId]);
    const started = await postGraphQL(t.graphqlUrl, { query: 'mutation($c: ID!) { startCaseSession(cohortId: $c) { status } }', variables: { c: cohortId } }, { authorization: `Bearer ${signedIn.accessToken}` });
    expect(started.json.data).toEqual({ startCaseSession: { status: 'ACTIVE' } });
  });

  it('lets the partner read the summary (REST) and the cohort figures (persisted operation) with its own API key; another partner’s key gets 403', async () => {
    const summary = await fetch(`${t.baseUrl}/integrations/partner/sessions/${sessionId}`, { headers: { 'x-api-key': partnerKey } });
    expect(summary.status).toBe(200);
    expect(await summary.json()).toMatchObject({ id: sessionId, status: 'COMPLETED' });

    const manifest = JSON.parse(readFileSync('schema/persisted-queries.json', 'utf8')) as { operations: Array<{ id: string; name: string }> };
    const figuresId = manifest.operations.find((o) => o.name === 'PartnerCohortAnalytics')?.id;
    const figures = await until(
      () => postGraphQL(t.graphqlUrl, { operationName: 'PartnerCohortAnalytics', variables: { cohortId }, extensions: { persistedQuery: { version: 1, sha256Hash: figuresId } } }, { 'x-api-key': partnerKey }),
      (a) => (a.json.data?.['cohortAnalytics'] as { sessionsCompleted?: number } | undefined)?.sessionsCompleted === 1,
      'the cohort figures',
    );
    expect(figures.json.errors).toBeUndefined();

    const other = data<{ key: string }>(await asAdmin(CREATE_KEY, { input: { name: 'Northwind LMS', role: 'PARTNER', partnerId: PARTNERS.northwind.id } }), 'createApiKey');
    const refused = await fetch(`${t.baseUrl}/integrations/partner/sessions/${sessionId}`, { headers: { 'x-api-key': other.key } });
    expect(refused.status).toBe(403);
    const refusedFigures = await postGraphQL(t.graphqlUrl, { operationName: 'PartnerCohortAnalytics', variables: { cohortId }, extensions: { persistedQuery: { version: 1, sha256Hash: figuresId } } }, { 'x-api-key': other.key });
    expect(errorCodes(refusedFigures.json)).toEqual(['FORBIDDEN']);
  });

  it('audits the onboarding', async () => {
    const actions = (await t.platform.database.prisma.auditEvent.findMany({ where: { source: 'training', entityId: { in: [partnerId, cohortId] } }, select: { action: true } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['register-partner', 'create-cohort']));
  });
});

describe('launch secrets and refusals', () => {
  const SECRET_ISSUER = `https://lms.secret-partner.example/${randomUUID()}`;
  let secretPartnerId = '';
  let secretCohortId = '';
  let firstSecret = '';

  beforeAll(async () => {
    const registered = data<{ launchSecret: string; partner: { id: string } }>(await asAdmin(REGISTER, { input: { name: 'Secret Partner', launchIssuer: SECRET_ISSUER, launchSigning: 'SECRET' } }), 'registerPartner');
    secretPartnerId = registered.partner.id;
    firstSecret = registered.launchSecret;
    secretCohortId = data<{ id: string }>(await asAdmin(CREATE_COHORT, { input: { partnerId: secretPartnerId, name: 'Secret cohort' } }), 'createCohort').id;
    data(await asAdmin('mutation($c: ID!, $k: ID!) { assignToCohort(input: { cohortId: $c, caseId: $k }) { id } }', { c: secretCohortId, k: caseIdFor('dka') }), 'assignToCohort');
  });

  const launchWith = async (secret: string): Promise<unknown[]> => {
    const answer = await postGraphQL(t.graphqlUrl, { query: 'mutation($t: String!) { launchSession(token: $t) { session { id } } }', variables: { t: await launchToken({ cohort_id: secretCohortId }, { alg: 'HS256', secret }, SECRET_ISSUER) } });
    return errorCodes(answer.json);
  };

  it('shows a generated secret once, and keeps the replaced one working only for the overlap', async () => {
    expect(firstSecret.length).toBeGreaterThanOrEqual(40);
    expect(await launchWith(firstSecret)).toEqual([]);
    const rotated = data<{ launchSecret: string; partner: { previousSecretValidUntil: string } }>(
      await asAdmin('mutation($p: ID!) { rotatePartnerLaunchSecret(partnerId: $p, overlapSeconds: 600) { launchSecret partner { previousSecretValidUntil } } }', { p: secretPartnerId }),
      'rotatePartnerLaunchSecret',
    );
    expect(rotated.launchSecret).not.toBe(firstSecret);
    expect(new Date(rotated.partner.previousSecretValidUntil).getTime()).toBeGreaterThan(Date.now());
    expect(await launchWith(firstSecret)).toEqual([]);
    expect(await launchWith(rotated.launchSecret)).toEqual([]);
    const again = data<{ launchSecret: string }>(await asAdmin('mutation($p: ID!) { rotatePartnerLaunchSecret(partnerId: $p, overlapSeconds: 0) { launchSecret } }', { p: secretPartnerId }), 'rotatePartnerLaunchSecret');
    expect(await launchWith(firstSecret)).toEqual(['UNAUTHENTICATED']);
    expect(await launchWith(rotated.launchSecret)).toEqual(['UNAUTHENTICATED']);
    expect(await launchWith(again.launchSecret)).toEqual([]);
    // The secret is never readable afterwards.
    const read = await asAdmin('query($id: ID!) { partner(id: $id) { launchSigning } }', { id: secretPartnerId });
    expect(read.json.data).toEqual({ partner: { launchSigning: 'SECRET' } });
    const secret = await asAdmin('query($id: ID!) { partner(id: $id) { launchSecret } }', { id: secretPartnerId });
    expect(errorCodes(secret.json)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('refuses a browser launch for a partner without a learner app before spending the token, which then launches as JSON', async () => {
    const current = data<{ launchSecret: string }>(await asAdmin('mutation($p: ID!) { rotatePartnerLaunchSecret(partnerId: $p, overlapSeconds: 0) { launchSecret } }', { p: secretPartnerId }), 'rotatePartnerLaunchSecret').launchSecret;
    const token = await launchToken({ cohort_id: secretCohortId }, { alg: 'HS256', secret: current }, SECRET_ISSUER);
    const browser = await browserLaunch(token);
    expect(browser.status).toBe(409);
    const json = await fetch(`${t.baseUrl}/integrations/partner/launch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    expect(json.status).toBe(201);
    expect(await json.json()).toMatchObject({ launchUrl: null, session: { status: 'ACTIVE' } });
  });

  it('refuses bad input, duplicates and archived cohorts precisely, writing nothing', async () => {
    const prisma = t.platform.database.prisma;
    const before = await prisma.partner.count();
    const badUrl = await asAdmin(REGISTER, { input: { name: 'Bad', launchIssuer: 'https://x.example', launchSigning: 'JWKS', jwksUrl: 'http://keys.example/jwks' } });
    expect(errorCodes(badUrl.json)).toEqual(['BAD_USER_INPUT']);
    const noJwks = await asAdmin(REGISTER, { input: { name: 'Bad', launchIssuer: 'https://x.example', launchSigning: 'JWKS' } });
    expect(errorCodes(noJwks.json)).toEqual(['BAD_USER_INPUT']);
    const duplicate = await asAdmin(REGISTER, { input: { name: 'Copy', launchIssuer: SECRET_ISSUER, launchSigning: 'SECRET' } });
    expect(errorCodes(duplicate.json)).toEqual(['CONFLICT']);
    expect(await prisma.partner.count()).toBe(before);

    const archived = data<{ archivedAt: string }>(await asAdmin('mutation($id: ID!) { archiveCohort(id: $id) { archivedAt } }', { id: secretCohortId }), 'archiveCohort');
    expect(archived.archivedAt).not.toBeNull();
    const sessions = await prisma.caseSession.count({ where: { cohortId: secretCohortId } });
    const current = data<{ launchSecret: string }>(await asAdmin('mutation($p: ID!) { rotatePartnerLaunchSecret(partnerId: $p, overlapSeconds: 0) { launchSecret } }', { p: secretPartnerId }), 'rotatePartnerLaunchSecret').launchSecret;
    expect(await launchWith(current)).toEqual(['CONFLICT']);
    const assign = await asAdmin('mutation($c: ID!, $k: ID!) { assignToCohort(input: { cohortId: $c, caseId: $k }) { id } }', { c: secretCohortId, k: caseIdFor('chest-pain-acs') });
    expect(errorCodes(assign.json)).toEqual(['CONFLICT']);
    expect(await prisma.caseSession.count({ where: { cohortId: secretCohortId } })).toBe(sessions);
  });

  it('refuses another organization’s admin on every onboarding mutation, and partner keys without a partner of the organization', async () => {
    const prisma = t.platform.database.prisma;
    const snapshot = async () => ({ partner: await prisma.partner.findUnique({ where: { id: secretPartnerId } }), cohorts: await prisma.cohort.count({ where: { partnerId: secretPartnerId } }), keys: await prisma.apiKey.count() });
    const before = await snapshot();
    const foreign = [
      ['updatePartner', 'mutation($p: ID!) { updatePartner(id: $p, input: { name: "Taken" }) { id } }', { p: secretPartnerId }],
      ['rotatePartnerLaunchSecret', 'mutation($p: ID!) { rotatePartnerLaunchSecret(partnerId: $p) { launchSecret } }', { p: secretPartnerId }],
      ['createCohort', CREATE_COHORT, { input: { partnerId: secretPartnerId, name: 'Planted' } }],
      ['renameCohort', 'mutation($c: ID!) { renameCohort(id: $c, name: "Planted") { id } }', { c: secretCohortId }],
      ['archiveCohort', 'mutation($c: ID!) { archiveCohort(id: $c) { id } }', { c: cohortId }],
      ['createApiKey', CREATE_KEY, { input: { name: 'Planted', role: 'PARTNER', partnerId: secretPartnerId } }],
    ] as const;
    for (const [field, query, variables] of foreign) {
      const answer = await asAdmin(query, variables, 'hospitalAdmin');
      expect([field, errorCodes(answer.json)]).toEqual([field, ['FORBIDDEN']]);
    }
    const withoutPartner = await asAdmin(CREATE_KEY, { input: { name: 'Loose', role: 'PARTNER' } });
    expect(errorCodes(withoutPartner.json)).toEqual(['BAD_USER_INPUT']);
    const biWithPartner = await asAdmin(CREATE_KEY, { input: { name: 'Odd', role: 'BI', partnerId: secretPartnerId } });
    expect(errorCodes(biWithPartner.json)).toEqual(['BAD_USER_INPUT']);
    expect(await snapshot()).toEqual(before);
  });
});
