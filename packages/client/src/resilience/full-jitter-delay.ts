import type { RandomSource } from '../runtime/clock.js';

/** Bounds of an exponential backoff. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay; doubles per retry. */
  baseDelayMs: number;
  /** No delay ceiling grows past this. */
  maxDelayMs: number;
  /** Floor under the jittered delay (default 0), so a retry is never immediate. */
  minDelayMs?: number;
}

/**
 * "Full jitter" backoff (AWS architecture blog): a uniformly random delay in
 * `[minDelayMs, min(maxDelayMs, baseDelayMs * 2^(retry-1))]`. Random spread stops many clients that failed
 * together from retrying together. `retry` is 1 for the first retry.
 */
export function fullJitterDelay(retry: number, options: BackoffOptions, random: RandomSource): number {
  const exponent = Math.min(Math.max(retry - 1, 0), 30);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** exponent);
  const floor = Math.min(options.minDelayMs ?? 0, ceiling);
  return Math.floor(floor + random() * (ceiling - floor));
}
