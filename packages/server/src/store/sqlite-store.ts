import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TesseraError } from '@tessera/core';
import type {
  AccessKeyName,
  AccessKeyRecord,
  AuditEntry,
  AuditQuery,
  AuditRecord,
  CreateIdentityInput,
  CreateIdentityResult,
  PruneInput,
  PruneResult,
  ResealedSecret,
  ResourceRecord,
  RevocationSnapshot,
  RoleAssignmentRecord,
  RoleDefinitionRecord,
  SigningKeyRecord,
  Store,
} from './store.js';
import {
  toAccessKey,
  toAssignment,
  toAudit,
  toEvent,
  toIdentity,
  toRoleDefinition,
  toSigningKey,
  type AccessKeyRow,
  type AuditRow,
  type EventRow,
  type IdentityRow,
  type RoleAssignmentRow,
  type RoleDefinitionRow,
  type SigningKeyRow,
} from './rows.js';
import { createPrivateFile, makePrivateDir } from './private-files.js';

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file; its folder is created if missing. */
  path: string;
  /**
   * `full` (default) fsyncs the WAL on every commit: durable across power loss. `normal` is durable across
   * process crashes (kill -9) but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  /**
   * SQLite's page cache for this connection, in MiB. Default {@link DEFAULT_SQLITE_CACHE_MB}: the operating system
   * caches the file as well, so a small cache costs a system call per miss, not a disk read, while better-sqlite3's
   * own default (16 MiB) is resident memory once a large table has been read through (docs/scaling.md).
   */
  cacheMb?: number;
}

