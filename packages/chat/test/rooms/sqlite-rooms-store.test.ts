import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';
import { describeRoomsStoreConformance } from './rooms-store-conformance.js';

describeRoomsStoreConformance('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-'));
  const path = join(dir, 'rooms.db');
  return {
    store: createSqliteRoomsStore({ path }),
    open: async () => createSqliteRoomsStore({ path }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
