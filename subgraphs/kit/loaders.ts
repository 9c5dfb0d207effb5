import DataLoader from 'dataloader';

/**
 * Per-request DataLoaders, created on first use and keyed by name, so every list resolves
 * with one batched query per kind of lookup however long the list is.
 */
export class Loaders {
  private readonly byName = new Map<string, DataLoader<unknown, unknown>>();

  get<K, V>(name: string, batch: (keys: readonly K[]) => Promise<ReadonlyArray<V | Error>>): DataLoader<K, V> {
    let loader = this.byName.get(name) as DataLoader<K, V> | undefined;
    if (!loader) {
      loader = new DataLoader<K, V>(batch);
      this.byName.set(name, loader as DataLoader<unknown, unknown>);
    }
    return loader;
  }

  /** Loads the rows belonging to each key (children by parent id), batched per request. */
  groupedBy<V>(name: string, fetch: (keys: string[]) => Promise<V[]>, keyOf: (row: V) => string): DataLoader<string, V[]> {
    return this.get<string, V[]>(name, async (keys) => {
      const groups = new Map<string, V[]>();
      for (const row of await fetch([...keys])) {
        const key = keyOf(row);
        const group = groups.get(key);
        if (group) group.push(row);
        else groups.set(key, [row]);
      }
      return keys.map((key) => groups.get(key) ?? []);
    });
  }

  /** Loads rows by id, batched per request; a missing id loads as null. */
  byId<V extends { id: string }>(name: string, fetch: (ids: string[]) => Promise<V[]>): DataLoader<string, V | null> {
    return this.get<string, V | null>(name, async (ids) => byKey(ids, await fetch([...ids]), (row) => row.id));
  }
}

/** Orders rows to match the requested keys (DataLoader's contract); missing keys map to null. */
export function byKey<K, V>(keys: readonly K[], rows: readonly V[], keyOf: (row: V) => K): Array<V | null> {
  const index = new Map<K, V>();
  for (const row of rows) index.set(keyOf(row), row);
  return keys.map((key) => index.get(key) ?? null);
}
