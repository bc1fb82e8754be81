import type { TimerHandle, Timers } from './clock.js';

/**
 * The part of `AbortSignal` the client reads. Structural, so a DOM/Node `AbortSignal` and the Azure SDKs'
 * `AbortSignalLike` both fit.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The error an aborted signal stands for: its `reason`, or a standard `AbortError` DOMException. */
export function abortReason(signal: AbortSignalLike): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** Throws the signal's abort reason when it is already aborted. */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Settles with `promise`, or rejects with the abort reason as soon as `signal` aborts. The underlying work
 * is not cancelled (it may be shared with other callers); only this caller stops waiting.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms` on the given timers; rejects with the abort reason when `signal` aborts first. */
export function sleep(ms: number, timers: Timers, signal?: AbortSignalLike): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    let handle: TimerHandle;
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(signal === undefined ? undefined : abortReason(signal));
    };
    handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
