import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { createPostgresPresenceStore } from '../../src/presence/presence-store-postgres.js';
import { createSqlitePresenceStore } from '../../src/presence/presence-store-sqlite.js';
import { describePresenceStoreConformance } from './presence-store-conformance.js';

/** The PostgreSQL of the dev machine / CI; unreachable fails these tests (they never skip). */
const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
afterAll(() => admin.end());

describePresenceStoreConformance('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-presence-'));
  const path = join(dir, 'chat.db');
  return {
    store: createSqlitePresenceStore({ path }),
    open: async () => {
      const other = createSqlitePresenceStore({ path });
      await other.migrate();
      return other;
    },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describePresenceStoreConformance('PostgreSQL', async () => {
  const schema = `tessera_presence_${process.pid}_${randomBytes(5).toString('hex')}`;
  const make = () => createPostgresPresenceStore({ connectionString: DATABASE_URL, schema, maxConnections: 2 });
  return {
    store: make(),
    open: async () => {
      const other = make();
      await other.migrate();
      return other;
    },
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
});
