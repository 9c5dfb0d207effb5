import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for an OpenAI-compatible server: POST /v1/chat/completions with
 * `stream: true` answers with `chat.completion.chunk` server-sent events and `[DONE]`, as the
 * real API does. It records each request so tests can check the prompt.
 */
export class FakeOpenAI {
  readonly requests: Array<{ model: string; messages: Array<{ role: string; content: string }>; authorization?: string }> = [];
  private server: Server | undefined;
  baseURL = '';

  constructor(private readonly reply: (messages: Array<{ role: string; content: string }>) => string[]) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { model: string; stream?: boolean; messages: Array<{ role: string; content: string }> };
        this.requests.push({ model: body.model, messages: body.messages, authorization: req.headers.authorization });
        const pieces = this.reply(body.messages);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model };
        const send = (data: unknown): boolean => res.write(`data: ${JSON.stringify(data)}\n\n`);
        send({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
        let i = 0;
        const next = (): void => {
          if (i < pieces.length) {
            send({ ...base, choices: [{ index: 0, delta: { content: pieces[i] }, finish_reason: null }] });
            i += 1;
            setTimeout(next, 2);
            return;
          }
          send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
          res.end('data: [DONE]\n\n');
        };
        next();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.baseURL = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
