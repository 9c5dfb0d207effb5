import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { GraphQLClient } from 'graphql-request';
import { SignJWT } from 'jose';
import type { Client } from 'graphql-ws';
import { COHORTS, PARTNERS, USERS } from '../../prisma/seed-data.js';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../subgraphs/kit/outbox.js';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribed } from '../support/wait.js';

/**
 * The pilot end to end, through the gateway as a partner platform and a learner's browser
 * would use it: launch → streamed patient reply over graphql-ws → work-up → completion →
 * summary over GraphQL → the partner's webhook receives the signed summary.
 */
let t: TestPlatform;
let receiver: Server;
const received: Array<{ deliveryId: string; signature: string; body: string }> = [];
const WEBHOOK_SECRET = 'whsec_partner_test_secret';
const sockets: Client[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ deliveryId: String(req.headers[DELIVERY_ID_HEADER]), signature: String(req.headers[SIGNATURE_HEADER]), body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t = await startTestPlatform();
  await t.platform.database.prisma.webhookEndpoint.create({
    data: { organizationId: PARTNERS.northwind.organizationId, partnerId: PARTNERS.northwind.id, url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/caregraph`, secret: WEBHOOK_SECRET, eventTypes: ['training.session.completed'] },
  });
});
afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  await t?.close();
  receiver?.close();
});

interface LaunchClaims {
  sub?: string;
  cohort_id?: string;
  case_id?: string;
  jti?: string;
  role?: string;
  name?: string;
}

async function launchToken(claims: LaunchClaims = {}, options: { secret?: string; issuer?: string; expiresIn?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'learner', name: 'Sam Synthetic', cohort_id: COHORTS.northwindA.id, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(options.issuer ?? PARTNERS.northwind.launchIssuer)
    .setSubject(claims.sub ?? `lms-user-${randomUUID()}`)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(new TextEncoder().encode(options.secret ?? PARTNERS.northwind.launchSecret));
}

const LAUNCH = 'mutation($token: String!) { launchSession(token: $token) { accessToken launchUrl session { id status } } }';

async function launch(token: string): Promise<{ accessToken: string; sessionId: string; launchUrl: string }> {
  const { json } = await postGraphQL(t.graphqlUrl, { query: LAUNCH, variables: { token } });
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  const result = json.data?.['launchSession'] as { accessToken: string; launchUrl: string; session: { id: string; status: string } };
  expect(result.session.status).toBe('ACTIVE');
  return { accessToken: result.accessToken, sessionId: result.session.id, launchUrl: result.launchUrl };
}

const asBearer = (token: string): GraphQLClient => new GraphQLClient(t.graphqlUrl, { headers: { authorization: `Bearer ${token}` } });

describe('the training pilot, end to end', () => {
  it('launches, streams the patient, scores the work-up and reports it to the partner', async () => {
    const { accessToken, sessionId, launchUrl } = await launch(await launchToken({ sub: 'lms-user-42' }));
    // The partner's learner app, told the session and the token in the fragment, never the query.
    const link = new URL(launchUrl);
    expect(`${link.origin}${link.pathname}`).toBe(PARTNERS.northwind.learnerAppUrl);
    expect(link.search).toBe('');
    expect(Object.fromEntries(new URLSearchParams(link.hash.slice(1)))).toEqual({ session_id: sessionId, access_token: accessToken });
    const learner = asBearer(accessToken);

    const socket = connectWs(t.graphqlUrl, { authorization: `Bearer ${accessToken}` });
    sockets.push(socket);
    const replies = await subscribed(t.platform.deps.pubsub, `training.reply.${sessionId}`, () =>
      subscribeWs(socket, 'subscription($id: ID!) { patientReply(sessionId: $id) { turnId seq delta done text } }', { id: sessionId }));

    const sent = await learner.request<{ sendLearnerMessage: { replyTurnId: string } }>(
      'mutation($id: ID!) { sendLearnerMessage(sessionId: $id, text: "Does the pain spread anywhere, like to your arm?") { learnerTurnId replyTurnId } }',
      { id: sessionId },
    );
    const chunks: Array<{ turnId: string; seq: number; delta: string; done: boolean; text: string }> = [];
    for (;;) {
      const event = await replies.next();
      expect(event.errors).toBeUndefined();
      const chunk = event.data?.['patientReply'] as (typeof chunks)[number];
      chunks.push(chunk);
      if (chunk.done) break;
    }
    expect(chunks.length).toBeGreaterThan(3); // token by token, not one blob
    expect(chunks.every((c) => c.turnId === sent.sendLearnerMessage.replyTurnId)).toBe(true);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_c, i) => i + 1));
    const full = chunks.at(-1)?.text ?? '';
    expect(full).toContain('left arm');
    expect(chunks.slice(0, -1).map((c) => c.delta).join('')).toBe(full);

    const ecg = await learner.request<{ orderInvestigation: { result: string } }>('mutation($id: ID!) { orderInvestigation(sessionId: $id, code: "ECG") { code name result } }', { id: sessionId });
    expect(ecg.orderInvestigation.result).toMatch(/ST elevation/);
    await learner.request('mutation($id: ID!) { submitDiagnosis(sessionId: $id, diagnosis: "Inferior STEMI") { id } }', { id: sessionId });
    await learner.request('mutation($id: ID!) { submitManagement(sessionId: $id, plan: "Primary PCI via the cath lab, ticagrelor loading dose, analgesia") { id } }', { id: sessionId });
    const done = await learner.request<{ completeSession: { status: string; totalScore: number; flaggedErrors: unknown[] } }>(
      'mutation($id: ID!) { completeSession(sessionId: $id) { status totalScore flaggedErrors { code } } }',
      { id: sessionId },
    );
    expect(done.completeSession.status).toBe('COMPLETED');
    expect(done.completeSession.flaggedErrors).toEqual([]);

    const SUMMARY = 'query($id: ID!) { caseSession(id: $id) { id status caseId caseVersion caseTitle startedAt endedAt durationSeconds totalScore subScores { section score } flaggedErrors { code severity message } turns { role text } orderedInvestigations } }';
    const mine = await learner.request<{ caseSession: { totalScore: number; caseVersion: number; turns: Array<{ role: string }>; orderedInvestigations: string[]; subScores: Array<{ section: string; score: number | null }> } }>(SUMMARY, { id: sessionId });
    expect(mine.caseSession.totalScore).toBe(done.completeSession.totalScore);
    expect(mine.caseSession.caseVersion).toBe(1);
    expect(mine.caseSession.turns.map((turn) => turn.role)).toEqual(['LEARNER', 'PATIENT']);
    expect(mine.caseSession.orderedInvestigations).toEqual(['ECG']);
    expect(mine.caseSession.subScores.find((s) => s.section === 'diagnosis')?.score).toBe(100);

    const partner = await t.client('partner');
    const seenByPartner = await partner.request<{ caseSession: { totalScore: number } }>(SUMMARY, { id: sessionId });
    expect(seenByPartner.caseSession.totalScore).toBe(done.completeSession.totalScore);
    // And over REST, as a partner platform without a GraphQL client reads it.
    const rest = await fetch(`${t.baseUrl}/integrations/partner/sessions/${sessionId}`, { headers: { authorization: `Bearer ${await t.tokenFor('partner')}` } });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ id: sessionId, status: 'COMPLETED', totalScore: done.completeSession.totalScore, caseVersion: 1 });

    // The partner's webhook receives the signed summary, once.
    const deadline = Date.now() + 15_000;
    while (!received.some((r) => r.body.includes(sessionId)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const delivery = received.find((r) => r.body.includes(sessionId));
    expect(delivery).toBeDefined();
    expect(verifyWebhookSignature(WEBHOOK_SECRET, delivery?.signature, delivery?.body ?? '')).toEqual({ ok: true });
    const payload = JSON.parse(delivery?.body ?? '{}') as { event: { type: string; payload: { sessionId: string; score: { total: number } } } };
    expect(payload.event.type).toBe('training.session.completed');
    expect(payload.event.payload.score.total).toBe(done.completeSession.totalScore);
  });
});

describe('rejected launches create nothing', () => {
  async function counts(): Promise<Record<string, number>> {
    const prisma = t.platform.database.prisma;
    return { sessions: await prisma.caseSession.count(), learners: await prisma.learner.count(), nonces: await prisma.launchNonce.count(), enrollments: await prisma.enrollment.count() };
  }

  async function expectRejected(token: string, code: string, reason?: RegExp): Promise<void> {
    const before = await counts();
    const { json } = await postGraphQL(t.graphqlUrl, { query: LAUNCH, variables: { token } });
    expect(errorCodes(json)).toEqual([code]);
    if (reason) expect(json.errors?.[0]?.message).toMatch(reason);
    expect(await counts()).toEqual(before);
  }

  it('expired', async () => expectRejected(await launchToken({}, { expiresIn: -120 }), 'UNAUTHENTICATED', /expired/));
  it('exp too far ahead', async () => expectRejected(await launchToken({}, { expiresIn: 3600 }), 'UNAUTHENTICATED', /minutes ahead/));
  it('bad signature', async () => expectRejected(await launchToken({}, { secret: 'not-the-partners-secret-at-all' }), 'UNAUTHENTICATED', /signature/));
  it('unknown partner', async () => expectRejected(await launchToken({}, { issuer: 'https://lms.unknown.example' }), 'UNAUTHENTICATED', /unknown partner/));
  it('alg none', async () => {
    const enc = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: PARTNERS.northwind.launchIssuer, sub: 'x', cohort_id: COHORTS.northwindA.id, jti: randomUUID(), exp: now + 60 })}.`;
    await expectRejected(token, 'UNAUTHENTICATED', /algorithm/);
  });
  it('replayed jti', async () => {
    const token = await launchToken();
    await launch(token);
    await expectRejected(token, 'UNAUTHENTICATED', /already used/);
  });
  it('a cohort that is not the partner’s', async () => expectRejected(await launchToken({ cohort_id: COHORTS.southbank.id }), 'FORBIDDEN'));
});