/** SQLite page cache per process, MiB (the identity cache in front of it serves the issue path). */
export const DEFAULT_SQLITE_CACHE_MB = 4;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE resource (
     resource_id TEXT PRIMARY KEY, location TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE access_keys (
     name TEXT PRIMARY KEY, version INTEGER NOT NULL, secret TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY, alg TEXT NOT NULL, private_key TEXT NOT NULL, public_jwk TEXT NOT NULL,
     created_at INTEGER NOT NULL, status TEXT NOT NULL);
   CREATE TABLE identities (
     id TEXT PRIMARY KEY, custom_id TEXT, created_at INTEGER NOT NULL, deleted_at INTEGER,
     epoch INTEGER NOT NULL DEFAULT 0, last_token_issued_at INTEGER) WITHOUT ROWID;
   CREATE UNIQUE INDEX identities_custom_id ON identities (custom_id) WHERE custom_id IS NOT NULL;
   CREATE INDEX identities_revoked ON identities (id) WHERE epoch > 0 OR deleted_at IS NOT NULL;
   CREATE TABLE request_keys (
     request_key TEXT PRIMARY KEY, identity_id TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL,
     identity_id TEXT, epoch INTEGER, key_name TEXT, version INTEGER);`,
  `CREATE TABLE role_assignments (
     id TEXT PRIMARY KEY, role TEXT NOT NULL, issuer TEXT NOT NULL, principal_type TEXT NOT NULL,
     principal_id TEXT NOT NULL, description TEXT, created_at INTEGER NOT NULL, created_by TEXT NOT NULL);
   CREATE UNIQUE INDEX role_assignments_principal ON role_assignments (role, issuer, principal_type, principal_id);
   CREATE TABLE role_definitions (
     name TEXT PRIMARY KEY, description TEXT, actions TEXT NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE roles_state (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL);
   INSERT INTO roles_state (singleton, version) VALUES (1, 0);
   CREATE TABLE audit (
     seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, operation TEXT NOT NULL,
     identity_id TEXT, outcome TEXT NOT NULL, status INTEGER NOT NULL, code TEXT, request_id TEXT NOT NULL,
     detail TEXT);
   CREATE INDEX audit_at ON audit (at);
   CREATE INDEX audit_identity ON audit (identity_id, seq) WHERE identity_id IS NOT NULL;`,
  // Bounded state (docs/state-and-retention.md): when each revocation entry was made, so it can be pruned once every
  // token it revokes has expired; signing keys with activation and retirement times; how far events were pruned.
  `ALTER TABLE identities ADD COLUMN revoked_at INTEGER;
   UPDATE identities SET revoked_at = COALESCE(deleted_at, created_at) WHERE epoch > 0 OR deleted_at IS NOT NULL;
   UPDATE identities SET revoked_at = MAX(COALESCE(identities.revoked_at, 0), e.at)
     FROM (SELECT identity_id, MAX(at) AS at FROM events WHERE identity_id IS NOT NULL GROUP BY identity_id) AS e
     WHERE e.identity_id = identities.id;
   DROP INDEX identities_revoked;
   CREATE INDEX identities_revoked_at ON identities (revoked_at) WHERE revoked_at IS NOT NULL;
   CREATE INDEX request_keys_identity ON request_keys (identity_id);
   CREATE INDEX events_at ON events (at);
   ALTER TABLE signing_keys ADD COLUMN activates_at INTEGER;
   ALTER TABLE signing_keys ADD COLUMN retired_at INTEGER;
   UPDATE signing_keys SET activates_at = created_at;
   UPDATE signing_keys SET retired_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
     WHERE status = 'retired';
   CREATE TABLE prune_state (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), events_through INTEGER NOT NULL);
   INSERT INTO prune_state (singleton, events_through) VALUES (1, 0);`,
];

/**
 * The embedded SQLite store (better-sqlite3, WAL). Calls are synchronous underneath and return settled
 * promises, so each method is one atomic transaction and a resolved write is on disk.
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  try {
    if (options.path !== ':memory:') {
      makePrivateDir(dirname(options.path));
      createPrivateFile(options.path); // 0600, and SQLite gives its -wal / -shm the same mode
    }
  } catch (cause) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --store: cannot create the folder of ${options.path}.`, {
      target: 'store',
      cause,
    });
  }
  let db: Database.Database;
  try {
    db = new Database(options.path, { timeout: 5000 });
  } catch (cause) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --store: cannot open the SQLite database ${options.path}.`, {
      cause,
      target: 'store',
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  // Negative: a size in KiB rather than pages.
  db.pragma(`cache_size = ${-Math.round((options.cacheMb ?? DEFAULT_SQLITE_CACHE_MB) * 1024)}`);

  const migrate = (): void => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const tx = db.transaction(() => {
      const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
      for (let v = (row.v ?? 0) + 1; v <= MIGRATIONS.length; v++) {
        db.exec(MIGRATIONS[v - 1] ?? '');
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(v, Date.now());
      }
    });
    // IMMEDIATE takes the write lock first, so processes starting together migrate one after the other.
    tx.immediate();
  };
  migrate();

  const q = {
    getIdentity: db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE id = ?'),
    byCustomId: db.prepare<[string], IdentityRow>('SELECT * FROM identities WHERE custom_id = ?'),
    listIdentities: db.prepare<[string, string | null, string | null, number], IdentityRow>(
      `SELECT * FROM identities WHERE deleted_at IS NULL AND id > ? AND (? IS NULL OR custom_id = ?)
       ORDER BY id LIMIT ?`,
    ),
    byRequestKey: db.prepare<[string], { identity_id: string }>(
      'SELECT identity_id FROM request_keys WHERE request_key = ?',
    ),
    insertIdentity: db.prepare('INSERT INTO identities (id, custom_id, created_at) VALUES (?, ?, ?)'),
    insertRequestKey: db.prepare('INSERT INTO request_keys (request_key, identity_id, created_at) VALUES (?, ?, ?)'),
    bumpEpoch: db.prepare(
      'UPDATE identities SET epoch = epoch + 1, revoked_at = MAX(COALESCE(revoked_at, 0), ?) WHERE id = ?',
    ),
    tombstone: db.prepare(
      `UPDATE identities SET deleted_at = ?, revoked_at = MAX(COALESCE(revoked_at, 0), ?), custom_id = NULL,
       epoch = epoch + 1 WHERE id = ?`,
    ),
    insertEvent: db.prepare(
      'INSERT INTO events (at, type, identity_id, epoch, key_name, version) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    touch: db.prepare(
      'UPDATE identities SET last_token_issued_at = MAX(COALESCE(last_token_issued_at, 0), ?) WHERE id = ?',
    ),
    events: db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
    // Pruning may have removed every event: the last seq is then the pruning mark.
    lastSeq: db.prepare<[], { s: number | null }>(
      'SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0), (SELECT events_through FROM prune_state)) AS s',
    ),
    revoked: db.prepare<[], { id: string; epoch: number; deleted_at: number | null; revoked_at: number }>(
      'SELECT id, epoch, deleted_at, revoked_at FROM identities WHERE revoked_at IS NOT NULL',
    ),
    prunedThrough: db.prepare<[], { t: number }>('SELECT events_through AS t FROM prune_state'),
    staleRevocations: db.prepare<[number, number], { id: string; deleted: number }>(
      `SELECT id, deleted_at IS NOT NULL AS deleted FROM identities
       WHERE revoked_at IS NOT NULL AND revoked_at < ? ORDER BY revoked_at LIMIT ?`,
    ),
    forgetRevocation: db.prepare('UPDATE identities SET revoked_at = NULL WHERE id = ?'),
    dropRequestKeys: db.prepare('DELETE FROM request_keys WHERE identity_id = ?'),
    dropIdentity: db.prepare('DELETE FROM identities WHERE id = ?'),
    staleEvents: db.prepare<[number, number], { seq: number }>(
      'SELECT seq FROM events WHERE at < ? ORDER BY at LIMIT ?',
    ),
    dropEvent: db.prepare('DELETE FROM events WHERE seq = ?'),
    markPruned: db.prepare('UPDATE prune_state SET events_through = MAX(events_through, ?) WHERE singleton = 1'),
    dropAudit: db.prepare('DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE at < ? ORDER BY at LIMIT ?)'),
    dropSigningKeys: db.prepare("DELETE FROM signing_keys WHERE status = 'retired' AND retired_at < ?"),
    resealAccessKey: db.prepare('UPDATE access_keys SET secret = ? WHERE name = ? AND secret = ?'),
    resealSigningKey: db.prepare('UPDATE signing_keys SET private_key = ? WHERE kid = ? AND private_key = ?'),
    keys: db.prepare<[], AccessKeyRow>('SELECT * FROM access_keys ORDER BY name'),
    key: db.prepare<[string], AccessKeyRow>('SELECT * FROM access_keys WHERE name = ?'),
    insertKey: db.prepare('INSERT INTO access_keys (name, version, secret, updated_at) VALUES (?, ?, ?, ?)'),
    regenKey: db.prepare('UPDATE access_keys SET version = version + 1, secret = ?, updated_at = ? WHERE name = ?'),
    resource: db.prepare<[], { resource_id: string; location: string; created_at: number }>(
      'SELECT * FROM resource LIMIT 1',
    ),
    insertResource: db.prepare('INSERT INTO resource (resource_id, location, created_at) VALUES (?, ?, ?)'),
    signingKeys: db.prepare<[], SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at, kid'),
    retireSigningKeys: db.prepare("UPDATE signing_keys SET status = 'retired', retired_at = ? WHERE status = 'active'"),
    insertSigningKey: db.prepare(
      `INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, status, activates_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    assignments: db.prepare<[], RoleAssignmentRow>('SELECT * FROM role_assignments ORDER BY created_at, id'),
    assignmentByPrincipal: db.prepare<[string, string, string, string], RoleAssignmentRow>(
      'SELECT * FROM role_assignments WHERE role = ? AND issuer = ? AND principal_type = ? AND principal_id = ?',
    ),
    insertAssignment: db.prepare(
      `INSERT INTO role_assignments (id, role, issuer, principal_type, principal_id, description, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteAssignment: db.prepare('DELETE FROM role_assignments WHERE id = ?'),
    assignmentsOfRole: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM role_assignments WHERE role = ?'),
    roleDefinitions: db.prepare<[], RoleDefinitionRow>('SELECT * FROM role_definitions ORDER BY name'),
    upsertRoleDefinition: db.prepare(
      `INSERT INTO role_definitions (name, description, actions, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET description = excluded.description, actions = excluded.actions,
       updated_at = excluded.updated_at`,
    ),
    deleteRoleDefinition: db.prepare('DELETE FROM role_definitions WHERE name = ?'),
    bumpRoles: db.prepare('UPDATE roles_state SET version = version + 1 WHERE singleton = 1'),
    rolesVersion: db.prepare<[], { version: number }>('SELECT version FROM roles_state WHERE singleton = 1'),
    insertAudit: db.prepare(
      `INSERT INTO audit (at, actor, operation, identity_id, outcome, status, code, request_id, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };

  const readResource = (): ResourceRecord | undefined => {
    const row = q.resource.get();
    return row === undefined
      ? undefined
      : { resourceId: row.resource_id, location: row.location, createdAt: row.created_at };
  };

  const createIdentityTx = db.transaction((input: CreateIdentityInput): CreateIdentityResult => {
    if (input.requestKey !== undefined) {
      const seen = q.byRequestKey.get(input.requestKey);
      const existing = seen === undefined ? undefined : q.getIdentity.get(seen.identity_id);
      if (existing !== undefined) return { identity: toIdentity(existing), created: false };
    }
    if (input.customId !== undefined) {
      const existing = q.byCustomId.get(input.customId);
      if (existing !== undefined) return { identity: toIdentity(existing), created: false };
    }
    q.insertIdentity.run(input.id, input.customId ?? null, input.createdAt);
    if (input.requestKey !== undefined) q.insertRequestKey.run(input.requestKey, input.id, input.createdAt);
    const row = q.getIdentity.get(input.id);
    if (row === undefined) throw new TesseraError('ERR_INTERNAL', 'Inserted identity not found.');
    return { identity: toIdentity(row), created: true };
  });

  const changeIdentityTx = db.transaction((id: string, at: number, kind: 'deleted' | 'revoked') => {
    const before = q.getIdentity.get(id);
    if (before === undefined) return undefined;
    if (before.deleted_at !== null) return toIdentity(before);
    if (kind === 'deleted') q.tombstone.run(at, at, id);
    else q.bumpEpoch.run(at, id);
    const after = q.getIdentity.get(id);
    if (after === undefined) return undefined;
    q.insertEvent.run(at, `identity.${kind}`, id, after.epoch, null, null);
    return toIdentity(after);
  });

  const regenTx = db.transaction((name: AccessKeyName, secret: string, at: number): AccessKeyRecord => {
    if (q.regenKey.run(secret, at, name).changes === 0) {
      throw new TesseraError('ERR_VALIDATION', `Access key '${name}' does not exist.`, { target: 'key' });
    }
    const row = q.key.get(name);
    if (row === undefined) throw new TesseraError('ERR_INTERNAL', 'Regenerated key not found.');
    q.insertEvent.run(at, 'key.regenerated', null, null, name, row.version);
    return toAccessKey(row);
  });

  const touchTx = db.transaction((entries: ReadonlyArray<{ readonly id: string; readonly at: number }>) => {
    for (const e of entries) q.touch.run(e.at, e.id);
  });

  const initTx = db.transaction(
    (resource: ResourceRecord, keys: readonly AccessKeyRecord[], signingKey: SigningKeyRecord) => {
      const existing = readResource();
      if (existing !== undefined) return { resource: existing, created: false };
      q.insertResource.run(resource.resourceId, resource.location, resource.createdAt);
      for (const k of keys) q.insertKey.run(k.name, k.version, k.secret, k.updatedAt);
      q.insertSigningKey.run(
        signingKey.kid,
        signingKey.alg,
        signingKey.privateKey,
        signingKey.publicJwk,
        signingKey.createdAt,
        signingKey.status,
        signingKey.activatesAt,
      );
      return { resource, created: true };
    },
  );

  const addSigningKeyTx = db.transaction((key: SigningKeyRecord) => {
    q.retireSigningKeys.run(key.activatesAt);
    q.insertSigningKey.run(key.kid, key.alg, key.privateKey, key.publicJwk, key.createdAt, 'active', key.activatesAt);
  });

  const resealTx = db.transaction((secrets: readonly ResealedSecret[]): number => {
    let replaced = 0;
    for (const secret of secrets) {
      const statement = secret.kind === 'accessKey' ? q.resealAccessKey : q.resealSigningKey;
      replaced += statement.run(secret.to, secret.name, secret.from).changes;
    }
    return replaced;
  });

  const pruneTx = db.transaction((input: PruneInput): PruneResult => {
    let revocations = 0;
    let tombstones = 0;
    for (const row of q.staleRevocations.all(input.revocationsBefore, input.batch)) {
      if (row.deleted) {
        q.dropRequestKeys.run(row.id);
        q.dropIdentity.run(row.id);
        tombstones++;
      } else {
        q.forgetRevocation.run(row.id);
        revocations++;
      }
    }
    let through = 0;
    const events = q.staleEvents.all(input.revocationsBefore, input.batch);
    for (const row of events) {
      q.dropEvent.run(row.seq);
      through = Math.max(through, row.seq);
    }
    if (through > 0) q.markPruned.run(through);
    const audit = input.auditBefore === undefined ? 0 : q.dropAudit.run(input.auditBefore, input.batch).changes;
    const signingKeys = q.dropSigningKeys.run(input.signingKeysBefore).changes;
    return { revocations, tombstones, events: events.length, audit, signingKeys, skipped: false };
  });

  const snapshotTx = db.transaction((): RevocationSnapshot => {
    const keys = q.keys.all();
    return {
      seq: q.lastSeq.get()?.s ?? 0,
      identities: q.revoked
        .all()
        .map((r) => ({ id: r.id, epoch: r.epoch, deleted: r.deleted_at !== null, at: r.revoked_at })),
      keys: {
        primary: keys.find((k) => k.name === 'primary')?.version ?? 0,
        secondary: keys.find((k) => k.name === 'secondary')?.version ?? 0,
      },
    };
  });

  // Group commit: creates arriving in the same event-loop turn share one transaction and one fsync.
  // Each create still sees the ones before it (customId and request-key idempotency hold within a batch),
  // and a failing create rolls back only itself (savepoint), never its neighbours.
  type Pending = {
    input: CreateIdentityInput;
    resolve: (r: CreateIdentityResult) => void;
    reject: (e: unknown) => void;
  };
  let queue: Pending[] = [];
  const flushCreates = db.transaction((batch: Pending[]) => {
    const settled: Array<() => void> = [];
    for (const p of batch) {
      try {
        const result = createIdentityTx(p.input);
        settled.push(() => p.resolve(result));
      } catch (error) {
        settled.push(() => p.reject(error));
      }
    }
    return settled;
  });
  const flush = () => {
    const batch = queue;
    queue = [];
    try {
      for (const settle of flushCreates.immediate(batch)) settle();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  };
  const enqueueCreate = (input: CreateIdentityInput): Promise<CreateIdentityResult> =>
    new Promise((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ input, resolve, reject });
    });

  const addAssignmentTx = db.transaction((a: RoleAssignmentRecord) => {
    const existing = q.assignmentByPrincipal.get(a.role, a.issuer, a.principalType, a.principalId);
    if (existing !== undefined) return { assignment: toAssignment(existing), created: false };
    q.insertAssignment.run(
      a.id,
      a.role,
      a.issuer,
      a.principalType,
      a.principalId,
      a.description ?? null,
      a.createdAt,
      a.createdBy,
    );
    q.bumpRoles.run();
    return { assignment: a, created: true };
  });

  const removeAssignmentTx = db.transaction((id: string): boolean => {
    if (q.deleteAssignment.run(id).changes === 0) return false;
    q.bumpRoles.run();
    return true;
  });

  const putRoleTx = db.transaction((role: RoleDefinitionRecord) => {
    q.upsertRoleDefinition.run(role.name, role.description ?? null, JSON.stringify(role.actions), role.updatedAt);
    q.bumpRoles.run();
  });

  const removeRoleTx = db.transaction((name: string): 'removed' | 'unknown' | 'assigned' => {
    if ((q.assignmentsOfRole.get(name)?.n ?? 0) > 0) return 'assigned';
    if (q.deleteRoleDefinition.run(name).changes === 0) return 'unknown';
    q.bumpRoles.run();
    return 'removed';
  });

  const appendAuditTx = db.transaction((entries: readonly AuditEntry[]) => {
    for (const e of entries) {
      q.insertAudit.run(
        e.at,
        e.actor,
        e.operation,
        e.identityId ?? null,
        e.outcome,
        e.status,
        e.code ?? null,
        e.requestId,
        e.detail ?? null,
      );
    }
  });

  const listAudit = (query: AuditQuery): AuditRecord[] => {
    const where: string[] = [];
    const values: Array<string | number> = [];
    if (query.identityId !== undefined) {
      where.push('identity_id = ?');
      values.push(query.identityId);
    }
    if (query.since !== undefined) {
      where.push('at >= ?');
      values.push(query.since);
    }
    if (query.beforeSeq !== undefined) {
      where.push('seq < ?');
      values.push(query.beforeSeq);
    }
    const sql = `SELECT * FROM audit ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY seq DESC LIMIT ?`;
    return db
      .prepare<Array<string | number>, AuditRow>(sql)
      .all(...values, query.limit)
      .map(toAudit);
  };

  // lastTokenIssuedAt and audit batches are best-effort bookkeeping written every second: they commit without an
  // fsync (still safe against a process crash in WAL mode; the next durable commit syncs them too). With an fsync
  // each, the once-a-second batch stalled the event loop for up to ~0.5 s on a busy disk (p99 495 ms → 36 ms).
  const fullSync = options.synchronous !== 'normal';
  const relaxed = <T>(fn: () => T): T => {
    if (!fullSync) return fn();
    db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      db.pragma('synchronous = FULL');
    }
  };

  // Every method runs synchronously; wrapping keeps the async port and turns throws into rejections.
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  };

  return {
    migrate: () => run(migrate),
    ping: () => run(() => void db.prepare('SELECT 1').get()),
    close: () =>
      run(() => {
        if (queue.length > 0 && db.open) flush();
        if (db.open) db.close();
      }),
    getResource: () => run(readResource),
    initResource: (resource, keys, signingKey) => run(() => initTx.immediate(resource, keys, signingKey)),
    listAccessKeys: () => run(() => q.keys.all().map(toAccessKey)),
    regenerateAccessKey: (name, secret, at) => run(() => regenTx.immediate(name, secret, at)),
    listSigningKeys: () => run(() => q.signingKeys.all().map(toSigningKey)),
    addSigningKey: (key) => run(() => addSigningKeyTx.immediate(key)),
    resealSecrets: (secrets) => run(() => resealTx.immediate(secrets)),
    createIdentity: enqueueCreate,
    getIdentity: (id) =>
      run(() => {
        const row = q.getIdentity.get(id);
        return row === undefined ? undefined : toIdentity(row);
      }),
    deleteIdentity: (id, at) => run(() => changeIdentityTx.immediate(id, at, 'deleted')),
    revokeIdentityTokens: (id, at) => run(() => changeIdentityTx.immediate(id, at, 'revoked')),
    recordTokensIssued: (entries) => run(() => relaxed(() => touchTx.immediate(entries))),
    listEvents: (afterSeq, limit) => run(() => q.events.all(afterSeq, limit).map(toEvent)),
    revocationSnapshot: () => run(() => snapshotTx.deferred()),
    eventsPrunedThrough: () => run(() => q.prunedThrough.get()?.t ?? 0),
    prune: (input) => run(() => pruneTx.immediate(input)),
    listRoleAssignments: () => run(() => q.assignments.all().map(toAssignment)),
    addRoleAssignment: (assignment) => run(() => addAssignmentTx.immediate(assignment)),
    removeRoleAssignment: (id) => run(() => removeAssignmentTx.immediate(id)),
    listRoleDefinitions: () => run(() => q.roleDefinitions.all().map(toRoleDefinition)),
    putRoleDefinition: (role) => run(() => putRoleTx.immediate(role)),
    removeRoleDefinition: (name) => run(() => removeRoleTx.immediate(name)),
    rolesVersion: () => run(() => q.rolesVersion.get()?.version ?? 0),
    appendAudit: (entries) =>
      run(() => (entries.length === 0 ? undefined : relaxed(() => appendAuditTx.immediate(entries)))),
    listAudit: (query) => run(() => listAudit(query)),
    listIdentities: (query) =>
      run(() =>
        q.listIdentities
          .all(query.afterId ?? '', query.customId ?? null, query.customId ?? null, query.limit)
          .map(toIdentity),
      ),
  };
}
