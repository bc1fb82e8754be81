import type { IdentityRecord } from '../store/store.js';

/** What the issue path needs of an identity: its id, revocation epoch and whether it is deleted. */
export interface CachedIdentity {
  readonly id: string;
  readonly epoch: number;
  readonly deleted: boolean;
}

/**
 * Caches identities for the issue-token hot path, so issuing needs no store read for a known identity.
 * Correctness rests on invalidation: this process's own revokes/deletes `put` the new record before they
 * return, and other processes' changes arrive as revocation events (`invalidate`) within the feed's bound.
 * Entries are one number each (epoch, negative when deleted) to keep 100k entries in a few MB.
 */
export interface IdentityCache {
  /**
   * A cached identity (synchronously: the issue path then waits for nothing), or a load of it; a load that raced an
   * invalidation is not cached.
   */
  get(
    id: string,
    load: (id: string) => Promise<IdentityRecord | undefined>,
  ): CachedIdentity | undefined | Promise<CachedIdentity | undefined>;
  put(identity: IdentityRecord): void;
  invalidate(id: string): void;
  readonly size: number;
}

const encode = (identity: IdentityRecord): number =>
  identity.deletedAt === undefined ? identity.epoch : -(identity.epoch + 1);

const decode = (id: string, value: number): CachedIdentity =>
  value >= 0 ? { id, epoch: value, deleted: false } : { id, epoch: -value - 1, deleted: true };

/** Creates an LRU {@link IdentityCache} holding at most `capacity` identities (0 disables caching). */
export function createIdentityCache(capacity: number): IdentityCache {
  const entries = new Map<string, number>();
  // Bumped on every invalidation: a load that started before one may hold stale data and is not cached.
  let generation = 0;
  const remember = (identity: IdentityRecord) => {
    if (capacity === 0) return;
    entries.delete(identity.id);
    entries.set(identity.id, encode(identity));
    if (entries.size > capacity) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
  };
  return {
    get(id, load) {
      const hit = entries.get(id);
      if (hit !== undefined) {
        entries.delete(id);
        entries.set(id, hit);
        return decode(id, hit);
      }
      const started = generation;
      return load(id).then((loaded) => {
        if (loaded === undefined) return undefined;
        if (generation === started) remember(loaded);
        return decode(loaded.id, encode(loaded));
      });
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
