import type { RateLimit } from './rate-limit-policy.js';

/** A token bucket's state: tokens left and when it was last refilled (Unix ms). */
export interface BucketState {
  readonly tokens: number;
  readonly updatedAt: number;
}

/** The outcome of {@link takeToken}: the next state, and when refused, how long until a token is back. */
export interface TakeResult {
  readonly allowed: boolean;
  readonly state: BucketState;
  /** Milliseconds until one token is available (0 when allowed). */
  readonly retryAfterMs: number;
}

/**
 * Takes one token from a bucket holding `limit` tokens that refills continuously at `limit / window`.
 * Bursts up to the limit are allowed; the sustained rate is the limit per window. Pure: the caller stores state.
 */
export function takeToken(state: BucketState | undefined, rule: RateLimit, nowMs: number): TakeResult {
  const ratePerMs = rule.limit / (rule.windowSeconds * 1000);
  const elapsed = state === undefined ? 0 : Math.max(0, nowMs - state.updatedAt);
  const tokens = state === undefined ? rule.limit : Math.min(rule.limit, state.tokens + elapsed * ratePerMs);
  if (tokens >= 1) return { allowed: true, state: { tokens: tokens - 1, updatedAt: nowMs }, retryAfterMs: 0 };
  return { allowed: false, state: { tokens, updatedAt: nowMs }, retryAfterMs: Math.ceil((1 - tokens) / ratePerMs) };
}
