import type { FormattedExecutionResult } from 'graphql';

export type StreamResult = FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>;

/** Why a subscriber's stream stopped taking events (a metrics label, and for logs). */
export type EndReason = 'client' | 'complete' | 'upstream_error' | 'slow_consumer' | 'expired' | 'reload' | 'shutdown' | 'connection_closed';

/**
 * One subscriber's events on their way to its transport: an async iterator fed by pushes.
 *
 * The buffer is bounded: a consumer that does not keep up (a WebSocket whose client stopped
 * reading, an SSE response that does not drain) would otherwise make the gateway hold every
 * event for it. Past `limit` buffered values the buffer is dropped and the stream ends with
 * the `overflow()` value instead, so memory per subscriber never exceeds `limit` + 1 results.
 */
export interface SubscriberStream<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T>>;
  push(value: T): void;
  /** Ends once what is buffered has been read. */
  end(reason: EndReason): void;
  /** Ends with a last value; `discard` drops what is still buffered before it. */
  fail(last: T, reason: EndReason, options?: { discard?: boolean }): void;
  /** No more values will be accepted (the consumer may still be reading the buffer). */
  readonly ended: boolean;
  readonly buffered: number;
  /** Resolves when the consumer has read everything, or left. */
  readonly drained: Promise<void>;
}

export interface SubscriberStreamOptions<T> {
  limit: number;
  overflow(): T;
  /** Called once, when the stream stops accepting values, with why. */
  onClose(reason: EndReason): void;
}

export function createSubscriberStream<T>(options: SubscriberStreamOptions<T>): SubscriberStream<T> {
  const buffer: T[] = [];
  const waiting: Array<(result: IteratorResult<T>) => void> = [];
  let ended = false;
  let finished = false;
  let resolveDrained!: () => void;
  const drained = new Promise<void>((resolve) => (resolveDrained = resolve));

  const close = (reason: EndReason): void => {
    if (ended) return;
    ended = true;
    options.onClose(reason);
  };
  /** The consumer has nothing left to read. */
  const finish = (): void => {
    if (finished) return;
    finished = true;
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
    resolveDrained();
  };
  const deliver = (value: T): void => {
    const resolve = waiting.shift();
    if (resolve) resolve({ value, done: false });
    else buffer.push(value);
  };

  const stream: SubscriberStream<T> = {
    get ended() {
      return ended;
    },
    get buffered() {
      return buffer.length;
    },
    drained,
    push(value) {
      if (ended) return;
      if (waiting.length === 0 && buffer.length >= options.limit) {
        buffer.length = 0;
        deliver(options.overflow());
        close('slow_consumer');
        return;
      }
      deliver(value);
    },
    end(reason) {
      if (ended) return;
      close(reason);
      if (buffer.length === 0) finish();
    },
    fail(last, reason, { discard = false } = {}) {
      if (ended) return;
      if (discard) buffer.length = 0;
      deliver(last);
      close(reason);
    },
    next() {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift() as T, done: false });
      if (ended || finished) {
        finish();
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      buffer.length = 0;
      close('client');
      finish();
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
