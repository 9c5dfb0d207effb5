import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../../../subgraphs/kit/logger.js';
import { closeRedisClient, createRedisClient } from '../../../subgraphs/kit/redis.js';

/**
 * Where automatic persisted queries (APQ) are kept: hash → query text. Entries are
 * content-addressed (the gateway stores text only after checking that its SHA-256 is the hash),
 * so instances and deployments can share them safely.
 */
export interface ApqStore {
  get(hash: string): Promise<string | undefined>;
  set(hash: string, query: string): Promise<void>;
  close(): Promise<void>;
}

/** One process's APQ entries, least recently used evicted first, bounded by count and by total text size. */
export class MemoryApqStore implements ApqStore {
  private readonly entries = new Map<string, string>();
  private bytes = 0;

  constructor(private readonly limits: { maxEntries: number; maxBytes: number } = { maxEntries: 10_000, maxBytes: 50_000_000 }) {}

  async get(hash: string): Promise<string | undefined> {
    const query = this.entries.get(hash);
    if (query === undefined) return undefined;
    // Re-inserted so that Map order is recency order and eviction takes the oldest.
    this.entries.delete(hash);
    this.entries.set(hash, query);
    return query;
  }

  async set(hash: string, query: string): Promise<void> {
    if (query.length > this.limits.maxBytes) return;
    const previous = this.entries.get(hash);
    if (previous !== undefined) {
      this.entries.delete(hash);
      this.bytes -= previous.length;
    }
    this.entries.set(hash, query);
    this.bytes += query.length;
    for (const [oldest, text] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= text.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** APQ entries in Redis, shared by every gateway instance; each expires after `ttlSeconds` unused (refreshed on read). */
export class RedisApqStore implements ApqStore {
  private readonly redis: Redis;

  constructor(url: string, private readonly prefix: string, private readonly ttlSeconds = 7 * 24 * 3600, log: Logger = createLogger('gateway')) {
    this.redis = createRedisClient(url, 'commands', log, { name: 'apq' });
  }

  private key(hash: string): string {
    return `${this.prefix}apq:${hash}`;
  }

  async get(hash: string): Promise<string | undefined> {
    // GETEX refreshes the expiry: operations in use stay, forgotten ones age out.
    const query = await this.redis.getex(this.key(hash), 'EX', this.ttlSeconds);
    return query ?? undefined;
  }

  async set(hash: string, query: string): Promise<void> {
    await this.redis.set(this.key(hash), query, 'EX', this.ttlSeconds);
  }

  async close(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}

export function createApqStore(options: { redisUrl?: string; redisPrefix?: string; log?: Logger }): ApqStore {
  return options.redisUrl ? new RedisApqStore(options.redisUrl, options.redisPrefix ?? 'caregraph:', undefined, options.log) : new MemoryApqStore();
}
