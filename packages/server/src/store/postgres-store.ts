import { isTesseraError, TesseraError } from '@tessera/core';
import pg from 'pg';
import type {
  AccessKeyName,
  CreateIdentityInput,
  CreateIdentityResult,
  IdentityRecord,
  RevocationSnapshot,
  Store,
} from './store.js';
import { SIGNING_KEYS_NOTICE } from './store.js';
import {
  toAccessKey,
  toAssignment,
  toAudit,
  toEvent,
  toIdentity,
  toResource,
  toRoleDefinition,
  toSigningKey,
  type AccessKeyRow,
  type AuditRow,
  type EventRow,
  type IdentityRow,
  type ResourceRow,
  type RoleAssignmentRow,
  type RoleDefinitionRow,
  type SigningKeyRow,
} from './rows.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. Never echoed in errors. */
  readonly connectionString: string;
  /** Schema holding Tessera's tables (created by `migrate()`); default `public`. Lets tests and tenants isolate. */
  readonly schema?: string | undefined;
  readonly pool?:
    | {
        /** Maximum connections of this process; default 10. */
        readonly max?: number | undefined;
        /** How long to wait for a connection before failing with `ERR_STORE_UNAVAILABLE`; default 5000 ms. */
        readonly connectionTimeoutMillis?: number | undefined;
        /** Idle connections are closed after this long; default 30 000 ms. */
        readonly idleTimeoutMillis?: number | undefined;
        /**
         * Bound of one query, client side (`query_timeout`) and server side (`statement_timeout`); default 5000 ms.
         * A query past it fails with `ERR_STORE_UNAVAILABLE` and its connection is discarded, so a frozen
         * connection never returns to the pool.
         */
        readonly queryTimeoutMillis?: number | undefined;
      }
    | undefined;
}

/** The LISTEN/NOTIFY channel on which a PostgreSQL store announces each appended event's seq (sent at commit). */
export function postgresEventChannel(schema = 'public'): string {
  return `tessera_events_${schema}`;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/** Lock class for `pg_advisory_xact_lock(class, hashtext(schema))`: "Tessera migrations" (arbitrary, stable). */
const MIGRATION_LOCK_CLASS = 0x7e55;

/**
 * Schema versions, applied in order inside one transaction each. Append only: never edit a shipped entry.
 * `{s}` is replaced with the quoted schema name.
 */
const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly sql: string }> = [
  {
    version: 1,
    sql: `
CREATE TABLE {s}.resource (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  resource_id text NOT NULL,
  location text NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE {s}.access_keys (
  name text PRIMARY KEY CHECK (name IN ('primary', 'secondary', 'verifier')),
  version integer NOT NULL,
  secret text NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE {s}.signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  private_key text NOT NULL,
  public_jwk text NOT NULL,
  created_at bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'retired'))
);
CREATE TABLE {s}.identities (
  id text PRIMARY KEY,
  custom_id text,
  request_key text,
  created_at bigint NOT NULL,
  deleted_at bigint,
  epoch integer NOT NULL DEFAULT 0,
  last_token_issued_at bigint
);
CREATE UNIQUE INDEX identities_live_custom_id ON {s}.identities (custom_id)
  WHERE custom_id IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX identities_request_key ON {s}.identities (request_key) WHERE request_key IS NOT NULL;
CREATE INDEX identities_revoked ON {s}.identities (id) WHERE epoch > 0 OR deleted_at IS NOT NULL;
CREATE TABLE {s}.event_counter (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL
);
INSERT INTO {s}.event_counter (singleton, seq) VALUES (true, 0);
CREATE TABLE {s}.events (
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  type text NOT NULL CHECK (type IN ('identity.revoked', 'identity.deleted', 'key.regenerated')),
  identity_id text,
  epoch integer,
  key_name text,
  version integer
);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE {s}.role_assignments (
  id text PRIMARY KEY,
  role text NOT NULL,
  issuer text NOT NULL,
  principal_type text NOT NULL CHECK (principal_type IN ('subject', 'objectId', 'appId', 'group', 'appRole')),
  principal_id text NOT NULL,
  description text,
  created_at bigint NOT NULL,
  created_by text NOT NULL,
  UNIQUE (role, issuer, principal_type, principal_id)
);
CREATE TABLE {s}.role_definitions (
  name text PRIMARY KEY,
  description text,
  actions jsonb NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE {s}.roles_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version bigint NOT NULL
);
INSERT INTO {s}.roles_state (singleton, version) VALUES (true, 0);
CREATE TABLE {s}.audit (
  seq bigserial PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,
  operation text NOT NULL,
  identity_id text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  status integer NOT NULL,
  code text,
  request_id text NOT NULL,
  detail text
);
CREATE INDEX audit_at ON {s}.audit (at);
CREATE INDEX audit_identity ON {s}.audit (identity_id, seq) WHERE identity_id IS NOT NULL;
`,
  },
  {
    // Shared rate-limit counters (limits/postgres-rate-counters.ts): one row per credential, operation and window.
    version: 3,
    sql: `
CREATE TABLE {s}.rate_counters (
  credential text NOT NULL,
  operation text NOT NULL,
  window_start bigint NOT NULL,
  total bigint NOT NULL,
  PRIMARY KEY (credential, operation, window_start)
);
`,
  },
  {
    // Bounded state (docs/state-and-retention.md): when each revocation entry was made, so it can be pruned once every
    // token it revokes has expired; signing keys with activation and retirement times; how far events were pruned.
    version: 4,
    sql: `
ALTER TABLE {s}.identities ADD COLUMN revoked_at bigint;
UPDATE {s}.identities SET revoked_at = COALESCE(deleted_at, created_at) WHERE epoch > 0 OR deleted_at IS NOT NULL;
UPDATE {s}.identities i SET revoked_at = GREATEST(i.revoked_at, e.at)
  FROM (SELECT identity_id, max(at) AS at FROM {s}.events WHERE identity_id IS NOT NULL GROUP BY identity_id) e
  WHERE e.identity_id = i.id;
DROP INDEX {s}.identities_revoked;
CREATE INDEX identities_revoked_at ON {s}.identities (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX events_at ON {s}.events (at);
ALTER TABLE {s}.signing_keys ADD COLUMN activates_at bigint, ADD COLUMN retired_at bigint;
UPDATE {s}.signing_keys SET activates_at = created_at;
UPDATE {s}.signing_keys SET retired_at = (extract(epoch FROM now()) * 1000)::bigint WHERE status = 'retired';
CREATE TABLE {s}.prune_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  events_through bigint NOT NULL
);
INSERT INTO {s}.prune_state (singleton, events_through) VALUES (true, 0);
`,
  },
];

