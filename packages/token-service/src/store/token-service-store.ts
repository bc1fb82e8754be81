import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RateLimit } from '@tessera/core';
import Database from 'better-sqlite3';

/** An ephemeral session: one communication identity for as long as its tokens keep being refreshed. */
export interface SessionRecord {
  /** Public id (in logs and in the identity's customId `session:<id>`); not a secret. */
  readonly id: string;
  /** The communication identity; undefined only between the row's insert and the identity's creation. */
  readonly identityId: string | undefined;
  /** The policy rule the session started under: every later token is checked against it. */
  readonly rule: string;
  /** `guest` or `user:<customId>`: who started it. */
  readonly principal: string;
  readonly createdAt: number;
  /** No refresh after this (the rule's `sessionMaxMinutes`). */
  readonly maxUntil: number;
  /** The latest `expiresOn` of any token issued in the session: the sweeper deletes the identity after it. */
  readonly tokensExpireAt: number;
  readonly endedAt: number | undefined;
  readonly sweptAt: number | undefined;
}

/** What {@link TokenServiceStore.takeFromBucket} answers: allowed, or refused with the wait in ms. */
export interface BucketTake {
  readonly allowed: boolean;
  readonly retryAfterMs: number;
}

/**
 * Durable state of the token service: SQLite (one instance) or PostgreSQL (any number of instances behind one
 * address; store/postgres-token-service-store.ts). Both pass `test/store/token-service-store-conformance.ts`.
 * Mappings here are a cache: the identity server's customId is the truth.
 */
export interface TokenServiceStore {
  /**
   * True when every instance on this store sees the same state (PostgreSQL): rate limits and guest caps then live
   * in the store, so they hold across instances. False for SQLite, whose instance keeps them in memory.
   */
  readonly shared: boolean;

  getMapping(customId: string): Promise<string | undefined>;
  putMapping(customId: string, identityId: string, now: number): Promise<void>;
  deleteMapping(customId: string): Promise<void>;

  insertSession(session: {
    id: string;
    secretHash: string;
    rule: string;
    principal: string;
    createdAt: number;
    maxUntil: number;
    tokensExpireAt: number;
  }): Promise<void>;
  setSessionIdentity(id: string, identityId: string): Promise<void>;
  sessionBySecretHash(secretHash: string): Promise<SessionRecord | undefined>;
  /** Moves `tokensExpireAt` forward (never back). */
  extendSession(id: string, tokensExpireAt: number): Promise<void>;
  endSession(id: string, now: number): Promise<void>;
  /** Sessions whose tokens have all expired (or that ended) and whose identity is not yet deleted. */
  dueSessions(now: number, limit: number): Promise<SessionRecord[]>;
  markSwept(id: string, now: number): Promise<void>;

  getCachedToken(cacheKey: string): Promise<{ sealed: string; expiresAt: number } | undefined>;
  putCachedToken(cacheKey: string, identityId: string, sealed: string, expiresAt: number): Promise<void>;
  deleteCachedTokens(identityId: string): Promise<void>;
  deleteExpiredTokens(now: number): Promise<number>;

