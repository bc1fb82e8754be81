import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../src/store/sqlite-store.js';

// Upgrading a SQLite database made before bounded state (schema version 2): the migration dates every existing
// revocation entry by its identity's last event, else its deletion, else its creation, so the first pruning run
// removes nothing that might still matter (docs/state-and-retention.md, "Upgrading").

/** Schema versions 1 and 2 exactly as they shipped. */
const SHIPPED_V1_V2 = [
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
];

const T0 = Date.UTC(2025, 0, 1);
const ID = (n: number) => `8:acs:0c4d5e6f-0000-4000-8000-000000000001_01941f29-7c00-7000-8000-00000000000${n}`;

describe('SQLite store: upgrade from schema version 2', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('dates existing revocation entries and retired signing keys, and prunes by those dates', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-upgrade-'));
    const path = join(dir, 'tessera.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const [i, sql] of SHIPPED_V1_V2.entries()) {
      old.exec(sql);
      old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(i + 1, T0);
    }
    old.exec(`INSERT INTO identities (id, created_at, deleted_at, epoch) VALUES
      ('${ID(1)}', ${T0}, NULL, 2), ('${ID(2)}', ${T0}, ${T0 + 50}, 1), ('${ID(3)}', ${T0}, NULL, 0),
      ('${ID(4)}', ${T0 + 7}, NULL, 1);
      INSERT INTO events (at, type, identity_id, epoch) VALUES (${T0 + 10}, 'identity.revoked', '${ID(1)}', 1),
        (${T0 + 20}, 'identity.revoked', '${ID(1)}', 2), (${T0 + 50}, 'identity.deleted', '${ID(2)}', 1);
      INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, status) VALUES
        ('old', 'ES256', 'sealed', '{}', ${T0}, 'retired'), ('new', 'ES256', 'sealed', '{}', ${T0 + 5}, 'active');`);
    old.close();

    const before = Date.now();
    const store = createSqliteStore({ path });
    try {
      const snapshot = await store.revocationSnapshot();
      expect([...snapshot.identities].sort((a, b) => a.id.localeCompare(b.id))).toStrictEqual([
        { id: ID(1), epoch: 2, deleted: false, at: T0 + 20 },
        { id: ID(2), epoch: 1, deleted: true, at: T0 + 50 },
        { id: ID(4), epoch: 1, deleted: false, at: T0 + 7 },
      ]);
      const keys = await store.listSigningKeys();
      expect(keys.map((key) => [key.kid, key.activatesAt])).toStrictEqual([
        ['old', T0],
        ['new', T0 + 5],
      ]);
      // A retired key of unknown retirement counts as retired at the upgrade: it stays a full retention from now.
      expect(keys[0]?.retiredAt).toBeGreaterThanOrEqual(before);
      expect(keys[1]?.retiredAt).toBeUndefined();
      const pruned = await store.prune({
        revocationsBefore: T0 + 15,
        signingKeysBefore: before,
        auditBefore: undefined,
        batch: 100,
      });
      expect(pruned).toMatchObject({ revocations: 1, tombstones: 0, events: 1, signingKeys: 0 });
      expect((await store.revocationSnapshot()).identities.map((entry) => entry.id).sort()).toStrictEqual([
        ID(1),
        ID(2),
      ]);
    } finally {
      await store.close();
    }
  });
});
