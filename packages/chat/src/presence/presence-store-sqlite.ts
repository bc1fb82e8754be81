import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type PresenceRecord, type PresenceStore, toPresenceState } from './presence-store.js';

/** Options of {@link createSqlitePresenceStore}. */
export interface SqlitePresenceStoreOptions {
  /** Database file (`:memory:` for a throwaway one); the chat store's file in `tessera chat-service`. */
  readonly path: string;
}

interface PresenceRow {
  raw_id: string;
  state: string;
  note: string | null;
  expires_on: number | null;
  updated_on: number;
}

const SQLITE_PRESENCE_TABLE = `CREATE TABLE IF NOT EXISTS chat_presence (
  raw_id TEXT PRIMARY KEY, state TEXT NOT NULL, note TEXT, expires_on INTEGER, updated_on INTEGER NOT NULL,
  expiry_claimed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chat_presence_expiry ON chat_presence (expires_on) WHERE expiry_claimed = 0;`;

/** A stored row as a record; rows of an unknown state (a newer writer) read as offline. */
export function presenceFromRow(row: {
  raw_id: string;
  state: string;
  note: string | null;
  expires_on: number | string | null;
  updated_on: number | string;
}): PresenceRecord {
  return {
    rawId: row.raw_id,
    state: toPresenceState(row.state) ?? 'offline',
    ...(row.note === null ? {} : { note: row.note }),
    ...(row.expires_on === null ? {} : { expiresOn: Number(row.expires_on) }),
    updatedOn: Number(row.updated_on),
  };
}

/** A {@link PresenceStore} on SQLite (better-sqlite3), in its own connection to the chat store's file. */
export function createSqlitePresenceStore(options: SqlitePresenceStoreOptions): PresenceStore {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare() {
    return {
      put: db.prepare<[string, string, string | null, number | null, number]>(
        `INSERT INTO chat_presence (raw_id, state, note, expires_on, updated_on, expiry_claimed)
         VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (raw_id) DO UPDATE SET state = excluded.state, note = excluded.note,
           expires_on = excluded.expires_on, updated_on = excluded.updated_on, expiry_claimed = 0`,
      ),
      get: db.prepare<[string], PresenceRow>('SELECT * FROM chat_presence WHERE raw_id = ?'),
      expired: db.prepare<[number, number], PresenceRow>(
        `SELECT * FROM chat_presence WHERE expiry_claimed = 0 AND expires_on <= ? ORDER BY expires_on LIMIT ?`,
      ),
      claim: db.prepare<[string]>('UPDATE chat_presence SET expiry_claimed = 1 WHERE raw_id = ?'),
    };
  }

  function s(): ReturnType<typeof prepare> {
    statements ??= prepare();
    return statements;
  }

  return {
    async migrate() {
      db.exec(SQLITE_PRESENCE_TABLE);
      statements = prepare();
    },
    async close() {
      if (db.open) db.close();
    },
    async put(record) {
      s().put.run(record.rawId, record.state, record.note ?? null, record.expiresOn ?? null, record.updatedOn);
    },
    async getMany(rawIds) {
      const out: PresenceRecord[] = [];
      for (const rawId of new Set(rawIds)) {
        const row = s().get.get(rawId);
        if (row !== undefined) out.push(presenceFromRow(row));
      }
      return out;
    },
    async claimExpired(now, limit) {
      return db
        .transaction(() => {
          const rows = s().expired.all(now, limit);
          for (const row of rows) s().claim.run(row.raw_id);
          return rows.map(presenceFromRow);
        })
        .immediate();
    },
  };
}
