import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteChatStore, SQLITE_CHAT_MIGRATIONS } from '../../src/store/sqlite-chat-store.js';
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

describe('SQLite chat store: WAL checkpoints on their own thread', () => {
  const thread = '19:00000000000000000000000000000c4e@thread.v2';
  async function fill(store: ReturnType<typeof createSqliteChatStore>, messages: number, onBatch?: () => void) {
    await store.migrate();
    await store.createThread({
      thread: { id: thread, resourceId: RESOURCE, topic: 't', createdBy: USER, createdOn: 1, metadata: {} },
      participants: [{ rawId: USER, shareHistoryTime: 0 }],
      systemMessages: [],
    });
    const content = 'x'.repeat(2000);
    for (let i = 0; i < messages; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          store.sendMessage({
            threadId: thread,
            resourceId: RESOURCE,
            draft: { type: 'text', senderRawId: USER, content: `${i + j} ${content}` },
            now: 10 + i,
          }),
        ),
      );
      onBatch?.();
    }
  }

  it('the thread copies the WAL into the database file while the writer is idle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-ckpt-'));
    const path = join(dir, 'chat.db');
    const store = createSqliteChatStore({ path, checkpoint: { intervalMs: 20 } });
    try {
      await fill(store, 500);
      // The writer never checkpoints below the bound (its automatic checkpoints are off): only the thread can have
      // put ~1 MB of messages into the database file itself.
      await new Promise((r) => setTimeout(r, 300));
      expect(statSync(path).size).toBeGreaterThan(1_000_000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the WAL stays bounded while writes never pause (a PASSIVE checkpoint alone rarely catches up)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-ckpt-'));
    const path = join(dir, 'chat.db');
    const store = createSqliteChatStore({ path, checkpoint: { intervalMs: 20, maxWalFrames: 500 } });
    let largest = 0;
    try {
      // ~20 MB of messages, written back to back: without the writer's own checkpoint past the bound the WAL
      // grows with them.
      await fill(store, 10_000, () => {
        largest = Math.max(largest, statSync(`${path}-wal`).size);
      });
      expect(largest).toBeLessThan(10_000_000);
      await store.close();
      // Every message is there after a restart.
      const again = createSqliteChatStore({ path, checkpoint: false });
      const newest = await again.listMessages(thread, { notBefore: 0, limit: 1 });
      await again.close();
      expect(newest[0]?.content?.startsWith('9999 ')).toBe(true);
      expect(newest[0]?.sequenceId).toBe(10_000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('SQLite chat store: schema upgrade', () => {
  it('a chat.db of schema 1 gains the per-user thread order (v2) and lists its threads by latest activity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-v1-'));
    const path = join(dir, 'chat.db');
    try {
      // A database as schema 1 left it: three threads of USER, active in the order b, c, a.
      const old = new Database(path);
      old.exec(SQLITE_CHAT_MIGRATIONS[0] as string);
      old.exec('CREATE TABLE chat_schema (version INTEGER NOT NULL); INSERT INTO chat_schema (version) VALUES (1);');
      const thread = old.prepare(
        `INSERT INTO chat_threads (id, resource_id, topic, created_by, created_on, last_message_on, metadata)
         VALUES (?, ?, 't', ?, 1, ?, '{}')`,
      );
      const member = old.prepare(
        'INSERT INTO chat_participants (thread_id, raw_id, share_history_time) VALUES (?, ?, 0)',
      );
      for (const [id, at] of [
        ['19:a@thread.v2', 100],
        ['19:b@thread.v2', 300],
        ['19:c@thread.v2', 200],
      ] as const) {
        thread.run(id, RESOURCE, USER, at);
        member.run(id, USER);
      }
      old.close();

      const store = createSqliteChatStore({ path });
      await store.migrate();
      const ids = async (limit: number, after?: { lastMessageReceivedOn: number; id: string }) =>
        (await store.listThreads(USER, { limit, after })).map((t) => t.id);
      expect(await ids(10)).toEqual(['19:b@thread.v2', '19:c@thread.v2', '19:a@thread.v2']);
      expect(await ids(2, { lastMessageReceivedOn: 300, id: '19:b@thread.v2' })).toEqual([
        '19:c@thread.v2',
        '19:a@thread.v2',
      ]);
      // A message moves its thread to the top, for every participant.
      await store.appendMessage('19:a@thread.v2', { type: 'text', senderRawId: USER, content: 'x' }, 400);
      expect(await ids(1)).toEqual(['19:a@thread.v2']);
      await store.close();
      const version = new Database(path, { readonly: true });
      expect(version.prepare('SELECT version FROM chat_schema').get()).toEqual({
        version: SQLITE_CHAT_MIGRATIONS.length,
      });
      version.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
