import type { Client } from 'graphql-ws';
import { ORGS, PATIENTS, USERS } from '../../prisma/seed-data.js';
import { chatSubgraph } from '../../subgraphs/chat/index.js';
import { sendMessage } from '../../subgraphs/chat/service.js';
import { createContext } from '../../subgraphs/kit/context.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { RedisRateLimiter } from '../../subgraphs/kit/rate-limit.js';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { errorCodes, postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribed } from '../support/wait.js';

/**
 * Clinical chat through the gateway, as the patient app and the nurse dashboard use it.
 */
let t: TestPlatform;
const sockets: Client[] = [];
beforeAll(async () => {
  t = await startTestPlatform();
});
afterAll(async () => {
  for (const socket of sockets) await socket.dispose();
  await t?.close();
});

const as = async (user: keyof typeof USERS): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
async function socketFor(user: keyof typeof USERS): Promise<Client> {
  const socket = connectWs(t.graphqlUrl, await as(user));
  sockets.push(socket);
  return socket;
}
async function startChat(user: keyof typeof USERS = 'patient'): Promise<string> {
  const { json } = await postGraphQL(t.graphqlUrl, { query: 'mutation { startChat { id } }' }, await as(user));
  return (json.data?.['startChat'] as { id: string }).id;
}
const SEND = 'mutation($id: ID!, $text: String!) { sendChatMessage(sessionId: $id, text: $text) { message { id role } redFlags { code urgency evidence } replyMessageId } }';
const pubsub = () => t.platform.deps.pubsub;
/** Where the nurse subgraph hears queue changes (queueUpdated and redFlagAlerts). */
const QUEUE_TOPIC = 'events:nurse.queue.changed';

describe('a red flag in chat reaches the nurse queue', () => {
  it('chest pain: emergency guidance at once, a critical entry with the patient’s name for the subscribed nurse, escalation, and a stale action is a CONFLICT', async () => {
    const nurseSocket = await socketFor('nurse');
    const nurseUpdates = await subscribed(pubsub(), QUEUE_TOPIC, () => subscribeWs(nurseSocket, 'subscription { queueUpdated { kind entry { id urgency reason version patient { name } } } }'));
    const clinicianSocket = await socketFor('clinician');
    const alerts = await subscribed(pubsub(), QUEUE_TOPIC, () => subscribeWs(clinicianSocket, `subscription { redFlagAlerts(organizationId: "${ORGS.clinicNorth.id}") { id urgency redFlagCodes } }`));
    const sessionId = await startChat();
    const patientSocket = await socketFor('patient');
    const replies = await subscribed(pubsub(), `chat.reply.${sessionId}`, () => subscribeWs(patientSocket, 'subscription($id: ID!) { assistantReply(sessionId: $id) { messageId done text } }', { id: sessionId }));

    const sent = await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text: 'crushing chest pain going down my left arm' } }, await as('patient'));
    const result = sent.json.data?.['sendChatMessage'] as { redFlags: Array<{ code: string; urgency: string; evidence: string }>; replyMessageId: string };
    expect(result.redFlags.map((f) => [f.code, f.urgency])).toEqual([['CHEST_PAIN', 'CRITICAL']]);

    const reply = (await replies.next()).data?.['assistantReply'] as { messageId: string; done: boolean; text: string };
    expect(reply.messageId).toBe(result.replyMessageId);
    expect(reply.done).toBe(true);
    expect(reply.text).toMatch(/emergency/i);
    expect(reply.text).not.toMatch(/heart attack|angina|diagnos/i);

    const added = (await nurseUpdates.next()).data?.['queueUpdated'] as { kind: string; entry: { id: string; urgency: string; version: number; patient: { name: string } } };
    expect(added).toMatchObject({ kind: 'ADDED', entry: { urgency: 'CRITICAL', version: 1, patient: { name: 'Amara Testwell' } } });
    expect((await alerts.next()).data?.['redFlagAlerts']).toEqual({ id: added.entry.id, urgency: 'CRITICAL', redFlagCodes: ['CHEST_PAIN'] });

    const act = (user: keyof typeof USERS, action: string, version: number) =>
      as(user).then((headers) => postGraphQL(t.graphqlUrl, { query: `mutation { actOnQueueEntry(id: "${added.entry.id}", action: ${action}, reason: "seen", expectedVersion: ${version}) { status version } }` }, headers));
    expect((await act('nurse', 'ESCALATE', 1)).json.data).toEqual({ actOnQueueEntry: { status: 'ESCALATED', version: 2 } });
    expect(errorCodes((await act('clinician', 'APPROVE', 1)).json)).toEqual(['CONFLICT']);
  });

  it('a negated or unrelated message raises nothing and gets a streamed triage reply', async () => {
    const sessionId = await startChat();
    const patientSocket = await socketFor('patient');
    const replies = await subscribed(pubsub(), `chat.reply.${sessionId}`, () => subscribeWs(patientSocket, 'subscription($id: ID!) { assistantReply(sessionId: $id) { seq delta done text } }', { id: sessionId }));
    const before = await t.platform.database.prisma.outboxEvent.count({ where: { type: 'chat.red_flag.raised' } });
    const sent = await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text: 'No chest pain and no trouble breathing, just a tickly cough for two days' } }, await as('patient'));
    expect((sent.json.data?.['sendChatMessage'] as { redFlags: unknown[] }).redFlags).toEqual([]);
    const chunks: Array<{ delta: string; done: boolean; text: string }> = [];
    for (;;) {
      const chunk = (await replies.next()).data?.['assistantReply'] as { delta: string; done: boolean; text: string };
      chunks.push(chunk);
      if (chunk.done) break;
    }
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.at(-1)?.text).toMatch(/scale from 0 to 10/);
    expect(await t.platform.database.prisma.outboxEvent.count({ where: { type: 'chat.red_flag.raised' } })).toBe(before);
    // The full reply is stored once done.
    const history = await postGraphQL(t.graphqlUrl, { query: `{ chatHistory(sessionId: "${sessionId}") { role text } }` }, await as('patient'));
    const roles = (history.json.data?.['chatHistory'] as Array<{ role: string }>).map((m) => m.role);
    expect(roles).toEqual(['PATIENT', 'ASSISTANT']);
  });
});

