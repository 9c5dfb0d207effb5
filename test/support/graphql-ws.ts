import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

export type WsResult = FormattedExecutionResult<Record<string, unknown>, unknown>;

/** A graphql-ws client as a frontend opens it (no retries, so failures surface in tests). */
export function connectWs(url: string, connectionParams: Record<string, unknown> = {}): Client {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams });
}

/** One subscription's events as a queue a test can await, and how it ended. */
export function subscribeWs(client: Client, query: string, variables?: Record<string, unknown>) {
  const events: WsResult[] = [];
  const waiters: Array<(event: WsResult) => void> = [];
  let resolveEnd!: (outcome: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (resolveEnd = resolve));
  const unsubscribe = client.subscribe<Record<string, unknown>, unknown>(
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
