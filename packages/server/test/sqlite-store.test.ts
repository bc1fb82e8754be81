import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { describeStoreConformance } from './store-conformance.js';

// Each test gets its own temp dir holding one database file; every instance the suite opens shares it.
describeStoreConformance('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-sqlite-store-'));
  const path = join(dir, 'tessera.db');
  return {
    store: await createSqliteStore({ path }),
    open: async () => createSqliteStore({ path }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