/** Lock class for `pg_try_advisory_xact_lock(class, hashtext(schema))`: "Tessera pruning" (arbitrary, stable). */
const PRUNE_LOCK_CLASS = 0x7e56;

const SIGNING_KEY_COLUMNS = 'kid, alg, private_key, public_jwk, created_at, status, activates_at, retired_at';

const ASSIGNMENT_COLUMNS = 'id, role, issuer, principal_type, principal_id, description, created_at, created_by';

const IDENTITY_COLUMNS = 'id, custom_id, created_at, deleted_at, epoch, last_token_issued_at';

/** Socket-level failures: the server cannot be reached or the connection broke. */
const UNREACHABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
]);

/**
 * SQLSTATEs meaning "no usable database right now" (connection exceptions, shutdown, statement timeout, no slots,
 * bad login).
 */
function isUnavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '57014' ||
    code === '53300' ||
    code === '28000' ||
    code === '28P01' ||
    code === '3D000'
  );
}

function unavailableReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_ERRNO.has(code) || isUnavailableSqlState(code))) return code;
  // AggregateError from happy-eyeballs connects carries the per-address errors.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const reason = unavailableReason(inner);
      if (reason !== undefined) return reason;
    }
  }
  // pg's own wording for query and pool timeouts and dropped sockets; these carry no code.
  if (/Query read timeout|timeout exceeded when trying to connect|^timeout expired$/i.test(error.message)) {
    return 'timeout';
  }
  if (/Connection terminated|Connection ended|connection timeout|not queryable/i.test(error.message)) {
    return 'connection-lost';
  }
  return undefined;
}

/**
 * Turns driver failures that mean "the database is unreachable" into `ERR_STORE_UNAVAILABLE`. The message and
 * details name only the failure kind: a pg error can echo host, user or (for some URL parse errors) the
 * connection string, so neither the original message nor the error itself is attached as `cause`.
 */
