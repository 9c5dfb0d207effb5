import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { domainError, ErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import { closeRedisClient, createRedisClient } from './redis.js';

/**
 * Topic-based publish/subscribe for subscriptions and cache invalidation.
 * In-memory within one process; Redis when REDIS_URL is set, so an event published by any
 * instance reaches subscribers on every instance.
 */
export interface PubSub {
  /**
   * Sends to the topic's live subscribers. Best effort: live events are not durable, so a
   * pubsub that is down is logged and reported (false), never thrown at the caller (a patient's
   * message is stored whether or not its echo reaches a dashboard). Durable events go through
   * the outbox, whose relay retries until this returns true.
   */
  publish(topic: string, payload: unknown): Promise<boolean>;
  /**
   * Ends when the consumer stops iterating. Throws SlowConsumerError past `bufferLimit`, and
   * EVENTS_MAY_BE_MISSED when the connection to the shared pubsub was lost (events published
   * meanwhile did not arrive): the subscriber reloads what it shows and subscribes again.
   */
  subscribe<T>(topic: string, options?: { bufferLimit?: number }): AsyncIterableIterator<T>;
  /**
   * Resolves once events published on `topic` from now on reach this instance's subscribers
   * (Redis confirms SUBSCRIBE asynchronously). Call after `subscribe` when the first event
   * must not be missed.
   */
  ready(topic: string): Promise<void>;
  /**
   * How many of this instance's subscribers a publish on `topic` would reach now (0 until the
   * shared pubsub confirmed the subscription). For readiness checks and tests, not for routing.
   */
  subscribers(topic: string): Promise<number>;
  close(): Promise<void>;
}

export class SlowConsumerError extends Error {
  constructor(topic: string) {
    super(`subscriber on ${topic} fell too far behind`);
  }
}

const DEFAULT_BUFFER_LIMIT = 1000;

/** The error a subscription ends with when its pubsub connection dropped. */
export const eventsMayBeMissed = () =>
  domainError(ErrorCode.EVENTS_MAY_BE_MISSED, 'The live feed was interrupted and events may have been missed: reload, then subscribe again');

/** A bounded queue that turns pushed events into an async iterator; `attach` gets `push` and `fail`. */
function createQueueIterator<T>(
  topic: string,
  bufferLimit: number,
  attach: (push: (value: T) => void, fail: (error: Error) => void) => () => void,
): AsyncIterableIterator<T> {
  const buffer: T[] = [];
  const waiting: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  let failure: Error | undefined;
  let done = false;

  const detach = attach(
    (value) => {
      if (done) return;
      const waiter = waiting.shift();
      if (waiter) return waiter.resolve({ value, done: false });
      if (buffer.length >= bufferLimit) {
        failure = new SlowConsumerError(topic);
        finish();
        return;
      }
      buffer.push(value);
    },
    (error) => {
      if (done) return;
      // Events already buffered are still delivered; the failure follows them.
      failure = error;
      finish();
    },
  );

  function finish(): void {
    if (done) return;
    done = true;
    detach();
    for (const waiter of waiting.splice(0)) {
      if (failure) waiter.reject(failure);
      else waiter.resolve({ value: undefined, done: true });
    }
  }

  return {
    next(): Promise<IteratorResult<T>> {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift() as T, done: false });
      if (failure) return Promise.reject(failure);
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return(): Promise<IteratorResult<T>> {
      buffer.length = 0;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error: unknown): Promise<IteratorResult<T>> {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export class MemoryPubSub implements PubSub {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(topic: string, payload: unknown): Promise<boolean> {
    // Each subscriber gets its own copy, as it would over Redis.
    const serialized = JSON.stringify(payload);
    this.emitter.emit(topic, serialized);
    return true;
  }

  subscribe<T>(topic: string, options: { bufferLimit?: number } = {}): AsyncIterableIterator<T> {
    return createQueueIterator<T>(topic, options.bufferLimit ?? DEFAULT_BUFFER_LIMIT, (push) => {
      const listener = (serialized: string): void => push(JSON.parse(serialized) as T);
      this.emitter.on(topic, listener);
      return () => this.emitter.off(topic, listener);
    });
  }

  async ready(_topic: string): Promise<void> {
    // In-process delivery is synchronous: a subscriber hears every event published after it.
  }

  async subscribers(topic: string): Promise<number> {
    return this.emitter.listenerCount(topic);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly local = new EventEmitter().setMaxListeners(0);
  private readonly counts = new Map<string, number>();
  /** Streams to end when the subscriber connection drops. */
  private readonly failures = new Set<(error: Error) => void>();

  constructor(url: string, private readonly prefix: string, private readonly log: Logger) {
    // A publish right after start waits for the first connection instead of being
    // dropped; during an outage it fails at once.
    this.publisher = createRedisClient(url, 'commands', log, { name: 'publisher' });
    this.subscriber = createRedisClient(url, 'subscriber', log);
    this.subscriber.on('message', (channel: string, message: string) => {
      this.local.emit(channel.slice(this.prefix.length), message);
    });
    // A dropped connection loses whatever was published until it is back: every open stream
    // is told so (and ends) rather than silently skipping events.
    this.subscriber.on('close', () => {
      for (const fail of [...this.failures]) fail(eventsMayBeMissed());
    });
  }

  async publish(topic: string, payload: unknown): Promise<boolean> {
    try {
      await this.publisher.publish(this.prefix + topic, JSON.stringify(payload));
      return true;
    } catch (error) {
      this.log.warn({ err: error, topic: topic.split('.').slice(0, 2).join('.') }, 'live event not published');
      return false;
    }
  }

  subscribe<T>(topic: string, options: { bufferLimit?: number } = {}): AsyncIterableIterator<T> {
    return createQueueIterator<T>(topic, options.bufferLimit ?? DEFAULT_BUFFER_LIMIT, (push, fail) => {
      const listener = (message: string): void => push(JSON.parse(message) as T);
      this.local.on(topic, listener);
      this.failures.add(fail);
      const count = (this.counts.get(topic) ?? 0) + 1;
      this.counts.set(topic, count);
      if (count === 1) void this.subscriber.subscribe(this.prefix + topic).catch(() => fail(eventsMayBeMissed()));
      return () => {
        this.local.off(topic, listener);
        this.failures.delete(fail);
        const remaining = (this.counts.get(topic) ?? 1) - 1;
        if (remaining > 0) return void this.counts.set(topic, remaining);
        this.counts.delete(topic);
        void this.subscriber.unsubscribe(this.prefix + topic).catch(() => undefined);
      };
    });
  }

  /** Resolves once Redis confirmed the subscription, for callers that must not miss the next event. */
  async ready(topic: string): Promise<void> {
    await this.subscriber.subscribe(this.prefix + topic);
  }

  async subscribers(topic: string): Promise<number> {
    const local = this.local.listenerCount(topic);
    if (local === 0) return 0;
    const [, confirmed] = (await this.publisher.pubsub('NUMSUB', this.prefix + topic)) as [string, number];
    return Number(confirmed) > 0 ? local : 0;
  }

  async close(): Promise<void> {
    this.failures.clear();
    this.local.removeAllListeners();
    await Promise.allSettled([closeRedisClient(this.publisher), closeRedisClient(this.subscriber)]);
  }
}

export function createPubSub(options: { redisUrl?: string; prefix?: string; log: Logger }): PubSub {
  return options.redisUrl
    ? new RedisPubSub(options.redisUrl, options.prefix ?? 'caregraph:', options.log)
    : new MemoryPubSub();
}
