import type { RoomRole } from '@tessera/core';
import Database from 'better-sqlite3';
import { type RoomParticipantRow, type RoomRecord, RoomIdTakenError, type RoomsStore } from './rooms-store.js';

/** Options of {@link createSqliteRoomsStore}. */
export interface SqliteRoomsStoreOptions {
  /** Database file (`:memory:` for a throwaway one). Ignored when `database` is given. */
  readonly path?: string | undefined;
  /** An open better-sqlite3 database to share (e.g. the chat store's); then `close()` leaves it open. */
  readonly database?: Database.Database | undefined;
}

interface RoomRow {
  id: string;
  created_at: number;
  valid_from: number;
  valid_until: number;
  pstn_dial_out: number;
  deleted_at: number | null;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS rooms (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     valid_from INTEGER NOT NULL,
     valid_until INTEGER NOT NULL,
     pstn_dial_out INTEGER NOT NULL,
     deleted_at INTEGER,
     request_id TEXT UNIQUE,
     fingerprint TEXT
   );
   CREATE INDEX IF NOT EXISTS rooms_newest ON rooms (created_at DESC, id DESC) WHERE deleted_at IS NULL;
   CREATE TABLE IF NOT EXISTS room_participants (
     room_id TEXT NOT NULL REFERENCES rooms (id),
     raw_id TEXT NOT NULL,
     role TEXT NOT NULL,
     position INTEGER NOT NULL,
     PRIMARY KEY (room_id, raw_id)
   );
   CREATE INDEX IF NOT EXISTS room_participants_order ON room_participants (room_id, position);`,
  // 2: the rooms of a participant (listRoomsOf: presence's room mates).
  'CREATE INDEX IF NOT EXISTS room_participants_by_user ON room_participants (raw_id, room_id);',
];

/** Thrown inside a transaction to roll it back when the roster would grow too large. */
const TOO_MANY = new Error('too many participants');

function toRoom(row: RoomRow): RoomRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    pstnDialOutEnabled: row.pstn_dial_out === 1,
    ...(row.deleted_at === null ? {} : { deletedAt: row.deleted_at }),
  };
}

/** A {@link RoomsStore} on SQLite (better-sqlite3): the default for one process. */
export function createSqliteRoomsStore(options: SqliteRoomsStoreOptions): RoomsStore {
  const owned = options.database === undefined;
  const db = options.database ?? new Database(options.path ?? ':memory:', { timeout: 5000 });
  if (owned) {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
  }
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare() {
    return {
      insertRoom: db.prepare(
        `INSERT INTO rooms (id, created_at, valid_from, valid_until, pstn_dial_out, request_id, fingerprint)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      byRequest: db.prepare<[string], RoomRow & { fingerprint: string }>(
        'SELECT id, created_at, valid_from, valid_until, pstn_dial_out, deleted_at, fingerprint FROM rooms WHERE request_id = ?',
      ),
      room: db.prepare<[string], RoomRow>(
        'SELECT id, created_at, valid_from, valid_until, pstn_dial_out, deleted_at FROM rooms WHERE id = ?',
      ),
      firstPage: db.prepare<[number], RoomRow>(
        `SELECT id, created_at, valid_from, valid_until, pstn_dial_out, deleted_at FROM rooms WHERE deleted_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      nextPage: db.prepare<[number, number, string, number], RoomRow>(
        `SELECT id, created_at, valid_from, valid_until, pstn_dial_out, deleted_at FROM rooms WHERE deleted_at IS NULL
         AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      update: db.prepare(
        `UPDATE rooms SET valid_from = COALESCE(?, valid_from), valid_until = COALESCE(?, valid_until),
         pstn_dial_out = COALESCE(?, pstn_dial_out) WHERE id = ? AND deleted_at IS NULL`,
      ),
      markDeleted: db.prepare('UPDATE rooms SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      dropParticipants: db.prepare('DELETE FROM room_participants WHERE room_id = ?'),
      live: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM rooms WHERE id = ? AND deleted_at IS NULL'),
      participant: db.prepare<[string, string], { role: RoomRole }>(
        'SELECT role FROM room_participants WHERE room_id = ? AND raw_id = ?',
      ),
      participants: db.prepare<[string, number, number], { raw_id: string; role: RoomRole; position: number }>(
        `SELECT raw_id, role, position FROM room_participants WHERE room_id = ? AND position > ?
         ORDER BY position LIMIT ?`,
      ),
      roomsOf: db.prepare<[string, number, number], { id: string }>(
        `SELECT r.id FROM room_participants p JOIN rooms r ON r.id = p.room_id
         WHERE p.raw_id = ? AND r.deleted_at IS NULL AND r.valid_until > ?
         ORDER BY r.created_at DESC, r.id DESC LIMIT ?`,
      ),
      count: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM room_participants WHERE room_id = ?'),
      nextPosition: db.prepare<[string], { p: number }>(
        'SELECT COALESCE(MAX(position), 0) + 1 AS p FROM room_participants WHERE room_id = ?',
      ),
      upsert: db.prepare(
        `INSERT INTO room_participants (room_id, raw_id, role, position) VALUES (?, ?, ?, ?)
         ON CONFLICT (room_id, raw_id) DO UPDATE SET role = excluded.role`,
      ),
      remove: db.prepare('DELETE FROM room_participants WHERE room_id = ? AND raw_id = ?'),
    };
  }

