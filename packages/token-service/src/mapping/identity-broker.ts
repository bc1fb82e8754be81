import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IdentityClient } from '@tessera/client';
import { isTesseraError } from '@tessera/core';
import type { AppUser } from '../auth/app-principal.js';
import type { TokenBox } from '../crypto/token-box.js';
import { TokenServiceError, identityServerError } from '../errors/token-service-error.js';
import type { Grant } from '../policy/resolve-grant.js';
import type { SessionRecord, TokenServiceStore } from '../store/token-service-store.js';
import { customIdFor, sessionCustomId } from './custom-id.js';

/** A user access token as the token service hands it out. */
export interface IssuedToken {
  readonly token: string;
  readonly expiresOn: Date;
  readonly identityId: string;
  /** True when it came from the encrypted token cache rather than a fresh mint. */
  readonly cached: boolean;
}

/** A newly started ephemeral session: the secret is shown to the caller once and stored only as a hash. */
export interface StartedSession {
  readonly secret: string;
  readonly session: SessionRecord;
}

/** Options of {@link createIdentityBroker}. */
export interface IdentityBrokerOptions {
  readonly client: IdentityClient;
  readonly store: TokenServiceStore;
  /** Encrypts cached tokens; without it nothing is cached. */
  readonly box: TokenBox | undefined;
  readonly clock: () => number;
}

/** Maps app users and sessions to communication identities and issues their tokens. */
export interface IdentityBroker {
  /** The user's stable identity, created on first use; idempotent under concurrency (customId). */
  stableIdentity(user: AppUser): Promise<string>;
  /** The user's stable identity if this service knows it, without creating one. */
  knownStableIdentity(user: AppUser): Promise<string | undefined>;
  /** Deletes the user's stable identity (revoking its tokens) and the mapping; false when there was none. */
  deleteStableIdentity(user: AppUser): Promise<boolean>;
  /** Starts an ephemeral session with a fresh identity. */
  startSession(principal: string, rule: string, sessionMaxMinutes: number): Promise<StartedSession>;
  /** The live session for a secret, or `ERR_SESSION_INVALID`. */
  session(secret: string): Promise<SessionRecord & { identityId: string }>;
  /** Ends a session now: its identity is deleted (tokens revoked). */
  endSession(session: SessionRecord): Promise<void>;
  /**
   * Issues a token for `identityId`. With `useCache`, a cached token that still has at least half its lifetime
   * (and 15 minutes) left is returned instead of minting. A `stableUser`'s identity deleted behind the service's
   * back (by an operator) is re-created once; a session's is `ERR_SESSION_INVALID`.
   */
  issue(
    identityId: string,
    grant: Grant,
    options: { useCache: boolean; session?: SessionRecord; stableUser?: AppUser },
  ): Promise<IssuedToken>;
}

const MIN_CACHED_REMAINING_MS = 15 * 60_000;

function isGone(error: unknown): boolean {
  return isTesseraError(error, 'ERR_IDENTITY_NOT_FOUND') || isTesseraError(error, 'ERR_IDENTITY_DELETED');
}

