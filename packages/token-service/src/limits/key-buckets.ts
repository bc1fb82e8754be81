import { type BucketState, type RateLimit, TesseraError, takeToken } from '@tessera/core';
import type { BucketTake, TokenServiceStore } from '../store/token-service-store.js';

/** Token buckets keyed by IP address, user or anything else, all with one rule. */
export interface KeyBuckets {
  /** Takes a token from `key`'s bucket: allowed, or refused with the wait in ms. */
  take(key: string): Promise<BucketTake>;
}

/**
 * In-memory token buckets (core's `takeToken`) for one rule. Memory is bounded: past `maxKeys` keys, buckets
 * that have refilled completely (indistinguishable from new ones) are dropped first.
 */
export function createKeyBuckets(rule: RateLimit, clock: () => number, maxKeys = 100_000): KeyBuckets {
  const buckets = new Map<string, BucketState>();
  const windowMs = rule.windowSeconds * 1000;
  return {
    take(key) {
      const now = clock();
      const result = takeToken(buckets.get(key), rule, now);
      buckets.delete(key); // re-insert: Map order becomes least-recently-used first
      buckets.set(key, result.state);
      if (buckets.size > maxKeys) {
        for (const [k, state] of buckets) {
          if (buckets.size <= maxKeys) break;
          if (now - state.updatedAt >= windowMs || buckets.size > maxKeys * 1.1) buckets.delete(k);
        }
      }
      return Promise.resolve({ allowed: result.allowed, retryAfterMs: result.retryAfterMs });
    },
  };
}

/**
 * Token buckets kept in a shared store (PostgreSQL), so a limit holds across every instance behind one address:
 * the same rule and arithmetic as {@link createKeyBuckets}, one atomic statement per take.
 */
export function createStoreKeyBuckets(store: TokenServiceStore, rule: RateLimit, clock: () => number): KeyBuckets {
  return { take: (key) => store.takeFromBucket(key, rule, clock()) };
}

/**
 * Parses `<limit>/<seconds>` (e.g. `60/60`, `20/3600s`) or `off`. Throws `ERR_CONFIG_INVALID` naming `setting`.
 */
export function parseRateRule(text: string, setting: string): RateLimit | undefined {
  const trimmed = text.trim();
  if (trimmed === 'off') return undefined;
  const m = /^(\d{1,9})\s*\/\s*(\d{1,7})\s*s?$/.exec(trimmed);
  const limit = Number(m?.[1]);
  const windowSeconds = Number(m?.[2]);
  if (m === null || limit < 1 || windowSeconds < 1) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      `Invalid --${setting}: expected <limit>/<seconds> (e.g. 60/60) or off.`,
      {
        target: setting,
      },
    );
  }
  return { limit, windowSeconds };
}
