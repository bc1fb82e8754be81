import { TesseraError, type RoomRole } from '@tessera/core';
import pg from 'pg';
import { pgMigration, pgTransaction } from '../service/pg-transaction.js';
import { type RoomParticipantRow, type RoomRecord, RoomIdTakenError, type RoomsStore } from './rooms-store.js';

/** Options of {@link createPostgresRoomsStore}. */
export interface PostgresRoomsStoreOptions {
  /** `postgres://…`. Ignored when `pool` is given. */
  readonly connectionString?: string | undefined;
  /** A pool to share (e.g. the chat store's); then `close()` leaves it open. */
  readonly pool?: pg.Pool | undefined;
  /** Schema of the tables (created when missing). Default `public`. */
  readonly schema?: string | undefined;
  /** Pool size when the store makes its own pool. Default 10. */
  readonly maxConnections?: number | undefined;
}

interface RoomRow {
  id: string;
  created_at: string;
  valid_from: string;
  valid_until: string;
  pstn_dial_out: boolean;
  deleted_at: string | null;
}

const ROOM_COLUMNS = 'id, created_at, valid_from, valid_until, pstn_dial_out, deleted_at';

function migrations(schema: string): readonly string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${schema}.rooms (
       id TEXT PRIMARY KEY,
       created_at BIGINT NOT NULL,
       valid_from BIGINT NOT NULL,
       valid_until BIGINT NOT NULL,
       pstn_dial_out BOOLEAN NOT NULL,
       deleted_at BIGINT,
       request_id TEXT UNIQUE,
       fingerprint TEXT
     );
     CREATE INDEX IF NOT EXISTS rooms_newest ON ${schema}.rooms (created_at DESC, id DESC) WHERE deleted_at IS NULL;
     CREATE TABLE IF NOT EXISTS ${schema}.room_participants (
       room_id TEXT NOT NULL REFERENCES ${schema}.rooms (id),
       raw_id TEXT NOT NULL,
       role TEXT NOT NULL,
       position BIGINT NOT NULL,
       PRIMARY KEY (room_id, raw_id)
     );
     CREATE INDEX IF NOT EXISTS room_participants_order ON ${schema}.room_participants (room_id, position);`,
    // 2: the rooms of a participant (listRoomsOf: presence's room mates).
    `CREATE INDEX IF NOT EXISTS room_participants_by_user ON ${schema}.room_participants (raw_id, room_id);`,
  ];
}

function toRoom(row: RoomRow): RoomRecord {
  return {
    id: row.id,
    createdAt: Number(row.created_at),
    validFrom: Number(row.valid_from),
    validUntil: Number(row.valid_until),
    pstnDialOutEnabled: row.pstn_dial_out,
    ...(row.deleted_at === null ? {} : { deletedAt: Number(row.deleted_at) }),
  };
}

/** Connection failures as `ERR_STORE_UNAVAILABLE` (503), everything else as thrown. */
function unavailable(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || ['ECONNREFUSED', 'ECONNRESET', '57P01'].includes(code))) {
    return new TesseraError('ERR_STORE_UNAVAILABLE', 'The rooms store cannot be reached.', { cause: error });
  }
  return error;
}

/** A {@link RoomsStore} on PostgreSQL: for many processes sharing one database. */
export function createPostgresRoomsStore(options: PostgresRoomsStoreOptions): RoomsStore {
  const schemaName = options.schema ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schemaName)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The PostgreSQL schema name must be an SQL identifier.', {
      target: 'schema',
    });
  }
  const schema = `"${schemaName}"`;
  const owned = options.pool === undefined;
  const pool =
    options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  if (owned) pool.on('error', () => {}); // an idle client's failure surfaces on the next query instead

  // Errors inside the transaction go through the same mapping (it leaves anything but a lost connection alone).
  const tx = <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> =>
    pgTransaction(pool, work, unavailable).catch((error: unknown) => {
      throw unavailable(error);
    });

  const migration = (work: (client: pg.PoolClient) => Promise<void>): Promise<void> =>
    pgMigration(pool, schemaName, work, unavailable).catch((error: unknown) => {
      throw unavailable(error);
    });

  async function query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    try {
      return (await pool.query<R>(text, values)).rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  async function upsertAll(
    client: pg.PoolClient,
    roomId: string,
    rows: readonly { rawId: string; role: RoomRole }[],
  ): Promise<void> {
    if (rows.length === 0) return;
    const next = await client.query<{ p: string }>(
      `SELECT COALESCE(MAX(position), 0) + 1 AS p FROM ${schema}.room_participants WHERE room_id = $1`,
      [roomId],
    );
    const start = Number(next.rows[0]?.p ?? 1);
    await client.query(
      `INSERT INTO ${schema}.room_participants (room_id, raw_id, role, position)
       SELECT $1, p.raw_id, p.role, $4::bigint + p.ord - 1
       FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS p (raw_id, role, ord)
       ON CONFLICT (room_id, raw_id) DO UPDATE SET role = excluded.role`,
      [roomId, rows.map((r) => r.rawId), rows.map((r) => r.role), start],
    );
  }

  return {
    async migrate() {
      await migration(async (client) => {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${schema}.rooms_schema_migrations (version INTEGER PRIMARY KEY)`,
        );
        const applied = new Set(
          (await client.query<{ version: number }>(`SELECT version FROM ${schema}.rooms_schema_migrations`)).rows.map(
            (r) => r.version,
          ),
        );
        const all = migrations(schema);
        for (let i = 0; i < all.length; i++) {
          if (applied.has(i + 1)) continue;
          await client.query(all[i] ?? '');
          await client.query(`INSERT INTO ${schema}.rooms_schema_migrations (version) VALUES ($1)`, [i + 1]);
        }
      });
    },
    async close() {
      if (owned) await pool.end();
    },
    async createRoom(input) {
      return tx(async (client) => {
        const r = input.repeatability;
        if (r !== undefined) {
          // Serialises concurrent creates with one request id (the unique index alone would fail the second).
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tessera-rooms-request:${r.requestId}`]);
          const earlier = await client.query<RoomRow & { fingerprint: string }>(
            `SELECT ${ROOM_COLUMNS}, fingerprint FROM ${schema}.rooms WHERE request_id = $1`,
            [r.requestId],
          );
          const row = earlier.rows[0];
          if (row !== undefined)
            return { room: toRoom(row), created: false, sameRequest: row.fingerprint === r.fingerprint };
        }
        const room = input.room;
        const inserted = await client.query(
          `INSERT INTO ${schema}.rooms (id, created_at, valid_from, valid_until, pstn_dial_out, request_id, fingerprint)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
          [
            room.id,
            room.createdAt,
            room.validFrom,
            room.validUntil,
            room.pstnDialOutEnabled,
            r?.requestId ?? null,
            r?.fingerprint ?? null,
          ],
        );
        if (inserted.rowCount === 0) throw new RoomIdTakenError();
        await upsertAll(client, room.id, input.participants);
        return { room: { ...room }, created: true, sameRequest: true };
      });
    },
    async getRoom(roomId) {
      const rows = await query<RoomRow>(`SELECT ${ROOM_COLUMNS} FROM ${schema}.rooms WHERE id = $1`, [roomId]);
      return rows[0] === undefined ? undefined : toRoom(rows[0]);
    },
    async listRooms(limit, after) {
      const rows =
        after === undefined
          ? await query<RoomRow>(
              `SELECT ${ROOM_COLUMNS} FROM ${schema}.rooms WHERE deleted_at IS NULL
               ORDER BY created_at DESC, id DESC LIMIT $1`,
              [limit],
            )
          : await query<RoomRow>(
              `SELECT ${ROOM_COLUMNS} FROM ${schema}.rooms WHERE deleted_at IS NULL AND (created_at, id) < ($1, $2)
               ORDER BY created_at DESC, id DESC LIMIT $3`,
              [after.createdAt, after.id, limit],
            );
      return rows.map(toRoom);
    },
    async updateRoom(roomId, patch) {
      const rows = await query<RoomRow>(
        `UPDATE ${schema}.rooms SET valid_from = COALESCE($1, valid_from), valid_until = COALESCE($2, valid_until),
         pstn_dial_out = COALESCE($3, pstn_dial_out) WHERE id = $4 AND deleted_at IS NULL RETURNING ${ROOM_COLUMNS}`,
        [patch.validFrom ?? null, patch.validUntil ?? null, patch.pstnDialOutEnabled ?? null, roomId],
      );
      return rows[0] === undefined ? undefined : toRoom(rows[0]);
    },
    async deleteRoom(roomId, now) {
      return tx(async (client) => {
        const marked = await client.query(
          `UPDATE ${schema}.rooms SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL`,
          [now, roomId],
        );
        if (marked.rowCount === 0) return false;
        await client.query(`DELETE FROM ${schema}.room_participants WHERE room_id = $1`, [roomId]);
        return true;
      });
    },
    async getParticipant(roomId, rawId) {
      const rows = await query<{ role: RoomRole }>(
        `SELECT role FROM ${schema}.room_participants WHERE room_id = $1 AND raw_id = $2`,
        [roomId, rawId],
      );
      return rows[0] === undefined ? undefined : { rawId, role: rows[0].role };
    },
    async listParticipants(roomId, limit, afterPosition) {
      const rows = await query<{ raw_id: string; role: RoomRole; position: string }>(
        `SELECT raw_id, role, position FROM ${schema}.room_participants WHERE room_id = $1 AND position > $2
         ORDER BY position LIMIT $3`,
        [roomId, afterPosition ?? 0, limit],
      );
      return rows.map((r): RoomParticipantRow => ({ rawId: r.raw_id, role: r.role, position: Number(r.position) }));
    },
    async countParticipants(roomId) {
      const rows = await query<{ n: string }>(
        `SELECT COUNT(*) AS n FROM ${schema}.room_participants WHERE room_id = $1`,
        [roomId],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async listRoomsOf(rawId, now, limit) {
      const rows = await query<{ id: string }>(
        `SELECT r.id FROM ${schema}.room_participants p JOIN ${schema}.rooms r ON r.id = p.room_id
         WHERE p.raw_id = $1 AND r.deleted_at IS NULL AND r.valid_until > $2
         ORDER BY r.created_at DESC, r.id DESC LIMIT $3`,
        [rawId, now, limit],
      );
      return rows.map((r) => r.id);
    },
    async updateParticipants(roomId, upserts, removals, maxParticipants) {
      return tx(async (client): Promise<'updated' | 'not-found' | 'too-many'> => {
        // Locks the room row: concurrent roster changes of one room apply one after the other.
        const live = await client.query(
          `SELECT 1 FROM ${schema}.rooms WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
          [roomId],
        );
        if (live.rowCount === 0) return 'not-found';
        await client.query('SAVEPOINT roster');
        if (removals.length > 0) {
          await client.query(
            `DELETE FROM ${schema}.room_participants WHERE room_id = $1 AND raw_id = ANY($2::text[])`,
            [roomId, [...removals]],
          );
        }
        await upsertAll(client, roomId, upserts);
        const count = await client.query<{ n: string }>(
          `SELECT COUNT(*) AS n FROM ${schema}.room_participants WHERE room_id = $1`,
          [roomId],
        );
        if (Number(count.rows[0]?.n ?? 0) > maxParticipants) {
          await client.query('ROLLBACK TO SAVEPOINT roster');
          return 'too-many';
        }
        return 'updated';
      });
    },
  };
}
