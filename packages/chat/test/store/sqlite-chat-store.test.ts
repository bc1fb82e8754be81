import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteChatStore } from '../../src/store/sqlite-chat-store.js';
import { describeChatStoreConformance } from './chat-store-conformance.js';

describeChatStoreConformance('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-store-'));
  const path = join(dir, 'chat.db');
  return {
    store: createSqliteChatStore({ path, synchronous: 'normal' }),
    open: async () => createSqliteChatStore({ path, synchronous: 'normal' }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
