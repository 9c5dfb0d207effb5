import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { closeRedisClient, createRedisClient } from './redis.js';

/**
 * Short-lived answers kept for a while (a payer's eligibility answer, a provider network): in
 * Redis when configured, so every instance shares them; in memory otherwise. A cache is an
 * optimisation: when Redis cannot be reached a read is a miss and a write is skipped (logged),
 * never an error for the caller.
 */
export interface TtlCache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryCache implements TtlCache {
  private readonly entries = new Map<string, { json: string; expiresAt: number }>();

  async get<T>(key: string): Promise<T | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Stored as JSON, as Redis stores it: callers get a copy, and the same types either way.
    return JSON.parse(entry.json) as T;
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    if (this.entries.size > 50_000) this.prune();
    this.entries.set(key, { json: JSON.stringify(value), expiresAt: Date.now() + ttlSeconds * 1000 });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

export class RedisCache implements TtlCache {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix: string, private readonly log: Logger) {
    this.redis = createRedisClient(url, 'commands', log, { name: 'cache', commandTimeoutMs: 500 });
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      const json = await this.redis.get(`${this.prefix}cache:${key}`);
      return json === null ? undefined : (JSON.parse(json) as T);
    } catch (error) {
      this.log.warn({ err: error }, 'cache unavailable; read as a miss');
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    try {
      // PX: the expiry is set with the value, in one command.
      await this.redis.set(`${this.prefix}cache:${key}`, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlSeconds * 1000)));
    } catch (error) {
      this.log.warn({ err: error }, 'cache unavailable; answer not kept');
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.redis.del(`${this.prefix}cache:${key}`);
    } catch (error) {
      this.log.warn({ err: error }, 'cache unavailable; entry not deleted');
    }
  }

  async close(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}

export function createCache(options: { redisUrl?: string; prefix?: string; log: Logger }): TtlCache {
  return options.redisUrl ? new RedisCache(options.redisUrl, options.prefix ?? 'caregraph:', options.log) : new MemoryCache();
}
