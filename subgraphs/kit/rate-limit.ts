import type { Redis } from 'ioredis';
import { domainError, ErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import { closeRedisClient, createRedisClient } from './redis.js';

/**
 * Fixed-window rate limits ("at most N per window per key"): in Redis when configured, so the
 * limit holds across instances; in memory otherwise.
 */
export interface RateLimiter {
  /**
   * Counts one use of `key`; throws RATE_LIMITED when the window's budget is spent. When the
   * shared store cannot be reached it throws SERVICE_UNAVAILABLE, unless `failOpen` is set:
   * then the use is allowed (a patient's message must never be refused because Redis is down).
   */
  consume(key: string, limit: number, windowSeconds: number, options?: { failOpen?: boolean }): Promise<void>;
  close(): Promise<void>;
}

function limited(limit: number, windowSeconds: number, retryAfterSeconds: number) {
  return domainError(ErrorCode.RATE_LIMITED, `Too many requests: at most ${limit} per ${windowSeconds} s; try again in ${retryAfterSeconds} s`, { limit, windowSeconds, retryAfterSeconds });
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

  constructor(url: string, private readonly prefix: string, private readonly log: Logger) {
    this.redis = createRedisClient(url, 'commands', log, { name: 'rate-limit', commandTimeoutMs: 500 });
  }

  async consume(key: string, limit: number, windowSeconds: number, options: { failOpen?: boolean } = {}): Promise<void> {
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    const redisKey = `${this.prefix}ratelimit:${key}:${window}`;
    let count: number;
    try {
      // INCR and EXPIRE together, so a key never outlives its window.
      const results = await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds + 1).exec();
      count = Number(results?.[0]?.[1] ?? 0);
    } catch (error) {
      if (options.failOpen) {
        this.log.warn({ err: error, limit: key.split(':')[0] }, 'rate limit store unavailable; allowed without counting');
        return;
      }
      throw domainError(ErrorCode.SERVICE_UNAVAILABLE, 'Rate limits cannot be checked right now; try again shortly');
    }
    if (count > limit) throw limited(limit, windowSeconds, (window + 1) * windowSeconds - Math.floor(Date.now() / 1000));
  }

  async close(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}

export function createRateLimiter(options: { redisUrl?: string; prefix?: string; log: Logger }): RateLimiter {
  return options.redisUrl ? new RedisRateLimiter(options.redisUrl, options.prefix ?? 'caregraph:', options.log) : new MemoryRateLimiter();
}
