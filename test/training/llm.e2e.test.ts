import type { Client } from 'graphql-ws';
import { connectWs, subscribeWs } from '../support/graphql-ws.js';
import { FakeOpenAI } from '../support/fake-openai.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { subscribed } from '../support/wait.js';
import { launchThrough, northwindLaunchToken } from './support.js';

/**
 * The simulated patient answered by a model server: the training subgraph streams an
 * OpenAI-compatible server's reply (a local fake speaking the real wire format over HTTP)
 * chunk by chunk through the gateway, prompted with the case's persona and facts.
 */
const fake = new FakeOpenAI(() => ['It ', 'goes ', 'down ', 'my ', 'left ', 'arm, ', 'doctor.']);
let t: TestPlatform;
let socket: Client | undefined;

beforeAll(async () => {
  await fake.start();
  t = await startTestPlatform({ llm: { baseURL: fake.baseURL, model: 'sim-patient-1', apiKey: 'sk-local-test' } });
});
afterAll(async () => {
  await socket?.dispose();
  await t?.close();
  await fake.stop();
});

it('streams the model’s reply through the gateway and stores it, with the case in the prompt', async () => {
  const { accessToken, sessionId } = await launchThrough(t.graphqlUrl, await northwindLaunchToken());
  socket = connectWs(t.graphqlUrl, { authorization: `Bearer ${accessToken}` });
  const replies = await subscribed(t.platform.deps.pubsub, `training.reply.${sessionId}`, () =>
    subscribeWs(socket!, 'subscription($id: ID!) { patientReply(sessionId: $id) { seq delta done text } }', { id: sessionId }));
  const response = await fetch(t.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ query: 'mutation($id: ID!) { sendLearnerMessage(sessionId: $id, text: "Does the pain spread to your arm?") { replyTurnId } }', variables: { id: sessionId } }),
  });
  expect(response.status).toBe(200);

  const deltas: string[] = [];
  for (;;) {
    const chunk = (await replies.next()).data?.['patientReply'] as { delta: string; done: boolean; text: string };
    if (chunk.done) {
      expect(chunk.text).toBe('It goes down my left arm, doctor.');
      break;
    }
    deltas.push(chunk.delta);
  }
  expect(deltas).toEqual(['It ', 'goes ', 'down ', 'my ', 'left ', 'arm, ', 'doctor.']);

  const request = fake.requests.at(-1);
  expect(request?.model).toBe('sim-patient-1');
  expect(request?.authorization).toBe('Bearer sk-local-test');
  const system = request?.messages[0]?.content ?? '';
  expect(system).toContain('Mr Tobi Kestrel');
  expect(system).toContain('It goes down my left arm and up into my jaw.');
  expect(request?.messages.at(-1)).toEqual({ role: 'user', content: 'Does the pain spread to your arm?' });

  const turns = await t.platform.database.prisma.sessionTurn.findMany({ where: { sessionId }, orderBy: { seq: 'asc' } });
  expect(turns.map((turn) => [turn.role, turn.text])).toEqual([
    ['LEARNER', 'Does the pain spread to your arm?'],
    ['PATIENT', 'It goes down my left arm, doctor.'],
  ]);
  // What the question revealed is decided from the case, whatever the model said.
  expect(turns[0]?.revealedFactIds).toEqual(['radiation']);
});
