import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { SEED_CASES } from '../../prisma/seed-cases.js';
import { caseIdFor, COHORTS, ORGS, PARTNERS, USERS } from '../../prisma/seed-data.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity, type Identity } from '../../subgraphs/kit/identity.js';
import { until } from '../support/wait.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { launchThrough, northwindLaunchToken } from './support.js';

/** Case authoring and versioning, assignments, re-scoring, retention, and launches signed with a partner's JWKS. */
let t: TestPlatform;
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  await t?.close();
});

const acs = SEED_CASES.find((c) => c.slug === 'chest-pain-acs')?.content;
const as = async (user: Parameters<TestPlatform['tokenFor']>[0]): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor(user)}` });

const CREATE = 'mutation($input: CreateCaseInput!) { createCase(input: $input) { id caseId number status } }';

describe('case versions', () => {
  it('publishes a version once; a change after that is a new version and the published one stays as it was', async () => {
    const created = await postGraphQL(t.graphqlUrl, { query: CREATE, variables: { input: { slug: 'acs-variant', title: 'ACS variant', content: acs } } }, await as('clinician'));
    const v1 = created.json.data?.['createCase'] as { id: string; caseId: string; number: number; status: string };
    expect(v1).toMatchObject({ number: 1, status: 'DRAFT' });

    const published = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { publishCaseVersion(versionId: $id) { status } }', variables: { id: v1.id } }, await as('clinician'));
    expect(published.json.data).toEqual({ publishCaseVersion: { status: 'PUBLISHED' } });
    const again = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { publishCaseVersion(versionId: $id) { status } }', variables: { id: v1.id } }, await as('clinician'));
    expect(errorCodes(again.json)).toEqual(['CONFLICT']);

    const changed = { ...acs, persona: { ...acs?.persona, age: 61 } };
    const revised = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!, $c: JSON!) { reviseCase(caseId: $id, content: $c) { id number status } }', variables: { id: v1.caseId, c: changed } }, await as('clinician'));
    const v2 = revised.json.data?.['reviseCase'] as { id: string; number: number; status: string };
    expect(v2).toMatchObject({ number: 2, status: 'DRAFT' });
    const stored = await t.platform.database.prisma.caseVersion.findUniqueOrThrow({ where: { id: v1.id } });
    expect((stored.content as { persona: { age: number } }).persona.age).toBe(58);

    const list = await postGraphQL(t.graphqlUrl, { query: '{ trainingCases { slug versions { number status } } }' }, await as('clinician'));
    const variant = (list.json.data?.['trainingCases'] as Array<{ slug: string; versions: unknown[] }>).find((c) => c.slug === 'acs-variant');
    expect(variant?.versions).toEqual([{ number: 1, status: 'PUBLISHED' }, { number: 2, status: 'DRAFT' }]);
  });

  it('refuses content shaped like a real identifier, or malformed, with the path, and creates nothing', async () => {
    const before = await t.platform.database.prisma.case.count();
    const tainted = { ...acs, history: [...(acs?.history ?? []), { id: 'contact', keywords: ['phone'], answer: 'Ring me on +44 20 7946 0958' }] };
    const refused = await postGraphQL(t.graphqlUrl, { query: CREATE, variables: { input: { slug: 'tainted', title: 'Tainted', content: tainted } } }, await as('clinician'));
    expect(errorCodes(refused.json)).toEqual(['BAD_USER_INPUT']);
    expect(refused.json.errors?.[0]?.message).toContain(`input.content.history[${acs?.history.length}].answer`);
    const malformed = await postGraphQL(t.graphqlUrl, { query: CREATE, variables: { input: { slug: 'malformed', title: 'Malformed', content: { persona: 'nobody', history: 'none' } } } }, await as('clinician'));
    expect(errorCodes(malformed.json)).toEqual(['BAD_USER_INPUT']);
    expect(await t.platform.database.prisma.case.count()).toBe(before);
  });

  it('lets only staff author cases', async () => {
    for (const user of ['nurse', 'learner', 'partner'] as const) {
      const { json } = await postGraphQL(t.graphqlUrl, { query: CREATE, variables: { input: { slug: `by-${user}`, title: 'x', content: acs } } }, await as(user));
      expect(errorCodes(json)).toEqual(['FORBIDDEN']);
    }
  });
});

describe('assignments', () => {
  const ASSIGN = 'mutation($input: CohortAssignmentInput!) { assignToCohort(input: $input) { id } }';
  it('a partner assigns cases to its own cohorts only, one case or one set at a time', async () => {
    const own = await postGraphQL(t.graphqlUrl, { query: ASSIGN, variables: { input: { cohortId: COHORTS.northwindA.id, caseId: caseIdFor('dka'), dueAt: '2099-01-01T00:00:00Z' } } }, await as('partner'));
    expect(own.json.errors).toBeUndefined();
    const foreign = await postGraphQL(t.graphqlUrl, { query: ASSIGN, variables: { input: { cohortId: COHORTS.southbank.id, caseId: caseIdFor('dka') } } }, await as('partner'));
    expect(errorCodes(foreign.json)).toEqual(['FORBIDDEN']);
    const both = await postGraphQL(t.graphqlUrl, { query: ASSIGN, variables: { input: { cohortId: COHORTS.northwindA.id } } }, await as('partner'));
    expect(errorCodes(both.json)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('scoring and retention', () => {
  it('re-scores a completed session to exactly its stored score', async () => {
    const { accessToken, sessionId } = await launchThrough(t.graphqlUrl, await northwindLaunchToken({ case_id: caseIdFor('dka') }));
    const learner = { authorization: `Bearer ${accessToken}` };
    await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { orderInvestigation(sessionId: $id, code: "vbg") { result } }', variables: { id: sessionId } }, learner);
    await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { submitManagement(sessionId: $id, plan: "IV fluids, fixed rate insulin infusion, co-amoxiclav") { id } }', variables: { id: sessionId } }, learner);
    const completed = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { completeSession(sessionId: $id) { totalScore subScores { section score } flaggedErrors { code severity } } }', variables: { id: sessionId } }, learner);
    const stored = completed.json.data?.['completeSession'] as { totalScore: number; subScores: Array<{ section: string; score: number | null }>; flaggedErrors: Array<{ code: string; severity: string }> };
    expect(stored.flaggedErrors).toEqual([{ code: 'ALLERGEN_PRESCRIBED', severity: 'SAFETY' }]);
    // A safety error shows in the safety sub-score, not only in the total.
    const safety = stored.subScores.find((s) => s.section === 'safety');
    expect(safety?.score).not.toBeNull();
    expect(safety?.score).toBeLessThan(100);
    const rescored = await postGraphQL(t.graphqlUrl, { query: 'query($id: ID!) { rescoreSession(sessionId: $id) { total subScores { section score } flaggedErrors { code severity } } }', variables: { id: sessionId } }, await as('clinician'));
    expect(rescored.json.data).toEqual({ rescoreSession: { total: stored.totalScore, subScores: stored.subScores, flaggedErrors: stored.flaggedErrors } });
    const again = await postGraphQL(t.graphqlUrl, { query: 'mutation($id: ID!) { completeSession(sessionId: $id) { id } }', variables: { id: sessionId } }, learner);
    expect(errorCodes(again.json)).toEqual(['CONFLICT']);
  });

  it('deletes a cohort’s learner data for an admin only, and audits it; the gateway then no longer recognises its learners', async () => {
    const { sessionId } = await launchThrough(t.graphqlUrl, await northwindLaunchToken());
    const prisma = t.platform.database.prisma;
    const { learnerId } = await prisma.caseSession.findUniqueOrThrow({ where: { id: sessionId } });
    expect(await learnerCheck(JSON.stringify({ learnerId }))).toEqual({ status: 200, body: { active: true, cohortIds: [COHORTS.northwindA.id] } });
    // The learner is a user of identity too (its announcement applied).
    await until(() => prisma.user.count({ where: { id: learnerId } }), (n) => n === 1, 'the learner’s user account');
    const DELETE = `mutation { deleteCohortLearnerData(cohortId: "${COHORTS.northwindA.id}", reason: "retention: course ended") { sessions learners } }`;
    for (const user of ['clinician', 'partner', 'hospitalAdmin'] as const) {
      expect(errorCodes((await postGraphQL(t.graphqlUrl, { query: DELETE }, await as(user))).json)).toEqual(['FORBIDDEN']);
    }
    const sessionsBefore = await prisma.caseSession.count({ where: { cohortId: COHORTS.northwindA.id } });
    expect(sessionsBefore).toBeGreaterThan(0);
    const { json } = await postGraphQL(t.graphqlUrl, { query: DELETE }, await as('admin'));
    expect((json.data?.['deleteCohortLearnerData'] as { sessions: number }).sessions).toBe(sessionsBefore);
    expect(await prisma.caseSession.count({ where: { cohortId: COHORTS.northwindA.id } })).toBe(0);
    expect(await prisma.enrollment.count({ where: { cohortId: COHORTS.northwindA.id } })).toBe(0);
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { entityType: 'Cohort', entityId: COHORTS.northwindA.id } });
    expect(audit).toMatchObject({ source: 'training', action: 'delete-learner-data', reason: 'retention: course ended', actorRole: 'ADMIN', organizationId: ORGS.clinicNorth.id });
    expect(await learnerCheck(JSON.stringify({ learnerId }))).toMatchObject({ status: 401, body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    // …and retention removes that account with the learner.
    await until(() => prisma.user.count({ where: { id: learnerId } }), (n) => n === 0, 'the learner’s user account to go');
  });
});

const GATEWAY: Identity = { kind: 'service', subject: 'gateway', role: 'SERVICE', organizationId: null };

/** The gateway's learner check, called on the training subgraph as the gateway does. */
async function learnerCheck(body: string, identity: Identity = GATEWAY): Promise<{ status: number; body: unknown }> {
  const url = `${t.platform.subgraphs.find((s) => s.name === 'training')?.url}/internal/credentials/learner`;
  const headers = { 'content-type': 'application/json', [INTERNAL_IDENTITY_HEADER]: await signInternalIdentity(identity, t.keys.internalIdentitySecret) };
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: await response.json() };
}

describe('POST /internal/credentials/learner', () => {
  it('answers the gateway only, 401 for an unknown learner and 400 for a malformed body', async () => {
    const code = (answer: { status: number; body: unknown }): [number, unknown] => [answer.status, (answer.body as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors?.[0]?.extensions?.code];
    expect(code(await learnerCheck(JSON.stringify({ learnerId: randomUUID() })))).toEqual([401, 'UNAUTHENTICATED']);
    for (const malformed of ['not json', '[]', '{}', JSON.stringify({ learnerId: 42 }), JSON.stringify({ learnerId: '' })]) {
      expect(code(await learnerCheck(malformed))).toEqual([400, 'BAD_USER_INPUT']);
    }
    const clinician: Identity = { kind: 'user', subject: USERS.clinician.id, role: 'CLINICIAN', organizationId: ORGS.clinicNorth.id };
    expect(code(await learnerCheck(JSON.stringify({ learnerId: randomUUID() }), clinician))).toEqual([403, 'FORBIDDEN']);
    expect(code(await learnerCheck(JSON.stringify({ learnerId: randomUUID() }), { ...GATEWAY, subject: 'reorder-job' }))).toEqual([403, 'FORBIDDEN']);
  });
});

describe('launch tokens signed with the partner’s keys (JWKS)', () => {
  let jwks: Server;
  afterAll(() => jwks?.close());

  it('accepts RS256 and ES256 launches verified against the partner’s JWKS, and refuses a key it does not publish', async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' },
    ];
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const issuer = 'https://lms.keyed.example';
    const partner = await t.platform.database.prisma.partner.create({
      data: { organizationId: ORGS.clinicNorth.id, name: 'Keyed LMS', launchIssuer: issuer, jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` },
    });
    const cohort = await t.platform.database.prisma.cohort.create({ data: { organizationId: ORGS.clinicNorth.id, partnerId: partner.id, name: 'Keyed cohort' } });
    await t.platform.database.prisma.cohortAssignment.create({ data: { cohortId: cohort.id, caseId: caseIdFor('febrile-infant') } });
    const sign = (alg: 'RS256' | 'ES256', kid: string, key: Parameters<SignJWT['sign']>[0]): Promise<string> =>
      new SignJWT({ role: 'learner', cohort_id: cohort.id })
        .setProtectedHeader({ alg, kid })
        .setIssuer(issuer)
        .setSubject(`keyed-${randomUUID()}`)
        .setJti(randomUUID())
        .setExpirationTime('5m')
        .sign(key);
    expect((await launchThrough(t.graphqlUrl, await sign('RS256', 'rsa-1', rsa.privateKey))).sessionId).toBeTruthy();
    expect((await launchThrough(t.graphqlUrl, await sign('ES256', 'ec-1', ec.privateKey))).sessionId).toBeTruthy();
    const stranger = await generateKeyPair('RS256');
    const refused = await postGraphQL(t.graphqlUrl, { query: 'mutation($t: String!) { launchSession(token: $t) { accessToken } }', variables: { t: await sign('RS256', 'rsa-1', stranger.privateKey) } });
    expect(errorCodes(refused.json)).toEqual(['UNAUTHENTICATED']);
    // An HS256 token for a partner that only has keys is refused too (no algorithm confusion).
    const hs = await new SignJWT({ cohort_id: cohort.id }).setProtectedHeader({ alg: 'HS256' }).setIssuer(issuer).setSubject('x').setJti(randomUUID()).setExpirationTime('5m').sign(new TextEncoder().encode(JSON.stringify(keys[0])));
    expect(errorCodes((await postGraphQL(t.graphqlUrl, { query: 'mutation($t: String!) { launchSession(token: $t) { accessToken } }', variables: { t: hs } })).json)).toEqual(['UNAUTHENTICATED']);
    void PARTNERS;
  });
});
