import { Redis } from 'ioredis';
import { domainError } from './errors.js';

/**
 * Fixed-window rate limits ("at most N per window per key"): in Redis when configured, so the
 * limit holds across instances; in memory otherwise.
 */
export interface RateLimiter {
  /** Counts one use of `key`; throws RATE_LIMITED when the window's budget is spent. */
  consume(key: string, limit: number, windowSeconds: number): Promise<void>;
  close(): Promise<void>;
}

function limited(limit: number, windowSeconds: number, retryAfterSeconds: number) {
  return domainError('RATE_LIMITED', `Too many requests: at most ${limit} per ${windowSeconds} s; try again in ${retryAfterSeconds} s`, { limit, windowSeconds, retryAfterSeconds });
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { count: number; resetsAt: number }>();

  async consume(key: string, limit: number, windowSeconds: number): Promise<void> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetsAt <= now) {
      window = { count: 0, resetsAt: now + windowSeconds * 1000 };
      this.windows.set(key, window);
      if (this.windows.size > 100_000) this.prune(now);
    }
    window.count += 1;
    if (window.count > limit) throw limited(limit, windowSeconds, Math.ceil((window.resetsAt - now) / 1000));
  }

  private prune(now: number): void {
    for (const [key, window] of this.windows) if (window.resetsAt <= now) this.windows.delete(key);
  }

  async close(): Promise<void> {
    this.windows.clear();
  }
}

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2 });
  }

  async consume(key: string, limit: number, windowSeconds: number): Promise<void> {
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    const redisKey = `${this.prefix}ratelimit:${key}:${window}`;
    // INCR and EXPIRE together, so a key never outlives its window.
    const results = await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds + 1).exec();
    const count = Number(results?.[0]?.[1] ?? 0);
    if (count > limit) throw limited(limit, windowSeconds, (window + 1) * windowSeconds - Math.floor(Date.now() / 1000));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}

export function createRateLimiter(options: { redisUrl?: string; prefix?: string }): RateLimiter {
  return options.redisUrl ? new RedisRateLimiter(options.redisUrl, options.prefix ?? 'caregraph:') : new MemoryRateLimiter();
}
