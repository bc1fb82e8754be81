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
}

/** Options of {@link sweepEphemeralIdentities}. */
export interface SweepOptions {
  readonly client: IdentityClient;
  readonly store: TokenServiceStore;
  /** Current time (Unix ms): the caller's clock, so tests need not wait an hour. */
  readonly now: number;
  /** Most sessions handled per sweep. Default 500. */
  readonly batch?: number;
}

/**
 * Deletes the identities of ephemeral sessions whose tokens have all expired (or that were ended), so guest and
 * per-session identities do not pile up. Idempotent: an identity already gone counts as deleted; one the
 * identity server cannot delete right now stays due and is retried on the next sweep.
 */
export async function sweepEphemeralIdentities(options: SweepOptions): Promise<SweepResult> {
  const { client, store, now } = options;
  let deleted = 0;
  let failed = 0;
  for (const session of store.dueSessions(now, options.batch ?? 500)) {
    try {
      // A row without an identity id is a start interrupted mid-way: get-or-create by customId finds the orphan.
      const identityId = session.identityId ?? (await client.createUser({ customId: sessionCustomId(session.id) })).id;
      try {
        await client.deleteUser(identityId);
      } catch (error) {
        if (!isTesseraError(error, 'ERR_IDENTITY_NOT_FOUND') && !isTesseraError(error, 'ERR_IDENTITY_DELETED'))
          throw error;
      }
      store.deleteCachedTokens(identityId);
      store.markSwept(session.id, now);
      deleted++;
    } catch {
      failed++;
    }
  }
  return { deleted, failed, expiredCacheRows: store.deleteExpiredTokens(now) };
}
