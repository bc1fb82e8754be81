import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openRoomsStore } from '../../src/rooms/open-rooms-store.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';
import { openChatStore } from '../../src/service/open-chat-store.js';
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

describe('openRoomsStore', () => {
  it('opens and migrates the rooms tables in the chat store file, both stores working side by side', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-open-'));
    const location = { kind: 'sqlite', path: join(dir, 'chat.db') } as const;
    const chat = await openChatStore(location);
    const rooms = await openRoomsStore(location);
    try {
      const room = { id: '99000000000000001', createdAt: 1, validFrom: 1, validUntil: 2, pstnDialOutEnabled: false };
      await rooms.createRoom({ room, participants: [] });
      expect(await rooms.getRoom(room.id)).toStrictEqual(room);
      expect(await chat.getThread('19:00000000000000000000000000000000@thread.v2')).toBeUndefined();
    } finally {
      await rooms.close();
      await chat.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite rooms schema upgrade', () => {
  it('a database at version 1 gains the participant index (version 2) on migrate, its rooms kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-v1-'));
    const path = join(dir, 'rooms.db');
    try {
      const v1 = createSqliteRoomsStore({ path });
      await v1.migrate();
      await v1.createRoom({
        room: { id: '99000000000000007', createdAt: 1, validFrom: 1, validUntil: 10, pstnDialOutEnabled: false },
        participants: [{ rawId: '8:acs:x_1', role: 'Attendee' }],
      });
      await v1.close();
      // Back to version 1 as it shipped: no index on the participant, version 2 not recorded.
      const db = new Database(path);
      db.exec('DROP INDEX room_participants_by_user; DELETE FROM rooms_schema_migrations WHERE version > 1');
      db.close();

      const store = createSqliteRoomsStore({ path });
      await store.migrate();
      const check = new Database(path, { readonly: true });
      const index = check
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'room_participants_by_user'")
        .get();
      const versions = check.prepare('SELECT version FROM rooms_schema_migrations ORDER BY version').all();
      check.close();
      expect(index).toStrictEqual({ name: 'room_participants_by_user' });
      expect(versions).toStrictEqual([{ version: 1 }, { version: 2 }]);
      expect(await store.listRoomsOf('8:acs:x_1', 5, 10)).toStrictEqual(['99000000000000007']);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
