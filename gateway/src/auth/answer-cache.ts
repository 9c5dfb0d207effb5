/**
 * Answers kept for a short while, least recently used evicted first: bounded by count, each
 * entry forgotten `ttlMs` after it was stored (never extended by reads), so a change at the
 * source (a deactivated user) is seen within `ttlMs` at the latest.
 */
export class AnswerCache<V> {
  /** Map order is recency order (re-inserted on read). */
  private readonly entries = new Map<string, { value: V; storedAt: number }>();

  constructor(
    private readonly limits: { ttlMs: number; maxEntries: number },
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.storedAt >= this.limits.ttlMs) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: this.now() });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.limits.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** The cached answer, or `load`'s (stored, whatever it is; a throw is not stored). */
  async through(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.get(key);
    if (cached !== undefined) return cached;
    const value = await load();
    this.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
