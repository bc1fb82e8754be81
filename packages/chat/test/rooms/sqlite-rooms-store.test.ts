import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
