import { USERS } from '../../prisma/seed-data.js';
import { FakeOpenAI } from '../support/fake-openai.js';
import { postGraphQL, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { until } from '../support/wait.js';

/**
 * Red flags as the patient app sees them when an LLM is configured (a local fake speaking the
 * OpenAI wire format): its review may add a flag, never remove one; and a message the detectors
 * cannot read alerts a nurse instead of passing as harmless.
 */
const REVIEW_ADDS = 'my grandad seems a bit off today';
const fake = new FakeOpenAI((messages) => {
  const system = messages[0]?.content ?? '';
  const message = messages.at(-1)?.content ?? '';
  if (!system.startsWith('You triage patient chat messages')) return ['Thank ', 'you. ', 'A nurse can review this.'];
  // The reviewer's answer: a flag the detectors did not raise for one message; nothing for the rest.
  return message === REVIEW_ADDS ? ['{"codes": ', '["SEPSIS_SIGNS"]}'] : ['{"codes": []}'];
});
let t: TestPlatform;
beforeAll(async () => {
  await fake.start();
  t = await startTestPlatform({ llm: { baseURL: fake.baseURL, model: 'triage-1', apiKey: 'sk-local-test' } });
});
afterAll(async () => {
  await t?.close();
  await fake.stop();
});

const as = async (user: keyof typeof USERS): Promise<Record<string, string>> => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const SEND = 'mutation($id: ID!, $text: String!) { sendChatMessage(sessionId: $id, text: $text) { message { id } redFlags { code urgency evidence detectedBy signals } } }';
type Flag = { code: string; urgency: string; evidence: string; detectedBy: string[]; signals: string[] };

async function send(text: string): Promise<{ flags: Flag[]; sessionId: string }> {
  const started = await postGraphQL(t.graphqlUrl, { query: 'mutation { startChat { id } }' }, await as('patient'));
  const sessionId = (started.json.data?.['startChat'] as { id: string }).id;
  const sent = await postGraphQL(t.graphqlUrl, { query: SEND, variables: { id: sessionId, text } }, await as('patient'));
  expect(sent.json.errors).toBeUndefined();
  return { flags: (sent.json.data?.['sendChatMessage'] as { redFlags: Flag[] }).redFlags, sessionId };
}

async function alertedCodes(sessionId: string): Promise<string[]> {
  const events = await t.platform.database.prisma.outboxEvent.findMany({ where: { type: 'chat.red_flag.raised', aggregateId: sessionId } });
  return events.flatMap((e) => (e.payload as { flags: Array<{ code: string }> }).flags.map((f) => f.code));
}

it('the LLM adds a flag the detectors missed, and the nurse is alerted to it', async () => {
  const { flags, sessionId } = await send(REVIEW_ADDS);
  expect(flags).toEqual([{ code: 'SEPSIS_SIGNS', urgency: 'CRITICAL', evidence: 'raised by the LLM review', detectedBy: ['LLM'], signals: [] }]);
  expect(await alertedCodes(sessionId)).toEqual(['SEPSIS_SIGNS']);
  // The review was asked with the message alone, under its own instructions.
  const review = fake.requests.find((r) => r.messages.at(-1)?.content === REVIEW_ADDS && r.messages[0]?.content.startsWith('You triage'));
  expect(review?.messages).toHaveLength(2);
});

it('the LLM finding nothing removes nothing', async () => {
  const { flags, sessionId } = await send('crushing chest pain going down my left arm');
  expect(flags.map((f) => [f.code, f.detectedBy])).toEqual([['CHEST_PAIN', ['RULES', 'CLASSIFIER']]]);
  expect(await alertedCodes(sessionId)).toEqual(['CHEST_PAIN']);
});

it('a message the detectors cannot read alerts a nurse', async () => {
  const { flags, sessionId } = await send('मेरे सीने में बहुत दर्द है');
  expect(flags).toEqual([{ code: 'UNREADABLE_MESSAGE', urgency: 'HIGH', evidence: 'script: written in a script the engine does not read', detectedBy: ['SAFETY'], signals: [] }]);
  expect(await alertedCodes(sessionId)).toEqual(['UNREADABLE_MESSAGE']);
  // The nurse subgraph turns the event into a queue entry (asynchronously, through the outbox).
  const entry = await until(() => t.platform.database.prisma.queueEntry.findFirst({ where: { sourceRef: sessionId } }), (found) => found !== null, 'the nurse queue entry');
  expect(entry).toMatchObject({ urgency: 'HIGH', redFlagCodes: ['UNREADABLE_MESSAGE'], source: 'CHAT_RED_FLAG' });
});
