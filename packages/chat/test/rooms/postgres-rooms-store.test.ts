import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { createPostgresRoomsStore } from '../../src/rooms/postgres-rooms-store.js';
import { describeRoomsStoreConformance } from './rooms-store-conformance.js';

/** The PostgreSQL of the dev machine / CI; unreachable fails these tests (they never skip). */
export const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
afterAll(() => admin.end());

describeRoomsStoreConformance('PostgreSQL', async () => {
  const schema = `tessera_rooms_${process.pid}_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE SCHEMA "${schema}"`);
  return {
    store: createPostgresRoomsStore({ connectionString: DATABASE_URL, schema, maxConnections: 3 }),
    open: async () => createPostgresRoomsStore({ connectionString: DATABASE_URL, schema, maxConnections: 3 }),
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
});
