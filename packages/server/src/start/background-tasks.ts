import type { Logger } from 'pino';
import type { ResolvedServerOptions } from '../config/server-options.js';
import type { SigningKeyRing } from '../crypto/signing-key-ring.js';
import type { RevocationFeed } from '../http/revocation-feed.js';
import { startStatePruner } from '../service/state-pruner.js';
import { SIGNING_KEYS_NOTICE, type Store } from '../store/store.js';

/** Options of {@link startBackgroundTasks}. */
export interface BackgroundTaskOptions {
  readonly options: ResolvedServerOptions;
  readonly store: Store;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly feed: RevocationFeed;
  readonly signingKeys: SigningKeyRing;
  /** Re-reads role assignments; absent when bearer authentication is off. */
  readonly refreshRoles: (() => void) | undefined;
  /** Revocation entries, events and retired signing keys matter until the last token they concern has expired. */
  readonly retentionMs: number;
  readonly onError: (error: unknown) => void;
}

/**
 * Start-up step: what runs beside the requests — following other processes on the same store (LISTEN/NOTIFY on
 * PostgreSQL, plus a slow poll as a safety net) and pruning state past its retention. Returns the stop function.
 */
export async function startBackgroundTasks(tasks: BackgroundTaskOptions): Promise<() => Promise<void>> {
  const { options, feed, signingKeys, refreshRoles, onError, logger } = tasks;
  const reloadSigningKeys = () => void signingKeys.reload().catch(onError);
  // Other processes on the same store: LISTEN/NOTIFY for speed, plus a slow poll as a safety net.
  const stopWatch =
    options.store.kind === 'postgres'
      ? (await import('../store/postgres-watch.js')).watchPostgresEvents({
          connectionString: options.store.url,
          schema: options.store.schema,
          pingMs: options.storeTimeoutMs,
          onNotify: (payload) => {
            feed.notify();
            if (refreshRoles !== undefined) refreshRoles();
            // A signing key rotated or dropped by another process (or anything, after a reconnect).
            if (payload === undefined || payload === SIGNING_KEYS_NOTICE) reloadSigningKeys();
          },
          onError,
        })
      : undefined;
  const poll = setInterval(() => {
    feed.notify();
    // Role changes made by other processes: one cheap version read per poll, only where bearer auth is on.
    if (refreshRoles !== undefined) refreshRoles();
  }, options.pollMs);
  poll.unref();
  const pruner = startStatePruner({
    store: tasks.store,
    clock: tasks.clock,
    retentionMs: tasks.retentionMs,
    auditRetentionMs: options.auditRetentionMs,
    intervalMs: options.pruneIntervalMs,
    onError,
    onPruned: (totals) => {
      if (totals.signingKeys > 0) reloadSigningKeys();
      logger.info({ ...totals }, 'pruned state past its retention');
    },
  });
  return async () => {
    clearInterval(poll);
    await pruner.close();
    await stopWatch?.();
  };
}
