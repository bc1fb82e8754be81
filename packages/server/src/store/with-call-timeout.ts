import { isTesseraError, TesseraError } from '@tessera/core';
import type { Store } from './store.js';

/** Default bound of one store call, ms (`--store-timeout`). */
export const DEFAULT_STORE_TIMEOUT_MS = 5000;

/** Seconds a client is told to wait (`Retry-After`) after `ERR_STORE_UNAVAILABLE`. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/** A change of the store's availability, as {@link withCallTimeout} sees it from its calls' outcomes. */
export type StoreAvailabilityChange =
  | { readonly available: false; readonly reason: string }
  | { readonly available: true; readonly downMs: number; readonly failedCalls: number };

/** Tracks whether the store answers, from the outcomes of its calls and of background work on it. */
export interface StoreAvailability {
  /** False from the first `ERR_STORE_UNAVAILABLE` until the next call that succeeds. */
  readonly available: boolean;
  /** Counts a failure toward the outage; the first one of an outage is reported. */
  failed(error: TesseraError): void;
  /** What a call takes at its start and hands to {@link StoreAvailability.succeeded}: which outages it has seen. */
  mark(): number;
  /**
   * Ends an outage, if there is one (reported once) — unless the call began before the outage did (`mark` older
   * than it): an answer already on its way when the connection broke proves nothing about the database now.
   */
  succeeded(mark: number): void;
}

/**
 * Creates a {@link StoreAvailability} that calls `onChange` once when an outage starts and once when it ends, however
 * many calls fail in between: the log names the outage once, not once per request.
 */
export function createStoreAvailability(options: {
  readonly onChange: (change: StoreAvailabilityChange) => void;
  readonly clock?: (() => number) | undefined;
}): StoreAvailability {
  const clock = options.clock ?? Date.now;
  let available = true;
  let downSince = 0;
  let failedCalls = 0;
  let outages = 0;
  return {
    get available() {
      return available;
    },
    failed(error) {
      failedCalls++;
      if (!available) return;
      available = false;
      outages++;
      downSince = clock();
      failedCalls = 1;
      const reason = error.details?.reason;
      options.onChange({ available: false, reason: typeof reason === 'string' ? reason : 'unknown' });
    },
    mark() {
      return outages;
    },
    succeeded(mark) {
      if (available || mark < outages) return;
      available = true;
      options.onChange({ available: true, downMs: clock() - downSince, failedCalls });
    },
  };
}

/** Options of {@link withCallTimeout}. */
export interface StoreCallTimeoutOptions {
  /** Bound of each call, ms: past it the call rejects with `ERR_STORE_UNAVAILABLE` (reason `timeout`). */
  readonly timeoutMs: number;
  /** Told of every call's outcome (unavailable or answered). */
  readonly availability?: StoreAvailability | undefined;
}

/** Start-up and shutdown are not request work: they keep their own (longer) bounds. */
const UNBOUNDED = new Set<string>(['migrate', 'close']);

/** Adds `retryAfterSeconds` to a store-unavailable error that has none, so every 503 carries `Retry-After`. */
function withRetryAfter(error: TesseraError): TesseraError {
  if (error.details?.retryAfterSeconds !== undefined) return error;
  return new TesseraError('ERR_STORE_UNAVAILABLE', error.message, {
    details: { ...error.details, retryAfterSeconds: STORE_RETRY_AFTER_SECONDS },
  });
}

/**
 * Wraps every call of `store` in a deadline: a database that stops answering (frozen connection, lost network,
 * exhausted pool) turns into `ERR_STORE_UNAVAILABLE` (503 with `Retry-After`) after `timeoutMs` rather than a
 * request that hangs. The abandoned call keeps running until the driver's own timeouts end it; its late result is
 * dropped. Every store-unavailable error leaving the store carries `details.retryAfterSeconds`.
 */
export function withCallTimeout(store: Store, options: StoreCallTimeoutOptions): Store {
  const timeoutMs = options.timeoutMs;
  const failed = (error: TesseraError) => availability?.failed(error);
  const availability = options.availability;

  const bound =
    <A extends unknown[], R>(name: string, method: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      new Promise<R>((resolve, reject) => {
        const mark = availability?.mark() ?? 0;
        let settled = false;
        const timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          const error = new TesseraError('ERR_STORE_UNAVAILABLE', `The store did not answer within ${timeoutMs} ms.`, {
            details: { reason: 'timeout', operation: name, retryAfterSeconds: STORE_RETRY_AFTER_SECONDS },
          });
          failed(error);
          reject(error);
        }, timeoutMs);
        method(...args).then(
          (value) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            availability?.succeeded(mark);
            resolve(value);
          },
          (error: unknown) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (isTesseraError(error, 'ERR_STORE_UNAVAILABLE')) {
              const answered = withRetryAfter(error);
              failed(answered);
              reject(answered);
            } else {
              // The database answered (a constraint, a bug): it is reachable.
              availability?.succeeded(mark);
              reject(error);
            }
          },
        );
      });

  const guarded: Record<string, unknown> = {};
  for (const name of Object.keys(store) as Array<keyof Store>) {
    const member: unknown = store[name];
    guarded[name] =
      typeof member === 'function' && !UNBOUNDED.has(name)
        ? bound(name, member as (...args: unknown[]) => Promise<unknown>)
        : member;
  }
  return guarded as unknown as Store;
}
