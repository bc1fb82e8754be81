import { TesseraError } from '@tessera/core';
import pg from 'pg';
import { pgMigration } from '../service/pg-transaction.js';
import { presenceFromRow } from './presence-store-sqlite.js';
import type { PresenceStore } from './presence-store.js';

/** Options of {@link createPostgresPresenceStore}. */
export interface PostgresPresenceStoreOptions {
  readonly connectionString: string;
  /** Schema of the table (created when missing). Default `public`. */
  readonly schema?: string | undefined;
  /** Pool size. Default 4. */
  readonly maxConnections?: number | undefined;
}

interface PresenceRow {
  raw_id: string;
  state: string;
  note: string | null;
  expires_on: string | null;
  updated_on: string;
}

/** Connection failures as `ERR_STORE_UNAVAILABLE` (503), everything else as thrown. */
function unavailable(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || ['ECONNREFUSED', 'ECONNRESET', '57P01'].includes(code))) {
    return new TesseraError('ERR_STORE_UNAVAILABLE', 'The presence store cannot be reached.', { cause: error });
  }
  return error;
}

/** A {@link PresenceStore} on PostgreSQL: for many processes sharing one database (the chat store's). */
export function createPostgresPresenceStore(options: PostgresPresenceStoreOptions): PresenceStore {
  const schemaName = options.schema ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schemaName)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The PostgreSQL schema name must be an SQL identifier.', {
      target: 'schema',
    });
  }
  const table = `"${schemaName}".chat_presence`;
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 4 });
  pool.on('error', () => {}); // an idle client's failure surfaces on the next query instead

  async function query(text: string, values: unknown[]): Promise<PresenceRow[]> {
    try {
      return (await pool.query<PresenceRow>(text, values)).rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  return {
    async migrate() {
      await pgMigration(
        pool,
        schemaName,
        async (client) => {
          await client.query(`CREATE SCHEMA IF NOT EXISTS "${schemaName}"`);
          await client.query(
            `CREATE TABLE IF NOT EXISTS ${table} (
               raw_id TEXT PRIMARY KEY, state TEXT NOT NULL, note TEXT, expires_on BIGINT, updated_on BIGINT NOT NULL,
               expiry_claimed BOOLEAN NOT NULL DEFAULT false);
             CREATE INDEX IF NOT EXISTS chat_presence_expiry ON ${table} (expires_on) WHERE NOT expiry_claimed;`,
          );
        },
        unavailable,
      ).catch((error: unknown) => {
        throw unavailable(error);
      });
    },
    async close() {
      await pool.end();
    },
    async put(record) {
      await query(
        `INSERT INTO ${table} (raw_id, state, note, expires_on, updated_on, expiry_claimed)
         VALUES ($1, $2, $3, $4, $5, false)
         ON CONFLICT (raw_id) DO UPDATE SET state = excluded.state, note = excluded.note,
           expires_on = excluded.expires_on, updated_on = excluded.updated_on, expiry_claimed = false`,
        [record.rawId, record.state, record.note ?? null, record.expiresOn ?? null, record.updatedOn],
      );
    },
    async getMany(rawIds) {
      if (rawIds.length === 0) return [];
      const rows = await query(`SELECT * FROM ${table} WHERE raw_id = ANY($1::text[])`, [[...new Set(rawIds)]]);
      return rows.map(presenceFromRow);
    },
    async claimExpired(now, limit) {
      const rows = await query(
        `UPDATE ${table} SET expiry_claimed = true WHERE raw_id IN (
           SELECT raw_id FROM ${table} WHERE NOT expiry_claimed AND expires_on <= $1
           ORDER BY expires_on LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, limit],
      );
      return rows.map(presenceFromRow);
    },
  };
}
