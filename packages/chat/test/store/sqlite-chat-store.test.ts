import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteChatStore } from '../../src/store/sqlite-chat-store.js';
import { describeChatStoreConformance } from './chat-store-conformance.js';

// The default (synchronous = FULL, group commit) and the documented opt-out (NORMAL) both keep the contract.
for (const synchronous of [undefined, 'normal'] as const) {
  describeChatStoreConformance(`SQLite (synchronous ${synchronous ?? 'full, the default'})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-store-'));
    const path = join(dir, 'chat.db');
    return {
      store: createSqliteChatStore({ path, synchronous }),
      open: async () => createSqliteChatStore({ path, synchronous }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}

const RESOURCE = '11111111-2222-4333-8444-555555555555';
const USER = `8:acs:${RESOURCE}_00000000-0000-4000-8000-000000000001`;

describe('SQLite chat store: group commit', () => {
  it('messages sent together get ids in the order they were sent, each committed when its promise resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-gc-'));
    const path = join(dir, 'chat.db');
    const store = createSqliteChatStore({ path });
    const reader = new Database(path, { readonly: true });
    try {
      const id = '19:00000000000000000000000000000abc@thread.v2';
      await store.createThread({
        thread: { id, resourceId: RESOURCE, topic: 't', createdBy: USER, createdOn: 1, metadata: {} },
        participants: [{ rawId: USER, shareHistoryTime: 0 }],
        systemMessages: [],
      });
      const count = () =>
        (reader.prepare('SELECT count(*) AS n FROM chat_messages WHERE thread_id = ?').get(id) as { n: number }).n;
      const sends = Array.from({ length: 25 }, (_, i) =>
        store.appendMessage(id, { type: 'text', senderRawId: USER, content: `m${i}` }, 10).then((m) => {
          // Another connection (as after a restart) already sees this message: it was committed before resolving.
          expect(count()).toBeGreaterThanOrEqual(i + 1);
          return m;
        }),
      );
      // Nothing is committed before the batch runs (the writes wait for the end of this event-loop turn).
      expect(count()).toBe(0);
      const sent = await Promise.all(sends);
      expect(sent.map((m) => m.content)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
      expect(sent.map((m) => Number(m.id))).toEqual(Array.from({ length: 25 }, (_, i) => Number(sent[0]?.id) + i));
    } finally {
      reader.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes still queued when the store closes are committed and answered, not dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-gc-'));
    const path = join(dir, 'chat.db');
    const store = createSqliteChatStore({ path });
    try {
      const id = '19:00000000000000000000000000000def@thread.v2';
      const created = store.createThread({
        thread: { id, resourceId: RESOURCE, topic: 't', createdBy: USER, createdOn: 1, metadata: {} },
        participants: [{ rawId: USER, shareHistoryTime: 0 }],
        systemMessages: [],
      });
      await store.close();
      expect((await created).created).toBe(true);
      const again = createSqliteChatStore({ path });
      expect((await again.getThread(id))?.topic).toBe('t');
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
