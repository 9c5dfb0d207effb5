import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../../../subgraphs/kit/logger.js';
import { closeRedisClient, createRedisClient } from '../../../subgraphs/kit/redis.js';
import { Role, type Identity } from '../../../subgraphs/kit/identity.js';

/**
 * Cached responses of persisted queries. Entries live in groups, one per (operation,
 * organization), so that an event invalidating one organization's figures of one operation
 * costs one delete. Within a group an entry is keyed by the caller's scope and the variables
 * (see cacheKeyOf). Every entry carries its write time: one older than the policy's TTL is a
 * miss, whatever the store still holds.
 */
export interface CacheGroup {
  /** The manifest operation's name. */
  operation: string;
  organizationId: string;
}

export interface ResponseCacheStore {
  /** The stored `data` (JSON text) when present and younger than `ttlSeconds`. */
  get(group: CacheGroup, key: string, ttlSeconds: number): Promise<string | undefined>;
  set(group: CacheGroup, key: string, data: string, ttlSeconds: number): Promise<void>;
  /** Drops the organization's group of the operation, or every organization's when `organizationId` is null. */
  invalidate(operation: string, organizationId: string | null): Promise<void>;
  close(): Promise<void>;
}

/** Whose view an entry is, and the organization whose group holds it; undefined when the caller is never cached. */
export interface CacheScope {
  organizationId: string;
  scope: string;
}

/**
 * BI callers (keys and people) of an organization read the same figures, so they share one
 * scope: that is what makes the cache pay off for dashboards refreshed by many tools. Everyone
 * else is cached per principal, with everything that can change what the subgraphs show them
 * in the scope, so nobody is ever served another principal's view. Anonymous callers and
 * callers without an organization are not cached (there is no group to invalidate them by).
 */
export function cacheScopeOf(identity: Identity): CacheScope | undefined {
  if (identity.kind === 'anonymous' || !identity.organizationId) return undefined;
  const { organizationId } = identity;
  if (identity.role === Role.BI) return { organizationId, scope: `BI:${organizationId}` };
  const cohorts = [...(identity.cohortIds ?? [])].sort();
  // JSON, so no value can forge a separator; it never starts like the BI scope.
  return { organizationId, scope: JSON.stringify([identity.kind, identity.role, organizationId, identity.subject, identity.patientId ?? null, cohorts]) };
}

/** JSON with object keys sorted at every level, so equal variables give equal keys whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An entry's key within its group: the scope and the canonical variables. */
export const cacheKeyOf = (scope: CacheScope, variables: Record<string, unknown> | undefined): string => `${scope.scope}\n${canonicalJson(variables ?? {})}`;

interface MemoryEntry {
  group: CacheGroup;
  data: string;
  storedAt: number;
}

/**
 * One gateway instance's cache: least recently used evicted first, bounded by entry count and by
 * total JSON size. Expired entries are dropped when read; the bounds cap the rest.
 */
export class MemoryResponseCacheStore implements ResponseCacheStore {
  /** Map order is recency order (re-inserted on read). */
  private readonly entries = new Map<string, MemoryEntry>();
  /** operation → organization → entry ids, for group deletes. */
  private readonly groups = new Map<string, Map<string, Set<string>>>();
  private bytes = 0;

  constructor(
    private readonly limits: { maxEntries: number; maxBytes: number } = { maxEntries: 10_000, maxBytes: 100_000_000 },
    private readonly now: () => number = Date.now,
  ) {}

  private static id(group: CacheGroup, key: string): string {
    return JSON.stringify([group.operation, group.organizationId, key]);
  }