export function mapPostgresError(error: unknown): unknown {
  if (error instanceof TesseraError) return error;
  const reason = unavailableReason(error);
  if (reason !== undefined) {
    return new TesseraError('ERR_STORE_UNAVAILABLE', `The PostgreSQL store is unavailable (${reason}).`, {
      details: { reason },
    });
  }
  return error;
}

/** Fails fast on a malformed URL; Node's URL error would carry the input (and so the password) along. */
function assertPostgresUrl(connectionString: string): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(connectionString).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The PostgreSQL connection string must be a postgres:// URL.', {
      target: 'connectionString',
    });
  }
}

/**
 * A {@link Store} on PostgreSQL through a `pg` connection pool: many stateless server processes can share it.
 * Nothing connects until the first call; call `migrate()` at startup. Unreachable-database failures surface as
 * `TesseraError('ERR_STORE_UNAVAILABLE')`.
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'The PostgreSQL schema name must be a plain identifier.', {
      target: 'schema',
    });
  }
  assertPostgresUrl(options.connectionString);
  const s = `"${schema}"`;
  const channel = postgresEventChannel(schema);
  const queryTimeout = options.pool?.queryTimeoutMillis ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.pool?.max ?? 10,
    connectionTimeoutMillis: options.pool?.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: options.pool?.idleTimeoutMillis ?? 30_000,
    // A frozen peer never answers: the client-side bound ends the wait and discards the connection (pool.query
    // releases it with the error); the server-side one stops a statement stuck on a lock. Keep-alive finds
    // connections whose peer vanished while idle.
    query_timeout: queryTimeout,
    statement_timeout: queryTimeout,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'tessera',
  });
  // An idle client whose server went away emits here; without a listener that would crash the process.
  // The next query fails on its own and is mapped to ERR_STORE_UNAVAILABLE, so there is nothing to do now.
  pool.on('error', () => {});
  let closed = false;

  async function query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await pool.query<R>(text, values);
    } catch (error) {
      throw mapPostgresError(error);
    }
  }

  // Migrations may rewrite large tables: their own connection, without the per-query bound (made on first use).
  const migrationPool = new pg.Pool({
    connectionString: options.connectionString,
    max: 1,
    connectionTimeoutMillis: options.pool?.connectionTimeoutMillis ?? 5000,
    idleTimeoutMillis: 1000,
    application_name: 'tessera-migrate',
  });
  migrationPool.on('error', () => {});

  async function transaction<T>(
    work: (client: pg.PoolClient) => Promise<T>,
    begin = 'BEGIN',
    from: pg.Pool = pool,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await from.connect();
    } catch (error) {
      throw mapPostgresError(error);
    }
    let broken = false;
    // A checked-out client has no listener of its own: a connection dropped mid-transaction would emit an
    // unhandled 'error' and end the process. The failing query rejects as well, and that is what is answered.
    const onLost = () => {
      broken = true;
    };
    client.on('error', onLost);
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      const mapped = mapPostgresError(error);
      // A connection that timed out or broke is discarded: a ROLLBACK would only queue behind the stuck query.
      if (isTesseraError(mapped, 'ERR_STORE_UNAVAILABLE')) broken = true;
      else {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      throw mapped;
    } finally {
      client.off('error', onLost);
      client.release(broken);
    }
  }

  /**
   * Appends an event inside the caller's transaction. The seq comes from a single-row counter rather than a
   * bigserial: `UPDATE … RETURNING` row-locks the counter until this transaction ends, so event-writing
   * transactions commit one at a time in seq order. A follower polling `seq > last` therefore never sees
   * seq N+1 before N is visible (with a sequence, N could commit after N+1 and be skipped forever), and a
   * rolled-back transaction gives its number back, so seqs have no gaps. The counter is taken last, after
   * the identity / key row, so lock order is fixed and only the final statements of a write are serialised.
   * A NOTIFY with the seq is delivered at commit, in commit order, for processes that LISTEN.
   */
  async function appendEvent(
    client: pg.PoolClient,
    event:
      | { type: 'identity.revoked' | 'identity.deleted'; at: number; identityId: string; epoch: number }
      | { type: 'key.regenerated'; at: number; keyName: AccessKeyName; version: number },
  ): Promise<number> {
    const counter = await client.query<{ seq: string }>(
      `UPDATE ${s}.event_counter SET seq = seq + 1 WHERE singleton RETURNING seq`,
    );
    const seq = counter.rows[0]?.seq;
    if (seq === undefined) throw new TesseraError('ERR_INTERNAL', 'The event counter is missing; run migrate().');
    if (event.type === 'key.regenerated') {
      await client.query(`INSERT INTO ${s}.events (seq, at, type, key_name, version) VALUES ($1, $2, $3, $4, $5)`, [
        seq,
        event.at,
        event.type,
        event.keyName,
        event.version,
      ]);
    } else {
      await client.query(`INSERT INTO ${s}.events (seq, at, type, identity_id, epoch) VALUES ($1, $2, $3, $4, $5)`, [
        seq,
        event.at,
        event.type,
        event.identityId,
        event.epoch,
      ]);
    }
    await client.query('SELECT pg_notify($1, $2)', [channel, seq]);
    return Number(seq);
  }

  /**
   * Bumps the roles version inside the caller's transaction and NOTIFYs at commit, so every process's watcher
   * reloads role assignments at once (the poll catches up if a notification is missed).
   */
  async function bumpRolesVersion(client: pg.PoolClient): Promise<void> {
    await client.query(`UPDATE ${s}.roles_state SET version = version + 1 WHERE singleton`);
    await client.query('SELECT pg_notify($1, $2)', [channel, 'roles']);
  }

  async function findIdentity(where: string, value: string): Promise<IdentityRecord | undefined> {
    const result = await query<IdentityRow>(`SELECT ${IDENTITY_COLUMNS} FROM ${s}.identities WHERE ${where}`, [value]);
    const row = result.rows[0];
    return row === undefined ? undefined : toIdentity(row);
  }

  /** Someone else's identity already answers this create (same request key, or same live customId). */
  async function findExisting(input: CreateIdentityInput): Promise<IdentityRecord | undefined> {
    if (input.requestKey !== undefined) {
      const byKey = await findIdentity('request_key = $1', input.requestKey);
      if (byKey !== undefined) return byKey;
    }
    if (input.customId !== undefined) {
      return findIdentity('custom_id = $1 AND deleted_at IS NULL', input.customId);
    }
    return undefined;
  }

  /** Tombstone or revoke: bump the epoch of a live identity and append the event, atomically. */
  async function bumpEpoch(
    id: string,
    at: number,
    type: 'identity.revoked' | 'identity.deleted',
  ): Promise<IdentityRecord | undefined> {
    // A tombstone gives its customId up, so a new identity can take it (the same as the SQLite store).
    const setDeleted = type === 'identity.deleted' ? ', deleted_at = $2, custom_id = NULL' : '';
    const updated = await transaction(async (client) => {
      const result = await client.query<IdentityRow>(
        `UPDATE ${s}.identities SET epoch = epoch + 1, revoked_at = GREATEST(revoked_at, $2)${setDeleted}
         WHERE id = $1 AND deleted_at IS NULL RETURNING ${IDENTITY_COLUMNS}`,
        [id, at],
      );
      const row = result.rows[0];
      if (row === undefined) return undefined;
      const identity = toIdentity(row);
      await appendEvent(client, { type, at, identityId: identity.id, epoch: identity.epoch });
      return identity;
    });
    // Unknown, or already deleted: report what is stored, unchanged.
    return updated ?? findIdentity('id = $1', id);
  }

  return {
    async migrate() {
      await transaction(
        async (client) => {
          // Transaction-scoped: released at COMMIT/ROLLBACK, so a crashed migrator never leaves it held.
          await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
          await client.query(
            `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
          );
          const applied = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
          const done = new Set(applied.rows.map((row) => row.version));
          for (const migration of MIGRATIONS) {
            if (done.has(migration.version)) continue;
            await client.query(migration.sql.replaceAll('{s}', s));
            await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [migration.version]);
          }
        },
        'BEGIN',
        migrationPool,
      );
    },

    async ping() {
      await query('SELECT 1');
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([pool.end(), migrationPool.end()]);
    },

    async getResource() {
      const result = await query<ResourceRow>(`SELECT resource_id, location, created_at FROM ${s}.resource`);
      const row = result.rows[0];
      return row === undefined ? undefined : toResource(row);
    },

    async initResource(resource, keys, signingKey) {
      return transaction(async (client) => {
        // A concurrent first start blocks on the singleton key until the winner commits, then does nothing.
        const inserted = await client.query<ResourceRow>(
          `INSERT INTO ${s}.resource (singleton, resource_id, location, created_at) VALUES (true, $1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING resource_id, location, created_at`,
          [resource.resourceId, resource.location, resource.createdAt],
        );
        const row = inserted.rows[0];
        if (row === undefined) {
          const existing = await client.query<ResourceRow>(
            `SELECT resource_id, location, created_at FROM ${s}.resource`,
          );
          const stored = existing.rows[0];
          if (stored === undefined) throw new TesseraError('ERR_INTERNAL', 'The resource vanished during start-up.');
          return { resource: toResource(stored), created: false };
        }
        for (const key of keys) {
          await client.query(
            `INSERT INTO ${s}.access_keys (name, version, secret, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING`,
            [key.name, key.version, key.secret, key.updatedAt],
          );
        }
        await client.query(
          `INSERT INTO ${s}.signing_keys (kid, alg, private_key, public_jwk, created_at, status, activates_at)
           VALUES ($1, $2, $3, $4, $5, 'active', $6) ON CONFLICT (kid) DO NOTHING`,
          [
            signingKey.kid,
            signingKey.alg,
            signingKey.privateKey,
            signingKey.publicJwk,
            signingKey.createdAt,
            signingKey.activatesAt,
          ],
        );
        return { resource: toResource(row), created: true };
      });
    },

    async listAccessKeys() {
      const result = await query<AccessKeyRow>(
        `SELECT name, version, secret, updated_at FROM ${s}.access_keys ORDER BY name`,
      );
      return result.rows.map(toAccessKey);
    },

    async regenerateAccessKey(name, secret, at) {
      return transaction(async (client) => {
        const result = await client.query<AccessKeyRow>(
          `UPDATE ${s}.access_keys SET version = version + 1, secret = $2, updated_at = $3
           WHERE name = $1 RETURNING name, version, secret, updated_at`,
          [name, secret, at],
        );
        const row = result.rows[0];
        if (row === undefined) {
          throw new TesseraError('ERR_VALIDATION', `Access key '${name}' does not exist.`, { target: 'key' });
        }
        const key = toAccessKey(row);
        await appendEvent(client, { type: 'key.regenerated', at, keyName: key.name, version: key.version });
        return key;
      });
    },

    async listSigningKeys() {
      const result = await query<SigningKeyRow>(
        `SELECT ${SIGNING_KEY_COLUMNS} FROM ${s}.signing_keys ORDER BY created_at, kid`,
      );
      return result.rows.map(toSigningKey);
    },

    async addSigningKey(key) {
      await transaction(async (client) => {
        // Self-conflicting lock: two concurrent rollovers run one after the other, so exactly one key stays
        // active. Readers (JWKS) are not blocked.
        await client.query(`LOCK TABLE ${s}.signing_keys IN SHARE ROW EXCLUSIVE MODE`);
        await client.query(
          `UPDATE ${s}.signing_keys SET status = 'retired', retired_at = $1 WHERE status = 'active' AND kid <> $2`,
          [key.activatesAt, key.kid],
        );
        await client.query(
          `INSERT INTO ${s}.signing_keys (kid, alg, private_key, public_jwk, created_at, status, activates_at)
           VALUES ($1, $2, $3, $4, $5, 'active', $6)
           ON CONFLICT (kid) DO UPDATE SET status = 'active', retired_at = NULL`,
          [key.kid, key.alg, key.privateKey, key.publicJwk, key.createdAt, key.activatesAt],
        );
        // Delivered at commit: every process reloads its signing keys and JWKS.
        await client.query('SELECT pg_notify($1, $2)', [channel, SIGNING_KEYS_NOTICE]);
      });
    },

    async resealSecrets(secrets) {
      return transaction(async (client) => {
        let replaced = 0;
        for (const secret of secrets) {
          const result =
            secret.kind === 'accessKey'
              ? await client.query(`UPDATE ${s}.access_keys SET secret = $1 WHERE name = $2 AND secret = $3`, [
                  secret.to,
                  secret.name,
                  secret.from,
                ])
              : await client.query(
                  `UPDATE ${s}.signing_keys SET private_key = $1 WHERE kid = $2 AND private_key = $3`,
                  [secret.to, secret.name, secret.from],
                );
          replaced += result.rowCount ?? 0;
        }
        return replaced;
      });
    },

    async eventsPrunedThrough() {
      const result = await query<{ through: string }>(`SELECT events_through AS through FROM ${s}.prune_state`);
      return Number(result.rows[0]?.through ?? 0);
    },

    async prune(input) {
      return transaction(async (client) => {
        // One pruner at a time per schema; the others skip this round (the lock ends with the transaction).
        const lock = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked',
          [PRUNE_LOCK_CLASS, schema],
        );
        if (lock.rows[0]?.locked !== true) {
          return { revocations: 0, tombstones: 0, events: 0, audit: 0, signingKeys: 0, skipped: true };
        }
        const before = input.revocationsBefore;
        // The outer conditions repeat the inner ones: a row revoked again meanwhile is re-checked and kept.
        const tombstones = await client.query(
          `DELETE FROM ${s}.identities WHERE id IN (
             SELECT id FROM ${s}.identities WHERE revoked_at < $1 AND deleted_at IS NOT NULL ORDER BY revoked_at LIMIT $2)
           AND revoked_at < $1 AND deleted_at IS NOT NULL`,
          [before, input.batch],
        );
        const revocations = await client.query(
          `UPDATE ${s}.identities SET revoked_at = NULL WHERE id IN (
             SELECT id FROM ${s}.identities WHERE revoked_at < $1 AND deleted_at IS NULL ORDER BY revoked_at LIMIT $2)
           AND revoked_at < $1 AND deleted_at IS NULL`,
          [before, input.batch],
        );
        const events = await client.query<{ n: string; through: string | null }>(
          `WITH gone AS (
             DELETE FROM ${s}.events WHERE seq IN (SELECT seq FROM ${s}.events WHERE at < $1 ORDER BY at LIMIT $2)
             RETURNING seq)
           SELECT count(*) AS n, max(seq) AS through FROM gone`,
          [before, input.batch],
        );
        const through = events.rows[0]?.through ?? null;
        if (through !== null) {
          await client.query(
            `UPDATE ${s}.prune_state SET events_through = GREATEST(events_through, $1) WHERE singleton`,
            [through],
          );
        }
        const audit =
          input.auditBefore === undefined
            ? undefined
            : await client.query(
                `DELETE FROM ${s}.audit WHERE seq IN (SELECT seq FROM ${s}.audit WHERE at < $1 ORDER BY at LIMIT $2)`,
                [input.auditBefore, input.batch],
              );
        const keys = await client.query(`DELETE FROM ${s}.signing_keys WHERE status = 'retired' AND retired_at < $1`, [
          input.signingKeysBefore,
        ]);
        if ((keys.rowCount ?? 0) > 0) await client.query('SELECT pg_notify($1, $2)', [channel, SIGNING_KEYS_NOTICE]);
        return {
          revocations: revocations.rowCount ?? 0,
          tombstones: tombstones.rowCount ?? 0,
          events: Number(events.rows[0]?.n ?? 0),
          audit: audit?.rowCount ?? 0,
          signingKeys: keys.rowCount ?? 0,
          skipped: false,
        };
      });
    },

    async createIdentity(input): Promise<CreateIdentityResult> {
      // Insert-first would burn no round trip on the common path, but looking first keeps retried creates
      // (the idempotent case) read-only. A concurrent twin is caught by ON CONFLICT and looked up again.
      for (let attempt = 0; attempt < 5; attempt++) {
        const existing = await findExisting(input);
        if (existing !== undefined) return { identity: existing, created: false };
        const inserted = await query<IdentityRow>(
          `INSERT INTO ${s}.identities (id, custom_id, request_key, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING ${IDENTITY_COLUMNS}`,
          [input.id, input.customId ?? null, input.requestKey ?? null, input.createdAt],
        );
        const row = inserted.rows[0];
        if (row !== undefined) return { identity: toIdentity(row), created: true };
        // Conflict on customId or request key with a row committed meanwhile: loop to return it. A conflict on
        // the id alone means the caller reused an id — not a state retrying can fix.
        if (input.customId === undefined && input.requestKey === undefined) break;
      }
      throw new TesseraError('ERR_INTERNAL', 'Could not create the identity: its id is already taken.');
    },

    async getIdentity(id) {
      return findIdentity('id = $1', id);
    },

    async listIdentities(filter) {
      const result = await query<IdentityRow>(
        `SELECT ${IDENTITY_COLUMNS} FROM ${s}.identities
         WHERE deleted_at IS NULL AND id > $1 AND ($2::text IS NULL OR custom_id = $2) ORDER BY id LIMIT $3`,
        [filter.afterId ?? '', filter.customId ?? null, filter.limit],
      );
      return result.rows.map(toIdentity);
    },

    async deleteIdentity(id, at) {
      return bumpEpoch(id, at, 'identity.deleted');
    },

    async revokeIdentityTokens(id, at) {
      return bumpEpoch(id, at, 'identity.revoked');
    },

    async recordTokensIssued(entries) {
      if (entries.length === 0) return;
      // One statement: collapse duplicates to their latest time, lock target rows in id order (so two
      // overlapping batches cannot deadlock), skip rows already at or past that time, then keep the later time.
      await query(
        `WITH batch AS (
           SELECT id, max(at) AS at FROM unnest($1::text[], $2::bigint[]) AS t(id, at) GROUP BY id
         ), locked AS (
           SELECT i.id, batch.at FROM ${s}.identities i JOIN batch ON batch.id = i.id
           WHERE i.last_token_issued_at IS NULL OR i.last_token_issued_at < batch.at
           ORDER BY i.id FOR UPDATE OF i
         )
         UPDATE ${s}.identities i SET last_token_issued_at = GREATEST(i.last_token_issued_at, locked.at)
         FROM locked WHERE i.id = locked.id`,
        [entries.map((entry) => entry.id), entries.map((entry) => entry.at)],
      );
    },

    async listEvents(afterSeq, limit) {
      const result = await query<EventRow>(
        `SELECT seq, at, type, identity_id, epoch, key_name, version FROM ${s}.events
         WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [afterSeq, limit],
      );
      return result.rows.map(toEvent);
    },

    async revocationSnapshot(): Promise<RevocationSnapshot> {
      // One REPEATABLE READ snapshot, so `seq` and the identity list describe the same instant.
      return transaction(async (client) => {
        const counter = await client.query<{ seq: string }>(`SELECT seq FROM ${s}.event_counter`);
        const identities = await client.query<{ id: string; epoch: number; deleted: boolean; at: string }>(
          `SELECT id, epoch, deleted_at IS NOT NULL AS deleted, revoked_at AS at FROM ${s}.identities
           WHERE revoked_at IS NOT NULL ORDER BY id`,
        );
        const keys = await client.query<{ name: string; version: number }>(
          `SELECT name, version FROM ${s}.access_keys`,
        );
        const versions = { primary: 0, secondary: 0 };
        for (const key of keys.rows) {
          if (key.name === 'primary' || key.name === 'secondary') versions[key.name] = key.version;
        }
        return {
          seq: Number(counter.rows[0]?.seq ?? 0),
          identities: identities.rows.map((row) => ({
            id: row.id,
            epoch: row.epoch,
            deleted: row.deleted,
            at: Number(row.at),
          })),
          keys: versions,
        };
      }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    },

    async listRoleAssignments() {
      const result = await query<RoleAssignmentRow>(
        `SELECT ${ASSIGNMENT_COLUMNS} FROM ${s}.role_assignments ORDER BY created_at, id`,
      );
      return result.rows.map(toAssignment);
    },

    async addRoleAssignment(a) {
      return transaction(async (client) => {
        const inserted = await client.query<RoleAssignmentRow>(
          `INSERT INTO ${s}.role_assignments (${ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (role, issuer, principal_type, principal_id) DO NOTHING RETURNING ${ASSIGNMENT_COLUMNS}`,
          [a.id, a.role, a.issuer, a.principalType, a.principalId, a.description ?? null, a.createdAt, a.createdBy],
        );
        const row = inserted.rows[0];
        if (row !== undefined) {
          await bumpRolesVersion(client);
          return { assignment: toAssignment(row), created: true };
        }
        // The conflicting row is committed (ON CONFLICT waited for it), so READ COMMITTED sees it now.
        const existing = await client.query<RoleAssignmentRow>(
          `SELECT ${ASSIGNMENT_COLUMNS} FROM ${s}.role_assignments
           WHERE role = $1 AND issuer = $2 AND principal_type = $3 AND principal_id = $4`,
          [a.role, a.issuer, a.principalType, a.principalId],
        );
        const found = existing.rows[0];
        if (found === undefined) throw new TesseraError('ERR_INTERNAL', 'A conflicting role assignment vanished.');
        return { assignment: toAssignment(found), created: false };
      });
    },

    async removeRoleAssignment(id) {
      return transaction(async (client) => {
        const result = await client.query(`DELETE FROM ${s}.role_assignments WHERE id = $1`, [id]);
        if ((result.rowCount ?? 0) === 0) return false;
        await bumpRolesVersion(client);
        return true;
      });
    },

    async listRoleDefinitions() {
      const result = await query<RoleDefinitionRow>(
        `SELECT name, description, actions, updated_at FROM ${s}.role_definitions ORDER BY name`,
      );
      return result.rows.map(toRoleDefinition);
    },

    async putRoleDefinition(role) {
      await transaction(async (client) => {
        await client.query(
          `INSERT INTO ${s}.role_definitions (name, description, actions, updated_at) VALUES ($1, $2, $3::jsonb, $4)
           ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, actions = EXCLUDED.actions,
           updated_at = EXCLUDED.updated_at`,
          [role.name, role.description ?? null, JSON.stringify(role.actions), role.updatedAt],
        );
        await bumpRolesVersion(client);
      });
    },

    async removeRoleDefinition(name) {
      return transaction(async (client) => {
        // Lock the definition first so the "still assigned?" answer holds until commit.
        const locked = await client.query(`SELECT name FROM ${s}.role_definitions WHERE name = $1 FOR UPDATE`, [name]);
        if ((locked.rowCount ?? 0) === 0) return 'unknown' as const;
        const used = await client.query(`SELECT 1 FROM ${s}.role_assignments WHERE role = $1 LIMIT 1`, [name]);
        if ((used.rowCount ?? 0) > 0) return 'assigned' as const;
        await client.query(`DELETE FROM ${s}.role_definitions WHERE name = $1`, [name]);
        await bumpRolesVersion(client);
        return 'removed' as const;
      });
    },

    async rolesVersion() {
      const result = await query<{ version: string }>(`SELECT version FROM ${s}.roles_state WHERE singleton`);
      return Number(result.rows[0]?.version ?? 0);
    },

    async appendAudit(entries) {
      if (entries.length === 0) return;
      // One statement for the whole batch; WITH ORDINALITY keeps the given order in the seq.
      await query(
        `INSERT INTO ${s}.audit (at, actor, operation, identity_id, outcome, status, code, request_id, detail)
         SELECT at, actor, operation, identity_id, outcome, status, code, request_id, detail
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[],
                     $9::text[]) WITH ORDINALITY
           AS t(at, actor, operation, identity_id, outcome, status, code, request_id, detail, n)
         ORDER BY n`,
        [
          entries.map((e) => e.at),
          entries.map((e) => e.actor),
          entries.map((e) => e.operation),
          entries.map((e) => e.identityId ?? null),
          entries.map((e) => e.outcome),
          entries.map((e) => e.status),
          entries.map((e) => e.code ?? null),
          entries.map((e) => e.requestId),
          entries.map((e) => e.detail ?? null),
        ],
      );
    },

    async listAudit(filter) {
      const where: string[] = [];
      const values: unknown[] = [];
      if (filter.identityId !== undefined) {
        values.push(filter.identityId);
        where.push(`identity_id = $${values.length}`);
      }
      if (filter.since !== undefined) {
        values.push(filter.since);
        where.push(`at >= $${values.length}`);
      }
      if (filter.beforeSeq !== undefined) {
        values.push(filter.beforeSeq);
        where.push(`seq < $${values.length}`);
      }
      values.push(filter.limit);
      const result = await query<AuditRow>(
        `SELECT seq, at, actor, operation, identity_id, outcome, status, code, request_id, detail FROM ${s}.audit
         ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY seq DESC LIMIT $${values.length}`,
        values,
      );
      return result.rows.map(toAudit);
    },
  };
}
