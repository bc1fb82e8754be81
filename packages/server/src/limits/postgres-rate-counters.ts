import pg from 'pg';
import { TesseraError } from '@tessera/core';
import { mapPostgresError } from '../store/postgres-store.js';
import type { CounterSync } from './shared-rate-limiter.js';

/** Options for {@link createPostgresCounterSync}. */
export interface PostgresCounterSyncOptions {
  readonly connectionString: string;
  readonly schema?: string | undefined;
  /** Bound of one query and of getting a connection, ms (`--store-timeout`); default 5000. */
  readonly timeoutMs?: number | undefined;
}

/**
 * Shared rate-limit counters in PostgreSQL: one upsert per sync adds this process's counts and returns the
 * cluster totals. The `rate_counters` table comes from the PostgreSQL store's migrations (run first, under the
 * migration lock, so processes starting together never race to create it); old windows are pruned as it goes.
 */
export async function createPostgresCounterSync(
  options: PostgresCounterSyncOptions,
): Promise<{ sync: CounterSync; close(): Promise<void> }> {
  const schema = options.schema ?? 'public';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,47}$/.test(schema)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The PostgreSQL schema name must be a plain identifier.', {
      target: 'store',
    });
  }
  const table = `"${schema}".rate_counters`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 2,
    application_name: 'tessera-limits',
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    keepAlive: true,
  });
  pool.on('error', () => {});
  // Failures reach the rate limiter's onError as ERR_STORE_UNAVAILABLE (logged once per outage), never pg's own text.
  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw mapPostgresError(error);
    }
  };
  let lastPrune = 0;
  return {
    async sync(deltas) {
      const result = await query<{ credential: string; operation: string; window_start: string; total: string }>(
        `INSERT INTO ${table} AS c (credential, operation, window_start, total)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
         ON CONFLICT (credential, operation, window_start) DO UPDATE SET total = c.total + EXCLUDED.total
         RETURNING credential, operation, window_start, total`,
        [
          deltas.map((d) => d.credential),
          deltas.map((d) => d.operation),
          deltas.map((d) => d.windowStart),
          deltas.map((d) => d.count),
        ],
      );
      const now = Date.now();
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        await query(`DELETE FROM ${table} WHERE window_start < $1`, [now - 3_600_000]);
      }
      return result.rows.map((r) => ({
        credential: r.credential,
        operation: r.operation as (typeof deltas)[number]['operation'],
        windowStart: Number(r.window_start),
        total: Number(r.total),
      }));
    },
    close: () => pool.end(),
  };
}