/** SHA-256 of a session secret, as stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Creates the {@link IdentityBroker}. */
export function createIdentityBroker(options: IdentityBrokerOptions): IdentityBroker {
  const { client, store, box, clock } = options;
  const creating = new Map<string, Promise<string>>();

  const createStable = (customId: string): Promise<string> => {
    let flight = creating.get(customId);
    if (flight === undefined) {
      flight = (async () => {
        try {
          const identity = await client.createUser({ customId });
          await store.putMapping(customId, identity.id, clock());
          return identity.id;
        } catch (error) {
          throw identityServerError(error, 'createUser');
        } finally {
          creating.delete(customId);
        }
      })();
      creating.set(customId, flight);
    }
    return flight;
  };

  const cacheKey = (identityId: string, grant: Grant) =>
    `${identityId}|${[...grant.scopes].sort().join(',')}|${grant.lifetimeMinutes}`;

  const mint = async (identityId: string, grant: Grant): Promise<IssuedToken> => {
    const result = await client.getToken(identityId, grant.scopes, { expiresInMinutes: grant.lifetimeMinutes });
    if (box !== undefined) {
      const key = cacheKey(identityId, grant);
      await store.putCachedToken(key, identityId, box.seal(result.token, key), result.expiresOn.getTime());
    }
    return { token: result.token, expiresOn: result.expiresOn, identityId, cached: false };
  };

  const fromCache = async (identityId: string, grant: Grant): Promise<IssuedToken | undefined> => {
    if (box === undefined) return undefined;
    const key = cacheKey(identityId, grant);
    const row = await store.getCachedToken(key);
    if (row === undefined) return undefined;
    const remaining = row.expiresAt - clock();
    if (remaining < Math.max(MIN_CACHED_REMAINING_MS, (grant.lifetimeMinutes * 60_000) / 2)) return undefined;
    const token = box.open(row.sealed, key);
    return token === undefined ? undefined : { token, expiresOn: new Date(row.expiresAt), identityId, cached: true };
  };

  const deleteIdentity = async (identityId: string): Promise<void> => {
    try {
      await client.deleteUser(identityId);
    } catch (error) {
      if (!isGone(error)) throw identityServerError(error, 'deleteUser');
    }
    await store.deleteCachedTokens(identityId);
  };

  return {
    async stableIdentity(user) {
      const customId = customIdFor(user.issuer, user.subject);
      return (await store.getMapping(customId)) ?? createStable(customId);
    },

    knownStableIdentity(user) {
      return store.getMapping(customIdFor(user.issuer, user.subject));
    },

    async deleteStableIdentity(user) {
      const customId = customIdFor(user.issuer, user.subject);
      // The local row is only a cache: get-or-create finds the identity even if this instance never saw it.
      const identityId = (await store.getMapping(customId)) ?? (await createStable(customId));
      await deleteIdentity(identityId);
      await store.deleteMapping(customId);
      return true;
    },

    async startSession(principal, rule, sessionMaxMinutes) {
      const now = clock();
      const secret = randomBytes(32).toString('base64url');
      const id = randomUUID();
      // The row exists before the identity does, with a short deadline: a crash in between leaves a row the
      // sweeper clears (it finds the identity again by its customId), never an orphan identity.
      await store.insertSession({
        id,
        secretHash: hashSecret(secret),
        rule,
        principal,
        createdAt: now,
        maxUntil: now + sessionMaxMinutes * 60_000,
        tokensExpireAt: now + 10 * 60_000,
      });
      let identityId: string;
      try {
        identityId = (await client.createUser({ customId: sessionCustomId(id) })).id;
      } catch (error) {
        throw identityServerError(error, 'createUser');
      }
      await store.setSessionIdentity(id, identityId);
      const session = await store.sessionBySecretHash(hashSecret(secret));
      if (session === undefined) throw new TokenServiceError('ERR_INTERNAL', 'The session vanished.');
      return { secret, session };
    },

    async session(secret) {
      const session =
        secret.length > 0 && secret.length <= 128 ? await store.sessionBySecretHash(hashSecret(secret)) : undefined;
      const now = clock();
      if (
        session === undefined ||
        session.identityId === undefined ||
        session.endedAt !== undefined ||
        session.sweptAt !== undefined ||
        session.tokensExpireAt <= now ||
        session.maxUntil <= now
      ) {
        throw new TokenServiceError(
          'ERR_SESSION_INVALID',
          'The session is unknown, ended, or its tokens already expired; start a new one.',
        );
      }
      return { ...session, identityId: session.identityId };
    },

    async endSession(session) {
      const now = clock();
      await store.endSession(session.id, now);
      if (session.identityId !== undefined) await deleteIdentity(session.identityId);
      await store.markSwept(session.id, now);
    },

    async issue(identityId, grant, issueOptions) {
      if (issueOptions.useCache) {
        const hit = await fromCache(identityId, grant);
        if (hit !== undefined) return hit;
      }
      let issued: IssuedToken;
      try {
        issued = await mint(identityId, grant);
      } catch (error) {
        if (isGone(error) && issueOptions.stableUser !== undefined) {
          await store.deleteCachedTokens(identityId);
          const customId = customIdFor(issueOptions.stableUser.issuer, issueOptions.stableUser.subject);
          await store.deleteMapping(customId);
          const again = await createStable(customId);
          try {
            issued = await mint(again, grant);
          } catch (retryError) {
            throw identityServerError(retryError, 'getToken');
          }
        } else if (isGone(error) && issueOptions.session !== undefined) {
          throw new TokenServiceError(
            'ERR_SESSION_INVALID',
            "The session's identity was deleted; start a new session.",
          );
        } else {
          throw identityServerError(error, 'getToken');
        }
      }
      if (issueOptions.session !== undefined) {
        // Never past the session's end: the sweeper deletes the identity once every token has expired.
        await store.extendSession(issueOptions.session.id, issued.expiresOn.getTime());
      }
      return issued;
    },
  };
}
