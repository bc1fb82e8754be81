import type { RateLimitedOperation, RateLimitPolicy } from '@tessera/core';
import { type RateLimiter, rateLimited } from './rate-limiter.js';

/** One counter: a credential's requests for an operation in one fixed window. */
export interface CounterKey {
  readonly credential: string;
  readonly operation: RateLimitedOperation;
  /** Window start, Unix ms. */
  readonly windowStart: number;
}

/** Adds this process's counts to the shared counters and returns every process's totals. */
export type CounterSync = (
  deltas: ReadonlyArray<CounterKey & { readonly count: number }>,
) => Promise<ReadonlyArray<CounterKey & { readonly total: number }>>;

/** Options for {@link createSharedRateLimiter}. */
export interface SharedRateLimiterOptions {
  readonly policy: RateLimitPolicy;
  readonly clock: () => number;
  readonly sync: CounterSync;
  /** How often local counts are pushed and totals pulled, ms (default 100): the bound on cluster-wide overshoot. */
  readonly syncMs?: number;
  readonly onError: (error: unknown) => void;
}

interface Window {
  readonly key: CounterKey;
  /** Total of all processes at the last sync, this process's synced counts included. */
  shared: number;
  /** This process's counts not yet pushed. */
  pending: number;
}

/**
 * A rate limiter whose counters are shared by every process of a cluster, without a round trip on the request
 * path: each process decides from the last synced cluster total plus its own unsynced count, and syncs every
 * `syncMs`. Overshoot is bounded by what the other processes admit within one sync interval. Fixed windows of
 * the policy's length (ACS publishes its limits per 30-second window).
 */
export function createSharedRateLimiter(
  options: SharedRateLimiterOptions,
): RateLimiter & { sync(): Promise<void>; close(): Promise<void> } {
  const windows = new Map<string, Window>();
  const syncMs = options.syncMs ?? 100;
  let syncing: Promise<void> = Promise.resolve();

  const id = (k: CounterKey) => `${k.operation}\u0000${k.credential}\u0000${k.windowStart}`;

  const sync = (): Promise<void> => {
    syncing = syncing.then(async () => {
      const now = options.clock();
      const deltas: Array<CounterKey & { count: number }> = [];
      for (const [key, w] of windows) {
        const rule = options.policy[w.key.operation];
        if (rule === undefined || w.key.windowStart + rule.windowSeconds * 1000 < now) {
          windows.delete(key);
          continue;
        }
        deltas.push({ ...w.key, count: w.pending });
      }
      if (deltas.length === 0) return;
      const sent = new Map(deltas.map((d) => [id(d), d.count]));
      try {
        for (const total of await options.sync(deltas)) {
          const w = windows.get(id(total));
          if (w === undefined) continue;
          w.pending -= sent.get(id(total)) ?? 0;
          w.shared = total.total;
        }
      } catch (error) {
        options.onError(error); // counts stay pending and are pushed next time
      }
    });
    return syncing;
  };

  const timer = setInterval(() => void sync(), syncMs);
  timer.unref();

  return {
    sync,
    take(credential, operation) {
      const rule = options.policy[operation];
      if (rule === undefined) return;
      const now = options.clock();
      const length = rule.windowSeconds * 1000;
      const windowStart = Math.floor(now / length) * length;
      const key: CounterKey = { credential, operation, windowStart };
      let w = windows.get(id(key));
      if (w === undefined) {
        w = { key, shared: 0, pending: 0 };
        windows.set(id(key), w);
      }
      if (w.shared + w.pending >= rule.limit) throw rateLimited(operation, windowStart + length - now);
      w.pending++;
    },
    async close() {
      clearInterval(timer);
      await sync();
    },
  };
}
