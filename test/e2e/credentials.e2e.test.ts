import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { generatePlatformKeys } from '../../subgraphs/kit/keys.js';
import { PLATFORM_AUDIENCE, PLATFORM_ISSUER, signPlatformToken } from '../../subgraphs/kit/tokens.js';
import { INTERNAL_IDENTITY_HEADER, signInternalIdentity } from '../../subgraphs/kit/identity.js';
import { ORGS, USERS } from '../../prisma/seed-data.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';

const OIDC_ISSUER = 'http://partner-idp.test';
let t: TestPlatform;
let jwksServer: Server;
let oidcKey: { privateKey: CryptoKey; jwk: JWK & { kid: string } };

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  oidcKey = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'partner-1', alg: 'RS256', use: 'sig' } };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [oidcKey.jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  t = await startTestPlatform({
    oidcIssuers: [{ issuer: OIDC_ISSUER, audience: 'caregraph-partner', jwksUri, organizationId: ORGS.clinicNorth.id, role: 'LEARNER' }],
  });
});
afterAll(async () => {
  await t?.close();
  jwksServer?.close();
});

const CREATE = 'mutation { createPatient(input: {mrn: "MCN-77777", givenName: "Never", familyName: "Written", birthDate: "1990-01-01"}) { id } }';

async function rowCounts(): Promise<Record<string, number>> {
  const prisma = t.platform.database.prisma;
  return {
    patients: await prisma.patient.count(),
    users: await prisma.user.count(),
    audits: await prisma.auditEvent.count(),
    externalIdentities: await prisma.externalIdentity.count(),
  };
}

async function expectRejected(headers: Record<string, string>): Promise<void> {
  const before = await rowCounts();
  const { status, json } = await postGraphQL(t.graphqlUrl, { query: CREATE }, headers);
  expect(status).toBe(401);
  expect(errorCodes(json)).toEqual(['UNAUTHENTICATED']);
  expect(json.data).toBeUndefined();
  expect(await rowCounts()).toEqual(before);
}

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nurseClaims = { role: 'NURSE', org: ORGS.clinicNorth.id };

async function platformToken(mutate: (jwt: SignJWT) => SignJWT, key = t.keys): Promise<string> {
  const signing = key.signingKey;
  if (!signing) throw new Error('no signing key');
  const { importSigningKey } = await import('../../subgraphs/kit/keys.js');
  const jwt = new SignJWT(nurseClaims)
    .setProtectedHeader({ alg: 'ES256', kid: signing.kid })
    .setIssuer(PLATFORM_ISSUER)
    .setAudience(PLATFORM_AUDIENCE)
    .setSubject(USERS.nurse.id)
    .setIssuedAt()
    .setExpirationTime('10m');
  return mutate(jwt).sign(await importSigningKey(signing));
}

describe('credentials at the edge', () => {
  it('accepts a valid platform token (control)', async () => {
    const { status, json } = await postGraphQL(t.graphqlUrl, { query: '{ me { id } }' }, { authorization: `Bearer ${await t.tokenFor('nurse')}` });
    expect(status).toBe(200);
    expect(json.data).toEqual({ me: { id: USERS.nurse.id } });
  });

  it('rejects alg:none', async () => {
    const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...nurseClaims, sub: USERS.nurse.id, iss: PLATFORM_ISSUER, aud: PLATFORM_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    await expectRejected({ authorization: `Bearer ${token}` });
  });

  it('rejects an HS256 token (algorithm confusion with the public key)', async () => {
    const jwt = new SignJWT(nurseClaims).setProtectedHeader({ alg: 'HS256' }).setIssuer(PLATFORM_ISSUER).setAudience(PLATFORM_AUDIENCE).setSubject(USERS.nurse.id).setExpirationTime('5m');
    const token = await jwt.sign(new TextEncoder().encode(JSON.stringify(t.keys.publicKeys[0])));
    await expectRejected({ authorization: `Bearer ${token}` });
  });

  it('rejects an expired token', async () => {
    await expectRejected({ authorization: `Bearer ${await platformToken((j) => j.setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime(Math.floor(Date.now() / 1000) - 60))}` });
  });

  it('rejects a token that is not yet valid', async () => {
    await expectRejected({ authorization: `Bearer ${await platformToken((j) => j.setNotBefore(Math.floor(Date.now() / 1000) + 600))}` });
  });

  it('rejects a token without expiry', async () => {
    const signing = t.keys.signingKey;
    const { importSigningKey } = await import('../../subgraphs/kit/keys.js');
    const token = await new SignJWT(nurseClaims).setProtectedHeader({ alg: 'ES256', kid: signing?.kid }).setIssuer(PLATFORM_ISSUER).setAudience(PLATFORM_AUDIENCE).setSubject(USERS.nurse.id).sign(await importSigningKey(signing as JWK));
    await expectRejected({ authorization: `Bearer ${token}` });
  });

  it('rejects a wrong issuer', async () => {
    await expectRejected({ authorization: `Bearer ${await platformToken((j) => j.setIssuer('https://evil.example'))}` });
  });

  it('rejects a wrong audience', async () => {
    await expectRejected({ authorization: `Bearer ${await platformToken((j) => j.setAudience('another-api'))}` });
  });

  it('rejects a bad signature', async () => {
    const token = await t.tokenFor('nurse');
    const [header, payload, signature] = token.split('.');
    const tamperedPayload = base64url({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), role: 'ADMIN' });
    await expectRejected({ authorization: `Bearer ${header}.${tamperedPayload}.${signature}` });
  });

  it('rejects a token signed with an unknown key id', async () => {
    const otherKeys = await generatePlatformKeys();
    await expectRejected({ authorization: `Bearer ${await signPlatformToken(otherKeys, { userId: USERS.admin.id, role: 'ADMIN', organizationId: ORGS.clinicNorth.id })}` });
  });

  it('rejects a malformed header and garbage tokens', async () => {
    await expectRejected({ authorization: 'Basic dXNlcjpwYXNz' });
    await expectRejected({ authorization: 'Bearer not.a.jwt' });
  });

  it('rejects an unknown or malformed API key', async () => {
    await expectRejected({ 'x-api-key': 'cgk_this-key-was-never-issued' });
    await expectRejected({ 'x-api-key': 'x'.repeat(500) });
  });

  it('rejects a request carrying both a token and an API key', async () => {
    await expectRejected({ authorization: `Bearer ${await t.tokenFor('nurse')}`, 'x-api-key': 'cgk_whatever' });
  });

  it('an anonymous caller gets UNAUTHENTICATED from the subgraph rules, and nothing is written', async () => {
    const before = await rowCounts();
    const { json } = await postGraphQL(t.graphqlUrl, { query: CREATE });
    expect(errorCodes(json)).toEqual(['UNAUTHENTICATED']);
    expect(await rowCounts()).toEqual(before);
  });
});

