import {
  takeToken,
  TesseraError,
  type BucketState,
  type RateLimitedOperation,
  type RateLimitPolicy,
} from '@tessera/core';

/** Decides whether a credential may perform an operation now. Implementations: in memory, or shared by a cluster. */
export interface RateLimiter {
  /**
   * Returns when allowed; throws `ERR_RATE_LIMITED` (details.retryAfterSeconds) when over the limit. Synchronous:
   * both limiters decide from memory (the shared one syncs its counters in the background), so the hot path
   * waits for nothing.
   */
  take(credential: string, operation: RateLimitedOperation): void;
}

/** Largest number of buckets kept; the oldest are dropped first (a dropped bucket refills fully, never wrongly denies). */
const MAX_BUCKETS = 100_000;

/** Throws the 429 error for a refusal. */
export function rateLimited(operation: RateLimitedOperation, retryAfterMs: number): TesseraError {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new TesseraError(
    'ERR_RATE_LIMITED',
    `Too many '${operation}' requests for this credential. Retry after ${retryAfterSeconds} seconds.`,
    { details: { retryAfterSeconds } },
  );
}

/** A per-process token-bucket limiter. */
export function createMemoryRateLimiter(policy: RateLimitPolicy, clock: () => number): RateLimiter {
  const buckets = new Map<string, BucketState>();
  return {
    take(credential, operation) {
      const rule = policy[operation];
      if (rule === undefined) return;
      const key = `${operation}\u0000${credential}`;
      const result = takeToken(buckets.get(key), rule, clock());
      buckets.delete(key);
      buckets.set(key, result.state);
      if (buckets.size > MAX_BUCKETS) {
        const oldest = buckets.keys().next().value;
        if (oldest !== undefined) buckets.delete(oldest);
      }
      if (!result.allowed) throw rateLimited(operation, result.retryAfterMs);
    },
  };
}
