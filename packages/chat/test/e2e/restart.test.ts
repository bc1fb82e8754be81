// A restart keeps every thread, participant, message, edit and read receipt (SQLite beside the identity store).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { chatClient, startChatTestServer, all } from './helpers.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tessera-chat-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('threads and messages survive a restart, and the same tokens still work', async () => {
  const first = await startChatTestServer({ dataDir });
  const alice = await first.user(['chat']);
  const bob = await first.user(['chat']);
  const { chatThread } = await alice.chat.createChatThread(
    { topic: 'durable' },
    { participants: [{ id: bob.identifier }] },
  );
  const threadId = chatThread?.id ?? '';
  const thread = alice.chat.getChatThreadClient(threadId);
  const m1 = await thread.sendMessage({ content: 'one' });
  const m2 = await thread.sendMessage({ content: 'two' });
  await thread.updateMessage(m1.id, { content: 'one, edited' });
  await bob.chat.getChatThreadClient(threadId).sendReadReceipt({ chatMessageId: m2.id });
  const before = await all(thread.listMessages());
  await first.close(true);

  const second = await startChatTestServer({ dataDir });
  try {
    const again = chatClient(second.url, alice.token, second.ca).getChatThreadClient(threadId);
    const after = await all(again.listMessages());
    expect(after.map((m) => [m.id, m.type, m.content?.message, m.editedOn?.getTime()])).toEqual(
      before.map((m) => [m.id, m.type, m.content?.message, m.editedOn?.getTime()]),
    );
    expect((await again.getProperties()).topic).toBe('durable');
    expect((await all(again.listParticipants())).length).toBe(2);
    expect((await all(again.listReadReceipts()))[0]?.chatMessageId).toBe(m2.id);
    const m3 = await again.sendMessage({ content: 'three' });
    expect(Number(m3.id)).toBeGreaterThan(Number(m2.id));
    const threads = await all(chatClient(second.url, bob.token, second.ca).listChatThreads());
    expect(threads.map((x) => x.id)).toContain(threadId);
  } finally {
    await second.close(true);
  }
});