  async get(group: CacheGroup, key: string, ttlSeconds: number): Promise<string | undefined> {
    const id = MemoryResponseCacheStore.id(group, key);
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt >= ttlSeconds * 1000) {
      this.remove(id);
      return undefined;
    }
    // Re-inserted so that Map order is recency order and eviction takes the oldest.
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.data;
  }

  async set(group: CacheGroup, key: string, data: string, _ttlSeconds: number): Promise<void> {
    if (data.length > this.limits.maxBytes) return;
    const id = MemoryResponseCacheStore.id(group, key);
    this.remove(id);
    this.insert(id, { group, data, storedAt: this.now() });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.remove(oldest);
    }
  }

  async invalidate(operation: string, organizationId: string | null): Promise<void> {
    const byOrganization = this.groups.get(operation);
    if (!byOrganization) return;
    const organizations = organizationId === null ? [...byOrganization.keys()] : [organizationId];
    for (const org of organizations) {
      for (const id of byOrganization.get(org) ?? []) {
        const entry = this.entries.get(id);
        if (entry) this.bytes -= entry.data.length;
        this.entries.delete(id);
      }
      byOrganization.delete(org);
    }
    if (byOrganization.size === 0) this.groups.delete(operation);
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.groups.clear();
    this.bytes = 0;
  }

  private insert(id: string, entry: MemoryEntry): void {
    const { group } = entry;
    this.entries.set(id, entry);
    this.bytes += entry.data.length;
    let byOrganization = this.groups.get(group.operation);
    if (!byOrganization) this.groups.set(group.operation, (byOrganization = new Map()));
    let ids = byOrganization.get(group.organizationId);
    if (!ids) byOrganization.set(group.organizationId, (ids = new Set()));
    ids.add(id);
  }

  private remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    this.bytes -= entry.data.length;
    const byOrganization = this.groups.get(entry.group.operation);
    const ids = byOrganization?.get(entry.group.organizationId);
    ids?.delete(id);
    if (ids?.size === 0) byOrganization?.delete(entry.group.organizationId);
    if (byOrganization?.size === 0) this.groups.delete(entry.group.operation);
  }
}

/** HSET, and EXPIRE only when the hash has none yet (it was just created), in one step. */
const SET_SCRIPT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('TTL', KEYS[1]) == -1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1`;

/** Redis SCAN MATCH treats these as pattern syntax. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * Entries in Redis, shared by every gateway instance: one hash per group
 * (`<prefix>pqcache:<operation>:<organizationId>`), fields named by the SHA-256 of the entry key
 * (bounded, and no identifiers in key space). The hash expires `ttl` seconds after it was
 * created and is not extended by later writes, so no entry outlives its TTL even if an
 * invalidation is missed; the write time in each value guards the TTL per entry.
 */
export class RedisResponseCacheStore implements ResponseCacheStore {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly options: { maxEntryBytes: number; now: () => number } = { maxEntryBytes: 5_000_000, now: Date.now },
    log: Logger = createLogger('gateway'),
  ) {
    this.redis = createRedisClient(url, 'commands', log, { name: 'response-cache' });
  }

  /** The Redis key of a group (exposed for tests that look at expiry). */
  keyOf(group: CacheGroup): string {
    return `${this.prefix}pqcache:${group.operation}:${group.organizationId}`;
  }

  private static field(key: string): string {
    return createHash('sha256').update(key).digest('base64url');
  }

  async get(group: CacheGroup, key: string, ttlSeconds: number): Promise<string | undefined> {
    const stored = await this.redis.hget(this.keyOf(group), RedisResponseCacheStore.field(key));
    if (stored === null) return undefined;
    // "<write time ms> <data>": the data is passed on as text, without a parse here.
    const space = stored.indexOf(' ');
    const storedAt = Number(stored.slice(0, space));
    if (space < 0 || !Number.isFinite(storedAt) || this.options.now() - storedAt >= ttlSeconds * 1000) return undefined;
    return stored.slice(space + 1);
  }

  async set(group: CacheGroup, key: string, data: string, ttlSeconds: number): Promise<void> {
    if (data.length > this.options.maxEntryBytes) return;
    await this.redis.eval(SET_SCRIPT, 1, this.keyOf(group), RedisResponseCacheStore.field(key), `${this.options.now()} ${data}`, String(ttlSeconds));
  }

  async invalidate(operation: string, organizationId: string | null): Promise<void> {
    if (organizationId !== null) {
      await this.redis.del(this.keyOf({ operation, organizationId }));
      return;
    }
    const match = `${escapeGlob(`${this.prefix}pqcache:${operation}:`)}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    await closeRedisClient(this.redis);
  }
}

export function createResponseCacheStore(options: { redisUrl?: string; redisPrefix?: string; log?: Logger }): ResponseCacheStore {
  return options.redisUrl ? new RedisResponseCacheStore(options.redisUrl, options.redisPrefix ?? 'caregraph:', undefined, options.log) : new MemoryResponseCacheStore();
}
