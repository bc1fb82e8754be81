import { setImmediate as nextTurn } from 'node:timers/promises';
import { MAX_TOKEN_MINUTES } from '@tessera/core';
import type { PruneResult, Store } from '../store/store.js';

/** How long a revocation entry, an event or a retired signing key matters: the longest token lifetime plus `skewMs`. */
export function revocationRetentionMs(skewMs: number): number {
  return MAX_TOKEN_MINUTES * 60_000 + skewMs;
}

/** Rows removed by one {@link StatePruner.runOnce}, summed over its batches. */
export type PruneTotals = Omit<PruneResult, 'skipped'> & { readonly skipped: boolean };

/** Options of {@link startStatePruner}. */
export interface StatePrunerOptions {
  readonly store: Store;
  readonly clock: () => number;
  /** Revocation entries, events and retired signing keys older than this go ({@link revocationRetentionMs}). */
  readonly retentionMs: number;
  /** Audit entries older than this go; undefined keeps them for ever. */
  readonly auditRetentionMs: number | undefined;
  /** Milliseconds between runs; 0 starts no timer (call `runOnce` yourself). */
  readonly intervalMs: number;
  /** Rows of each kind per store call (default 5000). */
  readonly batch?: number | undefined;
  readonly onError: (error: unknown) => void;
  /** Told after each run that removed something (e.g. signing keys, so JWKS is reloaded). */
  readonly onPruned?: ((totals: PruneTotals) => void) | undefined;
}

/** A periodic pruning task. */
export interface StatePruner {
  /** Prunes everything due now, batch after batch, yielding to the event loop between batches. */
  runOnce(): Promise<PruneTotals>;
  close(): Promise<void>;
}

/**
 * Keeps the store bounded by the token lifetime (docs/state-and-retention.md): each run removes revocation
 * entries, events and retired signing keys older than the retention, and audit entries older than the audit
 * retention. Several processes may run one on the same store; the store lets one prune at a time.
 */
export function startStatePruner(options: StatePrunerOptions): StatePruner {
  const batch = options.batch ?? 5000;
  let running: Promise<PruneTotals> | undefined;
  let closed = false;

  const run = async (): Promise<PruneTotals> => {
    const totals = { revocations: 0, tombstones: 0, events: 0, audit: 0, signingKeys: 0, skipped: false };
    for (;;) {
      const now = options.clock();
      const result = await options.store.prune({
        revocationsBefore: now - options.retentionMs,
        signingKeysBefore: now - options.retentionMs,
        auditBefore: options.auditRetentionMs === undefined ? undefined : now - options.auditRetentionMs,
        batch,
      });
      totals.revocations += result.revocations;
      totals.tombstones += result.tombstones;
      totals.events += result.events;
      totals.audit += result.audit;
      totals.signingKeys += result.signingKeys;
      totals.skipped ||= result.skipped;
      const full = Math.max(result.revocations + result.tombstones, result.events, result.audit) >= batch;
      if (result.skipped || !full || closed) break;
      await nextTurn();
    }
    const removed = totals.revocations + totals.tombstones + totals.events + totals.audit + totals.signingKeys;
    if (removed > 0) options.onPruned?.(totals);
    return totals;
  };

  const runOnce = (): Promise<PruneTotals> => {
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          runOnce().catch(options.onError);
        }, options.intervalMs)
      : undefined;
  timer?.unref();

  return {
    runOnce,
    async close() {
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
