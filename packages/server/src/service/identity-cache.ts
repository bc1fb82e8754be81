import type { IdentityRecord } from '../store/store.js';

/**
 * Caches identities for the issue-token hot path, so issuing needs no store read for a known identity.
 * Correctness rests on invalidation: this process's own revokes/deletes `put` the new record before they
 * return, and other processes' changes arrive as revocation events (`invalidate`) within the feed's bound.
 */
export interface IdentityCache {
  /** Returns a cached identity or loads it; a load that raced an invalidation is not cached. */
  get(id: string, load: (id: string) => Promise<IdentityRecord | undefined>): Promise<IdentityRecord | undefined>;
  put(identity: IdentityRecord): void;
  invalidate(id: string): void;
  readonly size: number;
}

/** Creates an LRU {@link IdentityCache} holding at most `capacity` identities (0 disables caching). */
export function createIdentityCache(capacity: number): IdentityCache {
  const entries = new Map<string, IdentityRecord>();
  // Bumped on every invalidation: a load that started before one may hold stale data and is not cached.
  let generation = 0;
  const remember = (identity: IdentityRecord) => {
    if (capacity === 0) return;
    entries.delete(identity.id);
    entries.set(identity.id, identity);
    if (entries.size > capacity) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
  };
  return {
    async get(id, load) {
      const hit = entries.get(id);
      if (hit !== undefined) {
        entries.delete(id);
        entries.set(id, hit);
        return hit;
      }
      const started = generation;
      const loaded = await load(id);
      if (loaded !== undefined && generation === started) remember(loaded);
      return loaded;
    },
    put(identity) {
      generation++;
      remember(identity);
    },
    invalidate(id) {
      generation++;
      entries.delete(id);
    },
    get size() {
      return entries.size;
    },
  };
}
