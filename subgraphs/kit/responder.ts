import OpenAI from 'openai';

/**
 * One interface for every conversational reply the platform streams: the training patient,
 * the chat assistant. An embedded responder lets the platform work with no model server at
 * all; the LLM responder talks to any OpenAI-compatible server through the `openai` SDK.
 */
export interface ConversationTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface ResponderRequest {
  /** Instructions and context (persona, facts); never shown to the user. */
  system: string;
  history: ConversationTurn[];
  message: string;
  signal?: AbortSignal;
}

export interface Responder {
  readonly name: string;
  /** The reply, piece by piece, as it is produced. */
  stream(request: ResponderRequest): AsyncIterable<string>;
}

export interface LlmConfig {
  baseURL: string;
  model: string;
  apiKey: string;
  timeoutMs?: number;
}

/** LLM_BASE_URL, LLM_MODEL, LLM_API_KEY; undefined when no model server is configured. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv = process.env): LlmConfig | undefined {
  const baseURL = env['LLM_BASE_URL'];
  if (!baseURL) return undefined;
  return { baseURL, model: env['LLM_MODEL'] || 'gpt-4o-mini', apiKey: env['LLM_API_KEY'] || 'not-needed', timeoutMs: Number(env['LLM_TIMEOUT_MS'] || 30_000) };
}

export class OpenAICompatibleResponder implements Responder {
  readonly name = 'llm';
  private readonly client: OpenAI;

  constructor(private readonly config: LlmConfig) {
    this.client = new OpenAI({ baseURL: config.baseURL, apiKey: config.apiKey, timeout: config.timeoutMs ?? 30_000, maxRetries: 1 });
  }

  async *stream(request: ResponderRequest): AsyncIterable<string> {
    const completion = await this.client.chat.completions.create(
      {
        model: this.config.model,
        stream: true,
        temperature: 0.3,
        messages: [
          { role: 'system', content: request.system },
          ...request.history.map((turn) => ({ role: turn.role, content: turn.content })),
          { role: 'user', content: request.message },
        ],
      },
      { signal: request.signal },
    );
    for await (const chunk of completion) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) yield delta;
    }
  }
}

/** Streams a fixed text word by word, yielding to the event loop between words. */
export async function* streamWords(text: string, pauseMs = 0): AsyncIterable<string> {
  for (const piece of text.match(/\S+\s*/g) ?? []) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    yield piece;
  }
}
