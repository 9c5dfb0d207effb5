import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export type WsResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** A graphql-ws client as a frontend opens it (no retries, so failures surface in tests). */
export function connectWs(url: string, connectionParams: Record<string, unknown> = {}): Client {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
}

/** What the graphql-ws and graphql-sse clients have in common. */
export interface StreamingClient {
  subscribe(payload: { query: string; variables?: Record<string, unknown> }, sink: { next(value: WsResult): void; error(error: unknown): void; complete(): void }): () => void;
}

/** One subscription's events as a queue a test can await, and how it ended (graphql-ws or graphql-sse). */
export function subscribeWs(client: Client | StreamingClient, query: string, variables?: Record<string, unknown>) {
  const events: WsResult[] = [];
  const waiters: Array<(event: WsResult) => void> = [];
  let resolveEnd!: (outcome: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (resolveEnd = resolve));
  const unsubscribe = (client as StreamingClient).subscribe(
    { query, variables },
    {
      next: (event) => {
        const waiter = waiters.shift();
        if (waiter) waiter(event);
        else events.push(event);
      },
      error: (error) => resolveEnd({ error }),
      complete: () => resolveEnd({}),
    },
  );
  return {
    unsubscribe,
    ended,
    next(timeoutMs = 10_000): Promise<WsResult> {
      const event = events.shift();
      if (event) return Promise.resolve(event);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((e) => {
          clearTimeout(timer);
          resolve(e);
        });
      });
    },
  };
}