describe('OIDC sign-in', () => {
  const idToken = (claims: Record<string, unknown>, mutate: (j: SignJWT) => SignJWT = (j) => j): Promise<string> =>
    mutate(
      new SignJWT({ email: 'sso-learner@partner.example.invalid', name: 'Sso Learner', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'partner-1' })
        .setIssuer(OIDC_ISSUER)
        .setAudience('caregraph-partner')
        .setSubject('partner-user-42')
        .setIssuedAt()
        .setExpirationTime('5m'),
    ).sign(oidcKey.privateKey);

  it('signs a partner user in through the issuer’s JWKS, provisioning them once', async () => {
    const token = await idToken({});
    const first = await postGraphQL(t.graphqlUrl, { query: '{ me { id roles displayName } }' }, { authorization: `Bearer ${token}` });
    expect(first.status).toBe(200);
    const me = first.json.data?.['me'] as { id: string; roles: string[]; displayName: string };
    expect(me.roles).toEqual(['LEARNER']);
    expect(me.displayName).toBe('Sso Learner');
    const second = await postGraphQL(t.graphqlUrl, { query: '{ me { id } }' }, { authorization: `Bearer ${await idToken({})}` });
    expect((second.json.data?.['me'] as { id: string }).id).toBe(me.id);
    expect(await t.platform.database.prisma.externalIdentity.count({ where: { issuer: OIDC_ISSUER, subject: 'partner-user-42' } })).toBe(1);
  });

  it('rejects an ID token with the wrong audience or a foreign key', async () => {
    await expectRejected({ authorization: `Bearer ${await idToken({}, (j) => j.setAudience('someone-else').setSubject('partner-user-43'))}` });
    const stranger = await generateKeyPair('RS256');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'partner-1' }).setIssuer(OIDC_ISSUER).setAudience('caregraph-partner').setSubject('partner-user-44').setExpirationTime('5m').sign(stranger.privateKey);
    await expectRejected({ authorization: `Bearer ${forged}` });
  });
});

describe('subgraphs behind the gateway', () => {
  const identityUrl = (): string => `${t.platform.subgraphs.find((s) => s.name === 'identity')?.url}/graphql`;

  it('answer 401 to a direct call without the gateway’s signature', async () => {
    const { status, json } = await postGraphQL(identityUrl(), { query: '{ me { id } }' }, { authorization: `Bearer ${await t.tokenFor('admin')}` });
    expect(status).toBe(401);
    expect(errorCodes(json)).toEqual(['UNAUTHENTICATED']);
  });

  it('answer 401 to an identity signed with another secret', async () => {
    const forged = await signInternalIdentity({ kind: 'user', subject: USERS.admin.id, role: 'ADMIN', organizationId: ORGS.clinicNorth.id }, 'x'.repeat(40));
    const { status } = await postGraphQL(identityUrl(), { query: '{ me { id } }' }, { [INTERNAL_IDENTITY_HEADER]: forged });
    expect(status).toBe(401);
  });

  it('refuse the internal credential routes to anyone but the gateway', async () => {
    const asAdmin = await signInternalIdentity({ kind: 'user', subject: USERS.admin.id, role: 'ADMIN', organizationId: ORGS.clinicNorth.id }, t.keys.internalIdentitySecret);
    const base = t.platform.subgraphs.find((s) => s.name === 'identity')?.url;
    const response = await fetch(`${base}/internal/credentials/api-key`, { method: 'POST', headers: { 'content-type': 'application/json', [INTERNAL_IDENTITY_HEADER]: asAdmin }, body: JSON.stringify({ key: 'cgk_x' }) });
    expect(response.status).toBe(403);
    // And the gateway does not expose them publicly.
    const viaGateway = await fetch(`${t.baseUrl}/internal/credentials/api-key`, { method: 'POST', body: '{}' });
    expect(viaGateway.status).toBe(404);
  });
});
