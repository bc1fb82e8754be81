import { TesseraError } from '@tessera/core';
import pg from 'pg';
import {
  bucketTake,
  SESSION_COLUMNS,
  type SessionRow,
  type TokenServiceStore,
  toSession,
} from './token-service-store.js';

/** Options of {@link openPostgresTokenServiceStore}. */
export interface PostgresTokenServiceStoreOptions {
  /** `postgres://user:password@host:port/database`. Never echoed in errors or logs. */
  readonly connectionString: string;
  /** Schema of the token service's tables (created on open); default `tessera_token_service`. */
  readonly schema?: string | undefined;
  /** Most connections of this instance; default 10. */
  readonly max?: number | undefined;
  /** Bound of getting a connection and of each query, ms; default 5000. Past it: `ERR_STORE_UNAVAILABLE`. */
  readonly timeoutMs?: number | undefined;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Lock class of `pg_advisory_xact_lock(class, hashtext(schema))` while migrating: "token service" (arbitrary). */
const MIGRATION_LOCK_CLASS = 0x7e57;

/** Append only: never edit a shipped entry. `{s}` is the quoted schema. */
const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE {s}.mappings (
  custom_id text PRIMARY KEY, identity_id text NOT NULL, created_at bigint NOT NULL, last_used_at bigint NOT NULL
);
CREATE TABLE {s}.sessions (
  id text PRIMARY KEY, secret_hash text NOT NULL UNIQUE, identity_id text, rule text NOT NULL, principal text NOT NULL,
  created_at bigint NOT NULL, max_until bigint NOT NULL, tokens_expire_at bigint NOT NULL,
  ended_at bigint, swept_at bigint
);
CREATE INDEX sessions_due ON {s}.sessions (tokens_expire_at) WHERE swept_at IS NULL;
CREATE TABLE {s}.token_cache (
  cache_key text PRIMARY KEY, identity_id text NOT NULL, sealed text NOT NULL, expires_at bigint NOT NULL
);
CREATE INDEX token_cache_identity ON {s}.token_cache (identity_id);
CREATE INDEX token_cache_expires ON {s}.token_cache (expires_at);
CREATE TABLE {s}.buckets (
  key text PRIMARY KEY, tokens double precision NOT NULL, updated_at bigint NOT NULL, allowed boolean NOT NULL
);
CREATE INDEX buckets_updated ON {s}.buckets (updated_at);
CREATE TABLE {s}.sweep_lease (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), owner text NOT NULL, until bigint NOT NULL
);
`,
  },
];

/**
 * True for a failure that means "no usable database right now": anything that is not an answer of the server
 * (sockets, timeouts, a broken pool), and the server's own connection, shutdown and resource classes (08, 57, 53).
 * Constraint violations and other SQL errors are bugs, not outages.
 */
function isUnavailable(error: unknown): boolean {
  const sqlState = (error as { code?: unknown; severity?: unknown }).code;
  const fromServer = typeof (error as { severity?: unknown }).severity === 'string';
  if (!fromServer) return true;
  return typeof sqlState === 'string' && /^(08|57|53)/.test(sqlState);
}

/** The error a store call answers with: the driver's message can carry host or user, so it is never passed on. */
function storeError(error: unknown): unknown {
  if (!isUnavailable(error)) return error;
  return new TesseraError('ERR_STORE_UNAVAILABLE', 'The token service store (PostgreSQL) is unavailable.', {
    details: { retryAfterSeconds: 2 },
  });
}

/**
 * The token service's state on PostgreSQL, so any number of instances behind one address share sessions, the
 * stable-identity mappings, the token cache, rate limits and guest caps, and one sweeper lease. Creates its schema
 * on open (concurrent opens are serialised by an advisory lock).
 */
export async function openPostgresTokenServiceStore(
  options: PostgresTokenServiceStoreOptions,
): Promise<TokenServiceStore> {
  const schema = options.schema ?? 'tessera_token_service';
  if (!SCHEMA_NAME.test(schema)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --store: the schema must be a plain identifier.', {
      target: 'store',
    });
  }
  const s = `"${schema}"`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: timeoutMs,
    idleTimeoutMillis: 30_000,
    // A frozen connection is found by the query bound and discarded by the pool (released with the error).
    query_timeout: timeoutMs,
    keepAlive: true,
    application_name: 'tessera-token-service',
  });
  // An idle connection whose server went away emits here; the next query fails on its own.
  pool.on('error', () => {});

  const query = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> => {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw storeError(error);
    }
  };

  const migrate = async (): Promise<void> => {
    const client = await pool.connect().catch((error: unknown) => {
      throw storeError(error);
    });
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY)`);
      const applied = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
      const done = new Set(applied.rows.map((row) => row.version));
      for (const migration of MIGRATIONS) {
        if (done.has(migration.version)) continue;
        await client.query(migration.sql.replaceAll('{s}', s));
        await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [migration.version]);
      }
      await client.query('COMMIT');
    } catch (error) {
      broken = true;
      throw storeError(error);
    } finally {
      client.release(broken);
    }
  };
  try {
    await migrate();
  } catch (error) {
    await pool.end();
    throw error;
  }

  const run = async (text: string, values: unknown[]): Promise<void> => {
    await query(text, values);
  };

  return {
    shared: true,
    async getMapping(customId) {
      const result = await query<{ identity_id: string }>(
        `SELECT identity_id FROM ${s}.mappings WHERE custom_id = $1`,
        [customId],
      );
      return result.rows[0]?.identity_id;
    },
    putMapping: (customId, identityId, now) =>
      run(
        `INSERT INTO ${s}.mappings (custom_id, identity_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (custom_id) DO UPDATE SET identity_id = EXCLUDED.identity_id, last_used_at = EXCLUDED.last_used_at`,
        [customId, identityId, now],
      ),
    deleteMapping: (customId) => run(`DELETE FROM ${s}.mappings WHERE custom_id = $1`, [customId]),
    insertSession: (x) =>
      run(
        `INSERT INTO ${s}.sessions (id, secret_hash, rule, principal, created_at, max_until, tokens_expire_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [x.id, x.secretHash, x.rule, x.principal, x.createdAt, x.maxUntil, x.tokensExpireAt],
      ),
    setSessionIdentity: (id, identityId) =>
      run(`UPDATE ${s}.sessions SET identity_id = $2 WHERE id = $1`, [id, identityId]),
    async sessionBySecretHash(hash) {
      const result = await query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM ${s}.sessions WHERE secret_hash = $1`, [
        hash,
      ]);
      const row = result.rows[0];
      return row === undefined ? undefined : toSession(row);
    },
    extendSession: (id, at) =>
      run(`UPDATE ${s}.sessions SET tokens_expire_at = GREATEST(tokens_expire_at, $2) WHERE id = $1`, [id, at]),
    endSession: (id, now) =>
      run(`UPDATE ${s}.sessions SET ended_at = $2, tokens_expire_at = LEAST(tokens_expire_at, $2) WHERE id = $1`, [
        id,
        now,
      ]),
    async dueSessions(now, limit) {
      const result = await query<SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM ${s}.sessions WHERE swept_at IS NULL AND tokens_expire_at <= $1
         ORDER BY tokens_expire_at LIMIT $2`,
        [now, limit],
      );
      return result.rows.map(toSession);
    },
    markSwept: (id, now) => run(`UPDATE ${s}.sessions SET swept_at = $2 WHERE id = $1`, [id, now]),
    async getCachedToken(key) {
      const result = await query<{ sealed: string; expires_at: string }>(
        `SELECT sealed, expires_at FROM ${s}.token_cache WHERE cache_key = $1`,
        [key],
      );
      const row = result.rows[0];
      return row === undefined ? undefined : { sealed: row.sealed, expiresAt: Number(row.expires_at) };
    },
    putCachedToken: (key, identityId, sealed, expiresAt) =>
      run(
        `INSERT INTO ${s}.token_cache (cache_key, identity_id, sealed, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (cache_key) DO UPDATE SET sealed = EXCLUDED.sealed, expires_at = EXCLUDED.expires_at`,
        [key, identityId, sealed, expiresAt],
      ),
    deleteCachedTokens: (identityId) => run(`DELETE FROM ${s}.token_cache WHERE identity_id = $1`, [identityId]),
    async deleteExpiredTokens(now) {
      const result = await query(`DELETE FROM ${s}.token_cache WHERE expires_at <= $1`, [now]);
      return result.rowCount ?? 0;
    },
    async takeFromBucket(key, rule, now) {
      const rate = rule.limit / (rule.windowSeconds * 1000);
      // Core's takeToken in one statement, under the row lock of the upsert: every instance sees one bucket.
      const result = await query<{ tokens: number; allowed: boolean }>(
        `INSERT INTO ${s}.buckets AS b (key, tokens, updated_at, allowed) VALUES ($1, $2::float8 - 1, $4, true)
         ON CONFLICT (key) DO UPDATE SET
           tokens = CASE WHEN LEAST($2::float8, b.tokens + GREATEST(0, $4 - b.updated_at) * $3::float8) >= 1
                    THEN LEAST($2::float8, b.tokens + GREATEST(0, $4 - b.updated_at) * $3::float8) - 1
                    ELSE LEAST($2::float8, b.tokens + GREATEST(0, $4 - b.updated_at) * $3::float8) END,
           allowed = LEAST($2::float8, b.tokens + GREATEST(0, $4 - b.updated_at) * $3::float8) >= 1,
           updated_at = GREATEST(b.updated_at, $4)
         RETURNING tokens, allowed`,
        [key, rule.limit, rate, now],
      );
      const row = result.rows[0];
      return bucketTake(row?.allowed === true, row?.tokens ?? 0, rate);
    },
    async pruneBuckets(before) {
      const result = await query(`DELETE FROM ${s}.buckets WHERE updated_at < $1`, [before]);
      return result.rowCount ?? 0;
    },
    async claimSweep(owner, now, leaseMs) {
      const result = await query(
        `INSERT INTO ${s}.sweep_lease AS l (singleton, owner, until) VALUES (true, $1, $3)
         ON CONFLICT (singleton) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
         WHERE l.until <= $2 OR l.owner = $1
         RETURNING owner`,
        [owner, now, now + leaseMs],
      );
      return (result.rowCount ?? 0) > 0;
    },
    releaseSweep: (owner) => run(`UPDATE ${s}.sweep_lease SET until = 0 WHERE owner = $1`, [owner]),
    close: () => pool.end(),
  };
}
