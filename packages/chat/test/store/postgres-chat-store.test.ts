import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { createPostgresChatStore } from '../../src/store/postgres-chat-store.js';
import { describeChatStoreConformance } from './chat-store-conformance.js';

const DATABASE_URL = testPostgresUrl();
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
afterAll(async () => {
  await admin.end();
});

describeChatStoreConformance('PostgreSQL', async () => {
  const schema = `tessera_chat_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    store: createPostgresChatStore({ connectionString: DATABASE_URL, schema, maxConnections: 3 }),
    open: async () => createPostgresChatStore({ connectionString: DATABASE_URL, schema, maxConnections: 3 }),
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
});
