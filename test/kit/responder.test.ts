import { OpenAICompatibleResponder, streamWords } from '../../subgraphs/kit/responder.js';
import { FakeOpenAI } from '../support/fake-openai.js';

describe('LLM responder over the openai SDK', () => {
  const fake = new FakeOpenAI(() => ['I have ', 'a crushing ', 'pain.']);
  beforeAll(() => fake.start());
  afterAll(() => fake.stop());

  it('streams the server’s chunks in order and sends the prompt with system, history and message', async () => {
    const responder = new OpenAICompatibleResponder({ baseURL: fake.baseURL, model: 'test-model', apiKey: 'sk-test' });
    const pieces: string[] = [];
    for await (const piece of responder.stream({ system: 'You are a patient.', history: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello doctor' }], message: 'What is wrong?' })) {
      pieces.push(piece);
    }
    expect(pieces).toEqual(['I have ', 'a crushing ', 'pain.']);
    expect(fake.requests.at(-1)).toEqual({
      model: 'test-model',
      authorization: 'Bearer sk-test',
      messages: [
        { role: 'system', content: 'You are a patient.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello doctor' },
        { role: 'user', content: 'What is wrong?' },
      ],
    });
  });

  it('fails clearly when the server is unreachable', async () => {
    const responder = new OpenAICompatibleResponder({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', apiKey: 'k', timeoutMs: 2_000 });
    await expect((async () => {
      for await (const _piece of responder.stream({ system: 's', history: [], message: 'm' })) { /* drain */ }
    })()).rejects.toThrow(/Connection error|ECONNREFUSED|fetch failed/);
  });
});

describe('embedded word streaming', () => {
  it('yields each word with its spacing', async () => {
    const pieces: string[] = [];
    for await (const piece of streamWords('one two  three')) pieces.push(piece);
    expect(pieces).toEqual(['one ', 'two  ', 'three']);
  });
});
