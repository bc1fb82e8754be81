import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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

/** Durable state of the token service (SQLite). Mappings here are a cache: the identity server's customId is the truth. */
export interface TokenServiceStore {
  getMapping(customId: string): string | undefined;
  putMapping(customId: string, identityId: string, now: number): void;
  deleteMapping(customId: string): void;

  insertSession(session: {
    id: string;
    secretHash: string;
    rule: string;
    principal: string;
    createdAt: number;
    maxUntil: number;
    tokensExpireAt: number;
  }): void;
  setSessionIdentity(id: string, identityId: string): void;
  sessionBySecretHash(secretHash: string): SessionRecord | undefined;
  /** Moves `tokensExpireAt` forward (never back). */
  extendSession(id: string, tokensExpireAt: number): void;
  endSession(id: string, now: number): void;
  /** Sessions whose tokens have all expired (or that ended) and whose identity is not yet deleted. */
  dueSessions(now: number, limit: number): SessionRecord[];
  markSwept(id: string, now: number): void;

  getCachedToken(cacheKey: string): { sealed: string; expiresAt: number } | undefined;
  putCachedToken(cacheKey: string, identityId: string, sealed: string, expiresAt: number): void;
  deleteCachedTokens(identityId: string): void;
  deleteExpiredTokens(now: number): number;

  close(): void;
}

interface SessionRow {
  id: string;
  identity_id: string | null;
  rule: string;
  principal: string;
  created_at: number;
  max_until: number;
  tokens_expire_at: number;
  ended_at: number | null;
  swept_at: number | null;
}

function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    identityId: row.identity_id ?? undefined,
    rule: row.rule,
    principal: row.principal,
    createdAt: row.created_at,
    maxUntil: row.max_until,
    tokensExpireAt: row.tokens_expire_at,
    endedAt: row.ended_at ?? undefined,
    sweptAt: row.swept_at ?? undefined,
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
`;

/** Opens (and creates) the token service's SQLite database at `path` (`:memory:` for a throwaway one). */
export function openTokenServiceStore(path: string): TokenServiceStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
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
    sessionBySecret: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE secret_hash = ?'),
    extendSession: db.prepare('UPDATE sessions SET tokens_expire_at = MAX(tokens_expire_at, ?) WHERE id = ?'),
    endSession: db.prepare(
      'UPDATE sessions SET ended_at = ?, tokens_expire_at = MIN(tokens_expire_at, ?) WHERE id = ?',
    ),
    due: db.prepare<[number, number], SessionRow>(
      'SELECT * FROM sessions WHERE swept_at IS NULL AND tokens_expire_at <= ? ORDER BY tokens_expire_at LIMIT ?',
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
  };
  return {
    getMapping: (customId) => q.getMapping.get(customId)?.identity_id,
    putMapping: (customId, identityId, now) => void q.putMapping.run(customId, identityId, now, now),
    deleteMapping: (customId) => void q.deleteMapping.run(customId),
    insertSession: (s) =>
      void q.insertSession.run(s.id, s.secretHash, s.rule, s.principal, s.createdAt, s.maxUntil, s.tokensExpireAt),
    setSessionIdentity: (id, identityId) => void q.setSessionIdentity.run(identityId, id),
    sessionBySecretHash: (hash) => {
      const row = q.sessionBySecret.get(hash);
      return row === undefined ? undefined : toSession(row);
    },
    extendSession: (id, at) => void q.extendSession.run(at, id),
    endSession: (id, now) => void q.endSession.run(now, now, id),
    dueSessions: (now, limit) => q.due.all(now, limit).map(toSession),
    markSwept: (id, now) => void q.markSwept.run(now, id),
    getCachedToken: (key) => {
      const row = q.getToken.get(key);
      return row === undefined ? undefined : { sealed: row.sealed, expiresAt: row.expires_at };
    },
    putCachedToken: (key, identityId, sealed, expiresAt) => void q.putToken.run(key, identityId, sealed, expiresAt),
    deleteCachedTokens: (identityId) => void q.deleteTokens.run(identityId),
    deleteExpiredTokens: (now) => q.deleteExpired.run(now).changes,
    close: () => db.close(),
  };
}