  /**
   * Takes one token from `key`'s bucket under `rule` (core's token bucket: bursts up to the limit, refilled at
   * limit per window), atomically, as of `now`.
   */
  takeFromBucket(key: string, rule: RateLimit, now: number): Promise<BucketTake>;
  /** Drops buckets untouched since `before` (full again, so the same as absent); returns how many. */
  pruneBuckets(before: number): Promise<number>;
  /**
   * Claims the sweeper's lease for `leaseMs` unless another owner holds an unexpired one: of the instances sharing
   * a store, one sweeps at a time. True when `owner` holds it now.
   */
  claimSweep(owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Gives the lease up early (after a sweep), if `owner` holds it. */
  releaseSweep(owner: string): Promise<void>;

  close(): Promise<void>;
}

/** A `sessions` row as either store reads it (PostgreSQL returns bigint columns as strings). */
export interface SessionRow {
  id: string;
  identity_id: string | null;
  rule: string;
  principal: string;
  created_at: number | string;
  max_until: number | string;
  tokens_expire_at: number | string;
  ended_at: number | string | null;
  swept_at: number | string | null;
}

/** The columns of a {@link SessionRow}, in one place for both stores' queries. */
export const SESSION_COLUMNS =
  'id, identity_id, rule, principal, created_at, max_until, tokens_expire_at, ended_at, swept_at';

/** A {@link SessionRow} as a {@link SessionRecord}. */
export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    identityId: row.identity_id ?? undefined,
    rule: row.rule,
    principal: row.principal,
    createdAt: Number(row.created_at),
    maxUntil: Number(row.max_until),
    tokensExpireAt: Number(row.tokens_expire_at),
    endedAt: row.ended_at === null ? undefined : Number(row.ended_at),
    sweptAt: row.swept_at === null ? undefined : Number(row.swept_at),
  };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS mappings (
  custom_id TEXT PRIMARY KEY, identity_id TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, identity_id TEXT, rule TEXT NOT NULL, principal TEXT NOT NULL,
  created_at INTEGER NOT NULL, max_until INTEGER NOT NULL, tokens_expire_at INTEGER NOT NULL,
  ended_at INTEGER, swept_at INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_due ON sessions (tokens_expire_at) WHERE swept_at IS NULL;
CREATE TABLE IF NOT EXISTS token_cache (
  cache_key TEXT PRIMARY KEY, identity_id TEXT NOT NULL, sealed TEXT NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS token_cache_identity ON token_cache (identity_id);
CREATE TABLE IF NOT EXISTS buckets (
  key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_at INTEGER NOT NULL, allowed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sweep_lease (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1), owner TEXT NOT NULL, until INTEGER NOT NULL
);
`;

/** Opens (and creates) the token service's SQLite database at `path` (`:memory:` for a throwaway one). */
export function openTokenServiceStore(path: string): TokenServiceStore {
  if (path !== ':memory:') {
    // Private to the service's user (issue #16): the folder 0700, the database 0600 before SQLite opens it, which
    // gives its -wal and -shm files the same mode.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const q = {
    getMapping: db.prepare<[string], { identity_id: string }>('SELECT identity_id FROM mappings WHERE custom_id = ?'),
    putMapping: db.prepare(
      `INSERT INTO mappings (custom_id, identity_id, created_at, last_used_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (custom_id) DO UPDATE SET identity_id = excluded.identity_id, last_used_at = excluded.last_used_at`,
    ),
    deleteMapping: db.prepare('DELETE FROM mappings WHERE custom_id = ?'),
    insertSession: db.prepare(
      `INSERT INTO sessions (id, secret_hash, rule, principal, created_at, max_until, tokens_expire_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    setSessionIdentity: db.prepare('UPDATE sessions SET identity_id = ? WHERE id = ?'),
    sessionBySecret: db.prepare<[string], SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE secret_hash = ?`),
    extendSession: db.prepare('UPDATE sessions SET tokens_expire_at = MAX(tokens_expire_at, ?) WHERE id = ?'),
    endSession: db.prepare(
      'UPDATE sessions SET ended_at = ?, tokens_expire_at = MIN(tokens_expire_at, ?) WHERE id = ?',
    ),
    due: db.prepare<[number, number], SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE swept_at IS NULL AND tokens_expire_at <= ?
       ORDER BY tokens_expire_at LIMIT ?`,
    ),
    markSwept: db.prepare('UPDATE sessions SET swept_at = ? WHERE id = ?'),
    getToken: db.prepare<[string], { sealed: string; expires_at: number }>(
      'SELECT sealed, expires_at FROM token_cache WHERE cache_key = ?',
    ),
    putToken: db.prepare(
      `INSERT INTO token_cache (cache_key, identity_id, sealed, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (cache_key) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`,
    ),
    deleteTokens: db.prepare('DELETE FROM token_cache WHERE identity_id = ?'),
    deleteExpired: db.prepare('DELETE FROM token_cache WHERE expires_at <= ?'),
    // Core's takeToken in one statement: refill by elapsed time (capped at the limit), take one if there is one.
    take: db.prepare<{ key: string; limit: number; rate: number; now: number }, { tokens: number; allowed: number }>(
      `INSERT INTO buckets (key, tokens, updated_at, allowed) VALUES (@key, @limit - 1, @now, 1)
       ON CONFLICT (key) DO UPDATE SET
         tokens = CASE WHEN MIN(@limit, tokens + MAX(0, @now - updated_at) * @rate) >= 1
                  THEN MIN(@limit, tokens + MAX(0, @now - updated_at) * @rate) - 1
                  ELSE MIN(@limit, tokens + MAX(0, @now - updated_at) * @rate) END,
         allowed = MIN(@limit, tokens + MAX(0, @now - updated_at) * @rate) >= 1,
         updated_at = MAX(updated_at, @now)
       RETURNING tokens, allowed`,
    ),
    pruneBuckets: db.prepare('DELETE FROM buckets WHERE updated_at < ?'),
    claim: db.prepare(
      `INSERT INTO sweep_lease (singleton, owner, until) VALUES (1, @owner, @until)
       ON CONFLICT (singleton) DO UPDATE SET owner = excluded.owner, until = excluded.until
       WHERE sweep_lease.until <= @now OR sweep_lease.owner = @owner
       RETURNING owner`,
    ),
    release: db.prepare('UPDATE sweep_lease SET until = 0 WHERE owner = ?'),
  };
  // better-sqlite3 answers synchronously; the port is async for PostgreSQL's sake.
  return {
    shared: false,
    getMapping: async (customId) => q.getMapping.get(customId)?.identity_id,
    putMapping: async (customId, identityId, now) => void q.putMapping.run(customId, identityId, now, now),
    deleteMapping: async (customId) => void q.deleteMapping.run(customId),
    insertSession: async (s) =>
      void q.insertSession.run(s.id, s.secretHash, s.rule, s.principal, s.createdAt, s.maxUntil, s.tokensExpireAt),
    setSessionIdentity: async (id, identityId) => void q.setSessionIdentity.run(identityId, id),
    sessionBySecretHash: async (hash) => {
      const row = q.sessionBySecret.get(hash);
      return row === undefined ? undefined : toSession(row);
    },
    extendSession: async (id, at) => void q.extendSession.run(at, id),
    endSession: async (id, now) => void q.endSession.run(now, now, id),
    dueSessions: async (now, limit) => q.due.all(now, limit).map(toSession),
    markSwept: async (id, now) => void q.markSwept.run(now, id),
    getCachedToken: async (key) => {
      const row = q.getToken.get(key);
      return row === undefined ? undefined : { sealed: row.sealed, expiresAt: row.expires_at };
    },
    putCachedToken: async (key, identityId, sealed, expiresAt) =>
      void q.putToken.run(key, identityId, sealed, expiresAt),
    deleteCachedTokens: async (identityId) => void q.deleteTokens.run(identityId),
    deleteExpiredTokens: async (now) => q.deleteExpired.run(now).changes,
    takeFromBucket: async (key, rule, now) => {
      const rate = rule.limit / (rule.windowSeconds * 1000);
      const row = q.take.get({ key, limit: rule.limit, rate, now });
      return bucketTake(row?.allowed === 1, row?.tokens ?? 0, rate);
    },
    pruneBuckets: async (before) => q.pruneBuckets.run(before).changes,
    claimSweep: async (owner, now, leaseMs) => q.claim.get({ owner, now, until: now + leaseMs }) !== undefined,
    releaseSweep: async (owner) => void q.release.run(owner),
    close: async () => void db.close(),
  };
}

/** The answer of a bucket whose state after the take is `tokens` (refill rate `ratePerMs`), as core's takeToken. */
export function bucketTake(allowed: boolean, tokens: number, ratePerMs: number): BucketTake {
  return { allowed, retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / ratePerMs) };
}