describe('everyone in the chat hears every message', () => {
  it('a nurse joins and writes; the patient receives it on chatMessages', async () => {
    const sessionId = await startChat();
    const patientSocket = await socketFor('patient');
    const patientStream = await subscribed(pubsub(), `chat.messages.${sessionId}`, () => subscribeWs(patientSocket, 'subscription($id: ID!) { chatMessages(sessionId: $id) { role text } }', { id: sessionId }));
    await postGraphQL(t.graphqlUrl, { query: `mutation { joinChat(sessionId: "${sessionId}") { id } }` }, await as('nurse'));
    await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text: 'Hello, I am the nurse on duty. How are you feeling now?' } }, await as('nurse'));
    const message = (await patientStream.next()).data?.['chatMessages'] as { role: string; text: string };
    expect(message).toEqual({ role: 'NURSE', text: 'Hello, I am the nurse on duty. How are you feeling now?' });
  });
});

describe('who sees chats', () => {
  it('the patient and their organization’s nurses and clinicians only; reads are audited', async () => {
    const sessionId = await startChat();
    const read = async (user: keyof typeof USERS) => errorCodes((await postGraphQL(t.graphqlUrl, { query: `{ chatHistory(sessionId: "${sessionId}") { text } }` }, await as(user))).json);
    expect(await read('patient')).toEqual([]);
    expect(await read('nurse')).toEqual([]);
    expect(await read('clinician')).toEqual([]);
    for (const user of ['hospitalPatient', 'hospitalNurse', 'learner', 'billing', 'admin', 'partner'] as const) expect([user, await read(user)]).toEqual([user, ['FORBIDDEN']]);
    // Reads only: starting the chat is audited too now (as a create).
    const audits = await t.platform.database.prisma.auditEvent.count({ where: { entityType: 'ChatSession', entityId: sessionId, source: 'chat', action: 'read' } });
    expect(audits).toBe(3);
    const onBehalf = await postGraphQL(t.graphqlUrl, { query: `mutation { startChat(patientId: "${PATIENTS.bayoNorth.id}") { id organizationId } }` }, await as('nurse'));
    expect(onBehalf.json.data).toMatchObject({ startChat: { organizationId: ORGS.clinicNorth.id } });
    const otherPatient = await postGraphQL(t.graphqlUrl, { query: `mutation { startChat(patientId: "${PATIENTS.bayoNorth.id}") { id } }` }, await as('patient'));
    expect(errorCodes(otherPatient.json)).toEqual(['FORBIDDEN']);
  });

  it('audits a history read once: the chat and each of its messages, under the reader', async () => {
    const sessionId = await startChat();
    // A nurse's message: no assistant reply reads the history meanwhile.
    await postGraphQL(t.graphqlUrl, { query: `mutation { joinChat(sessionId: "${sessionId}") { id } }` }, await as('nurse'));
    const sent = await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text: 'How are you feeling this morning?' } }, await as('nurse'));
    const messageId = (sent.json.data?.['sendChatMessage'] as { message: { id: string } }).message.id;
    const readsBy = async (user: keyof typeof USERS) =>
      (await t.platform.database.prisma.auditEvent.findMany({ where: { source: 'chat', action: 'read', actorId: USERS[user].id, entityId: { in: [sessionId, messageId] } } })).map((a) => `${a.entityType}:${a.entityId}`).sort();
    const history = async () => postGraphQL(t.graphqlUrl, { query: `{ chatHistory(sessionId: "${sessionId}") { id text } }` }, await as('clinician'));
    expect((await history()).json.data).toEqual({ chatHistory: [{ id: messageId, text: 'How are you feeling this morning?' }] });
    expect(await readsBy('clinician')).toEqual([`ChatMessage:${messageId}`, `ChatSession:${sessionId}`].sort());
    await history();
    expect(await readsBy('clinician')).toHaveLength(4);
  });

  it('takes a patient’s message when the rate limiter’s Redis is down, and logs that without naming the patient', async () => {
    const sessionId = await startChat();
    const lines: string[] = [];
    const log = createLogger('chat-fail-open', 'warn', { write: (line: string) => void lines.push(line) });
    // Nothing listens there: every command fails at once.
    const limiter = new RedisRateLimiter('redis://127.0.0.1:9', 'fail-open-test:', log);
    try {
      const ctx = createContext({ ...t.platform.deps, log, rateLimiter: limiter }, chatSubgraph, {
        kind: 'user', subject: USERS.patient.id, role: 'PATIENT', organizationId: ORGS.clinicNorth.id, patientId: PATIENTS.amaraNorth.id,
      });
      const sent = await sendMessage(ctx, sessionId, 'crushing chest pain going down my left arm');
      expect(sent.message).toMatchObject({ sessionId, role: 'PATIENT' });
      const prisma = t.platform.database.prisma;
      expect(await prisma.chatMessage.count({ where: { id: sent.message.id } })).toBe(1);
      // The nurse is alerted as ever.
      expect(await prisma.outboxEvent.count({ where: { type: 'chat.red_flag.raised', aggregateId: sessionId } })).toBe(1);
      const warnings = lines.filter((line) => line.includes('rate limit store unavailable'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('"limit":"chat"');
      for (const line of lines) {
        expect(line).not.toContain(PATIENTS.amaraNorth.id);
        expect(line).not.toContain('chest pain');
      }
    } finally {
      await limiter.close();
      // close() QUITs, which a client that never connected refuses (no offline queue) and then
      // reconnects forever; disconnect it (kit candidate: close() should disconnect when not ready).
      (limiter as unknown as { redis: { disconnect(): void } }).redis.disconnect();
    }
  });

  it('limits how fast one patient can send messages, with a clear error', async () => {
    const sessionId = await startChat('hospitalPatient');
    const headers = await as('hospitalPatient');
    // The Redis limiter counts per wall-clock minute: starting in the minute's last seconds, the
    // messages would straddle two windows and the 21st could pass. Start with 20 s of window left.
    const intoWindow = Date.now() % 60_000;
    if (intoWindow > 40_000) await new Promise((done) => setTimeout(done, 60_000 - intoWindow + 100));
    let limited: { message?: string; extensions?: Record<string, unknown> } | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const { json } = await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text: `question number ${i}` } }, headers);
      limited = json.errors?.find((e) => e.extensions?.['code'] === 'RATE_LIMITED');
      if (!limited) expect(i).toBeLessThan(20);
    }
    expect(limited?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 20, windowSeconds: 60 });
    expect(limited?.message).toMatch(/at most 20 per 60 s/);
  });
});