  // Prepared on first use: another instance may have migrated the database (statements need the tables).
  function s(): ReturnType<typeof prepare> {
    statements ??= prepare();
    return statements;
  }

  function upsertAll(roomId: string, rows: readonly { rawId: string; role: RoomRole }[]): void {
    let position = s().nextPosition.get(roomId)?.p ?? 1;
    for (const p of rows) s().upsert.run(roomId, p.rawId, p.role, position++);
  }

  return {
    async migrate() {
      db.exec('CREATE TABLE IF NOT EXISTS rooms_schema_migrations (version INTEGER PRIMARY KEY)');
      db.transaction(() => {
        const applied = new Set(
          db
            .prepare<[], { version: number }>('SELECT version FROM rooms_schema_migrations')
            .all()
            .map((r) => r.version),
        );
        MIGRATIONS.forEach((sql, i) => {
          if (applied.has(i + 1)) return;
          db.exec(sql);
          db.prepare('INSERT INTO rooms_schema_migrations (version) VALUES (?)').run(i + 1);
        });
      }).immediate();
      statements = prepare();
    },
    async close() {
      if (owned && db.open) db.close();
    },
    async createRoom(input) {
      return db
        .transaction(() => {
          const r = input.repeatability;
          if (r !== undefined) {
            const earlier = s().byRequest.get(r.requestId);
            if (earlier !== undefined) {
              return { room: toRoom(earlier), created: false, sameRequest: earlier.fingerprint === r.fingerprint };
            }
          }
          const room = input.room;
          try {
            s().insertRoom.run(
              room.id,
              room.createdAt,
              room.validFrom,
              room.validUntil,
              room.pstnDialOutEnabled ? 1 : 0,
              r?.requestId ?? null,
              r?.fingerprint ?? null,
            );
          } catch (error) {
            if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new RoomIdTakenError();
            throw error;
          }
          upsertAll(room.id, input.participants);
          return { room: { ...room }, created: true, sameRequest: true };
        })
        .immediate();
    },
    async getRoom(roomId) {
      const row = s().room.get(roomId);
      return row === undefined ? undefined : toRoom(row);
    },
    async listRooms(limit, after) {
      const rows =
        after === undefined
          ? s().firstPage.all(limit)
          : s().nextPage.all(after.createdAt, after.createdAt, after.id, limit);
      return rows.map(toRoom);
    },
    async updateRoom(roomId, patch) {
      return db.transaction(() => {
        const pstn = patch.pstnDialOutEnabled === undefined ? null : patch.pstnDialOutEnabled ? 1 : 0;
        const changed = s().update.run(patch.validFrom ?? null, patch.validUntil ?? null, pstn, roomId).changes;
        if (changed === 0) return undefined;
        const row = s().room.get(roomId);
        return row === undefined ? undefined : toRoom(row);
      })();
    },
    async deleteRoom(roomId, now) {
      return db.transaction(() => {
        if (s().markDeleted.run(now, roomId).changes === 0) return false;
        s().dropParticipants.run(roomId);
        return true;
      })();
    },
    async getParticipant(roomId, rawId) {
      const row = s().participant.get(roomId, rawId);
      return row === undefined ? undefined : { rawId, role: row.role };
    },
    async listParticipants(roomId, limit, afterPosition) {
      return s()
        .participants.all(roomId, afterPosition ?? 0, limit)
        .map((r): RoomParticipantRow => ({ rawId: r.raw_id, role: r.role, position: r.position }));
    },
    async countParticipants(roomId) {
      return s().count.get(roomId)?.n ?? 0;
    },
    async listRoomsOf(rawId, now, limit) {
      return s()
        .roomsOf.all(rawId, now, limit)
        .map((r) => r.id);
    },
    async updateParticipants(roomId, upserts, removals, maxParticipants) {
      try {
        return db
          .transaction(() => {
            if (s().live.get(roomId) === undefined) return 'not-found' as const;
            for (const rawId of removals) s().remove.run(roomId, rawId);
            upsertAll(roomId, upserts);
            if ((s().count.get(roomId)?.n ?? 0) > maxParticipants) throw TOO_MANY;
            return 'updated' as const;
          })
          .immediate();
      } catch (error) {
        if (error === TOO_MANY) return 'too-many';
        throw error;
      }
    },
  };
}