describe('who sees what', () => {
  it('a partner cannot read another partner’s cohort or sessions; a learner cannot read another learner’s session', async () => {
    const first = await launch(await launchToken());
    const second = await launch(await launchToken());
    const otherPartner = await t.client('otherPartner');
    const cohort = await postGraphQL(t.graphqlUrl, { query: `{ cohort(id: "${COHORTS.northwindA.id}") { id } }` }, { authorization: `Bearer ${await t.tokenFor('otherPartner')}` });
    expect(errorCodes(cohort.json)).toEqual(['FORBIDDEN']);
    await expect(otherPartner.request(`{ caseSession(id: "${first.sessionId}") { id } }`)).rejects.toThrow(/FORBIDDEN|may not/);
    const crossLearner = await postGraphQL(t.graphqlUrl, { query: `{ caseSession(id: "${second.sessionId}") { id } }` }, { authorization: `Bearer ${first.accessToken}` });
    expect(errorCodes(crossLearner.json)).toEqual(['FORBIDDEN']);
    const own = await postGraphQL(t.graphqlUrl, { query: `{ caseSession(id: "${first.sessionId}") { id } }` }, { authorization: `Bearer ${first.accessToken}` });
    expect(own.json.data).toEqual({ caseSession: { id: first.sessionId } });
    void USERS;
  });
});
