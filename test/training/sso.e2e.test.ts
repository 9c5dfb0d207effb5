import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { caseIdFor, COHORTS, ORGS } from '../../prisma/seed-data.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

/** Learners signing in with their partner as OpenID Connect provider, then starting an assigned case. */
let t: TestPlatform;
let jwks: Server;
const ISSUER = 'https://sso.partner-idp.example';
const AUDIENCE = 'caregraph-training-client';
let key: Awaited<ReturnType<typeof generateKeyPair>>;
let cohortId = '';

beforeAll(async () => {
  key = await generateKeyPair('RS256');
  const published = { ...(await exportJWK(key.publicKey)), kid: 'idp-1', alg: 'RS256' };
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [published] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  t = await startTestPlatform();
  const prisma = t.platform.database.prisma;
  const partner = await prisma.partner.create({
    data: { organizationId: ORGS.clinicNorth.id, name: 'SSO Partner', launchIssuer: ISSUER, jwksUri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`, oidcAudience: AUDIENCE },
  });
  cohortId = (await prisma.cohort.create({ data: { organizationId: ORGS.clinicNorth.id, partnerId: partner.id, name: 'SSO cohort' } })).id;
  await prisma.cohortAssignment.create({ data: { cohortId, caseId: caseIdFor('dka') } });
});
afterAll(async () => {
  await t?.close();
  jwks?.close();
});

const idToken = (claims: Record<string, unknown>, audience = AUDIENCE, signingKey = key.privateKey): Promise<string> =>
  new SignJWT({ name: 'Sso Learner', ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'idp-1' }).setIssuer(ISSUER).setAudience(audience).setSubject('idp-user-7').setIssuedAt().setExpirationTime('10m').sign(signingKey);

const SIGN_IN = 'mutation($t: String!) { signInWithPartnerSso(idToken: $t) { accessToken learnerId cohortIds } }';

describe('partner SSO', () => {
  it('signs a learner in (once created, then the same learner), and lets them start an assigned case', async () => {
    const first = await postGraphQL(t.graphqlUrl, { query: SIGN_IN, variables: { t: await idToken({ cohort_id: cohortId }) } });
    const signedIn = first.json.data?.['signInWithPartnerSso'] as { accessToken: string; learnerId: string; cohortIds: string[] };
    expect(signedIn.cohortIds).toEqual([cohortId]);
    const again = await postGraphQL(t.graphqlUrl, { query: SIGN_IN, variables: { t: await idToken({}) } });
    expect((again.json.data?.['signInWithPartnerSso'] as { learnerId: string }).learnerId).toBe(signedIn.learnerId);

    const bearer = { authorization: `Bearer ${signedIn.accessToken}` };
    const started = await postGraphQL(t.graphqlUrl, { query: `mutation { startCaseSession(cohortId: "${cohortId}") { id status caseTitle } }` }, bearer);
    expect(started.json.errors).toBeUndefined();
    const session = started.json.data?.['startCaseSession'] as { id: string; status: string; caseTitle: string };
    expect(session).toMatchObject({ status: 'ACTIVE', caseTitle: 'Vomiting and abdominal pain in a 19-year-old with type 1 diabetes' });
    const read = await postGraphQL(t.graphqlUrl, { query: `{ caseSession(id: "${session.id}") { learnerId } }` }, bearer);
    expect(read.json.data).toEqual({ caseSession: { learnerId: signedIn.learnerId } });
    const notEnrolled = await postGraphQL(t.graphqlUrl, { query: `mutation { startCaseSession(cohortId: "${COHORTS.northwindA.id}") { id } }` }, bearer);
    expect(errorCodes(notEnrolled.json)).toEqual(['FORBIDDEN']);
  });

  it('refuses a wrong audience, a foreign key and another partner’s cohort, creating nothing', async () => {
    const prisma = t.platform.database.prisma;
    const before = { learners: await prisma.learner.count(), enrollments: await prisma.enrollment.count() };
    const wrongAudience = await postGraphQL(t.graphqlUrl, { query: SIGN_IN, variables: { t: await idToken({}, 'someone-else') } });
    expect(errorCodes(wrongAudience.json)).toEqual(['UNAUTHENTICATED']);
    const stranger = await generateKeyPair('RS256');
    const forged = await postGraphQL(t.graphqlUrl, { query: SIGN_IN, variables: { t: await idToken({}, AUDIENCE, stranger.privateKey) } });
    expect(errorCodes(forged.json)).toEqual(['UNAUTHENTICATED']);
    const foreignCohort = await postGraphQL(t.graphqlUrl, { query: SIGN_IN, variables: { t: await idToken({ cohort_id: COHORTS.northwindA.id }) } });
    expect(errorCodes(foreignCohort.json)).toEqual(['FORBIDDEN']);
    expect({ learners: await prisma.learner.count(), enrollments: await prisma.enrollment.count() }).toEqual(before);
  });
});
