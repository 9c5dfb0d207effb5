import type { FormattedExecutionResult } from 'graphql';

/**
 * An async iterator fed by pushes (upstream events), ended by `end()` or by the consumer's
 * `return()`. `return()` calls `onReturn` at once, even while a `next()` is pending, so a
 * client that leaves tears its upstream down without waiting for another event.
 */
export interface PushStream<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
  push(value: T): void;
  end(): void;
  readonly ended: boolean;
}

export function createPushStream<T>(onReturn: () => void): PushStream<T> {
  const buffer: T[] = [];
  const waiting: Array<(result: IteratorResult<T>) => void> = [];
  let ended = false;

  const finish = (): void => {
    if (ended) return;
    ended = true;
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
  };

  const stream: PushStream<T> = {
    get ended() {
      return ended;
    },
    push(value) {
      if (ended) return;
      const resolve = waiting.shift();
      if (resolve) resolve({ value, done: false });
      else buffer.push(value);
    },
    end() {
      // Buffered values are still delivered; only later pushes are dropped.
      if (buffer.length === 0) return finish();
      ended = true;
    },
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift() as T, done: false });
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      buffer.length = 0;
      const wasEnded = ended;
      finish();
      if (!wasEnded) onReturn();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error: unknown) {
      void stream.return();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}

export type StreamResult = FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>;
