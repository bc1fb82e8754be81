import { randomUUID } from 'node:crypto';
import type { IdentityClient } from '@tessera/client';
import { isTesseraError } from '@tessera/core';
import type { TokenServiceStore } from '../store/token-service-store.js';
import { sessionCustomId } from './custom-id.js';

/** What one sweep did. */
export interface SweepResult {
  /** Sessions whose identity was deleted (or found already gone). */
  readonly deleted: number;
  /** Sessions left for the next sweep because the identity server could not be reached. */
  readonly failed: number;
  /** Expired rows dropped from the token cache. */
  readonly expiredCacheRows: number;
  /** True when another instance held the sweeper's lease, so this one did nothing. */
  readonly skipped: boolean;
}

/** Options of {@link sweepEphemeralIdentities}. */
export interface SweepOptions {
  readonly client: IdentityClient;
  readonly store: TokenServiceStore;
  /** Current time (Unix ms): the caller's clock, so tests need not wait an hour. */
  readonly now: number;
  /** Most sessions handled per sweep. Default 500. */
  readonly batch?: number;
  /**
   * This instance's name for the sweeper's lease: instances sharing a store (PostgreSQL) take turns, so one sweeps
   * at a time. Default: a fresh id (the lease is then only ever this call's).
   */
  readonly owner?: string | undefined;
  /** How long the lease holds if this sweep never gives it back (a crash), ms. Default 5 minutes. */
  readonly leaseMs?: number | undefined;
  /** Rate-limit buckets untouched since this time are dropped (they are full again). Default: none dropped. */
  readonly pruneBucketsBefore?: number | undefined;
}

/**
 * Deletes the identities of ephemeral sessions whose tokens have all expired (or that were ended), so guest and
 * per-session identities do not pile up. Idempotent: an identity already gone counts as deleted; one the
 * identity server cannot delete right now stays due and is retried on the next sweep.
 */
export async function sweepEphemeralIdentities(options: SweepOptions): Promise<SweepResult> {
  const { store, now } = options;
  const owner = options.owner ?? randomUUID();
  if (!(await store.claimSweep(owner, now, options.leaseMs ?? 300_000))) {
    return { deleted: 0, failed: 0, expiredCacheRows: 0, skipped: true };
  }
  try {
    return await sweepClaimed(options, now);
  } finally {
    await store.releaseSweep(owner).catch(() => undefined);
  }
}

async function sweepClaimed(options: SweepOptions, now: number): Promise<SweepResult> {
  const { client, store } = options;
  let deleted = 0;
  let failed = 0;
  for (const session of await store.dueSessions(now, options.batch ?? 500)) {
    try {
      // A row without an identity id is a start interrupted mid-way: get-or-create by customId finds the orphan.
      const identityId = session.identityId ?? (await client.createUser({ customId: sessionCustomId(session.id) })).id;
      try {
        await client.deleteUser(identityId);
      } catch (error) {
        if (!isTesseraError(error, 'ERR_IDENTITY_NOT_FOUND') && !isTesseraError(error, 'ERR_IDENTITY_DELETED'))
          throw error;
      }
      await store.deleteCachedTokens(identityId);
      await store.markSwept(session.id, now);
      deleted++;
    } catch {
      failed++;
    }
  }
  if (options.pruneBucketsBefore !== undefined) await store.pruneBuckets(options.pruneBucketsBefore);
  return { deleted, failed, expiredCacheRows: await store.deleteExpiredTokens(now), skipped: false };
}
