/** A source of the current time in Unix milliseconds; injected so tests can freeze and advance time. */
export interface Clock {
  now(): number;
}

/** Opaque handle returned by {@link Timers.setTimeout}. */
export type TimerHandle = unknown;

/** The two timer functions the client uses; injected so tests can drive time by hand. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A random number in [0, 1); injected so jitter is reproducible in tests. */
export type RandomSource = () => number;

/** The wall clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() };

/** The platform timers (`globalThis.setTimeout` / `clearTimeout`). */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as Parameters<typeof globalThis.clearTimeout>[0]),
};

/** `Math.random`. */
export const systemRandom: RandomSource = () => Math.random();

/** Longest delay a platform timer accepts (2^31 - 1 ms, about 24.8 days); longer delays fire at once. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/**
 * Lets a background timer not keep a Node process alive (no-op in browsers and for injected fake handles),
 * so a forgotten credential never blocks process exit.
 */
export function unrefTimer(handle: TimerHandle): void {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle) {
    const unref = (handle as { unref?: unknown }).unref;
    if (typeof unref === 'function') unref.call(handle);
  }
}
