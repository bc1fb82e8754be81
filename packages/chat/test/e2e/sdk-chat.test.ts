// Every ChatClient / ChatThreadClient operation of the official @azure/communication-chat 1.6.0, unchanged, over
// HTTPS against `tessera serve`'s mounted chat API, with tokens from the official identity client.
import type { ChatMessage, ChatThreadClient } from '@azure/communication-chat';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatTestServer, type TestUser, errorOf, rawRequest, startChatTestServer, all } from './helpers.js';

let t: ChatTestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

beforeAll(async () => {
  t = await startChatTestServer();
  alice = await t.user(['chat']);
  bob = await t.user(['chat']);
  carol = await t.user(['chat']);
});
afterAll(async () => {
  await t?.close();
});

async function newThread(topic = 'lunch', participants: TestUser[] = [bob]): Promise<ChatThreadClient> {
  const r = await alice.chat.createChatThread(
    { topic },
    { participants: participants.map((p) => ({ id: p.identifier, displayName: `name of ${p.id.slice(-4)}` })) },
  );
  return alice.chat.getChatThreadClient(r.chatThread?.id ?? '');
}

async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { statusCode?: number }).statusCode;
  }
}

describe('ChatClient', () => {
  it('creates a thread: ACS-shaped id, the creator and the listed participants, no invalid participants', async () => {
    const r = await alice.chat.createChatThread(
      { topic: 'Team' },
      { participants: [{ id: bob.identifier, displayName: 'Bob' }], metadata: { team: 'blue' } },
    );
    expect(r.invalidParticipants).toBeUndefined();
    const thread = r.chatThread;
    expect(thread?.id).toMatch(/^19:[0-9a-f]{32}@thread\.v2$/);
    expect(thread?.topic).toBe('Team');
    expect(thread?.createdBy).toEqual({ kind: 'communicationUser', communicationUserId: alice.id });
    expect(thread?.metadata).toEqual({ team: 'blue' });
    const participants = await all(alice.chat.getChatThreadClient(thread?.id ?? '').listParticipants());
    expect(participants.map((p) => (p.id as { communicationUserId: string }).communicationUserId).sort()).toEqual(
      [alice.id, bob.id].sort(),
    );
    expect(participants.find((p) => p.displayName === 'Bob')).toBeDefined();
  });

  it('create is idempotent under the same repeatability-request-id (idempotencyToken)', async () => {
    const token = crypto.randomUUID();
    const first = await alice.chat.createChatThread({ topic: 'once' }, { idempotencyToken: token });
    const second = await alice.chat.createChatThread({ topic: 'once' }, { idempotencyToken: token });
    expect(second.chatThread?.id).toBe(first.chatThread?.id);
    const third = await alice.chat.createChatThread({ topic: 'once' });
    expect(third.chatThread?.id).not.toBe(first.chatThread?.id);
  });

  it('reports participants of another resource as invalidParticipants and still creates the thread', async () => {
    const foreign = '8:acs:00000000-1111-4222-8333-444444444444_00000000-0000-4000-8000-000000000001';
    const r = await alice.chat.createChatThread(
      { topic: 'mixed' },
      { participants: [{ id: { communicationUserId: foreign } }, { id: bob.identifier }] },
    );
    expect(r.chatThread?.id).toBeDefined();
    expect(r.invalidParticipants).toEqual([
      expect.objectContaining({ code: '403', message: 'Permissions check failed', target: foreign }),
    ]);
  });

  it('lists the caller’s threads newest activity first, paged by maxPageSize with nextLink, filtered by startTime', async () => {
    const dave = await t.user(['chat']);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await dave.chat.createChatThread({ topic: `t${i}` });
      ids.push(r.chatThread?.id ?? '');
    }
    const pages: string[][] = [];
    for await (const page of dave.chat.listChatThreads({ maxPageSize: 2 }).byPage()) {
      pages.push(page.map((p) => p.id));
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual([...ids].reverse());
    const items = await all(dave.chat.listChatThreads());
    expect(items[0]?.topic).toBe('t4');
    expect(items[0]?.lastMessageReceivedOn).toBeInstanceOf(Date);
    const future = await all(dave.chat.listChatThreads({ startTime: new Date(Date.now() + 3_600_000) }));
    expect(future).toEqual([]);
    // Bob sees none of Dave's threads.
    expect((await all(bob.chat.listChatThreads())).map((x) => x.id)).not.toContain(ids[0]);
  });

  it('deletes a thread: gone for every participant (get and list)', async () => {
    const thread = await newThread('doomed');
    await alice.chat.deleteChatThread(thread.threadId);
    expect(await statusOf(bob.chat.getChatThreadClient(thread.threadId).getProperties())).toBe(403);
    expect((await all(bob.chat.listChatThreads())).map((x) => x.id)).not.toContain(thread.threadId);
  });
});

describe('ChatThreadClient: properties', () => {
  it('gets properties, updates the topic (a topicUpdated system message) and metadata (merge)', async () => {
    const thread = await newThread('before');
    const props = await thread.getProperties();
    expect(props).toMatchObject({ id: thread.threadId, topic: 'before' });
    expect(props.createdOn).toBeInstanceOf(Date);
    await thread.updateTopic('after');
    expect((await bob.chat.getChatThreadClient(thread.threadId).getProperties()).topic).toBe('after');
    await thread.updateProperties({ metadata: { a: '1', b: '2' } });
    await thread.updateProperties({ metadata: { b: '3' } });
    expect((await thread.getProperties()).metadata).toEqual({ a: '1', b: '3' });
    const messages = await all(thread.listMessages());
    const topics = messages.filter((m) => m.type === 'topicUpdated').map((m) => m.content?.topic);
    expect(topics).toEqual(['after', 'before']);
  });
});

describe('ChatThreadClient: messages', () => {
  it('sends text and html with senderDisplayName and metadata; gets them back exactly', async () => {
    const thread = await newThread();
    const text = await thread.sendMessage(
      { content: 'hello 👋' },
      { senderDisplayName: 'Alice', metadata: { k: 'v' } },
    );
    const html = await thread.sendMessage({ content: '<b>bold</b>' }, { type: 'html' });
    expect(text.id).toMatch(/^\d{13,}$/);
    expect(Number(html.id)).toBeGreaterThan(Number(text.id));
    const m = await bob.chat.getChatThreadClient(thread.threadId).getMessage(text.id);
    expect(m).toMatchObject({
      id: text.id,
      type: 'text',
      senderDisplayName: 'Alice',
      content: { message: 'hello 👋' },
      metadata: { k: 'v' },
      sender: { kind: 'communicationUser', communicationUserId: alice.id },
      version: text.id,
    });
    expect((await thread.getMessage(html.id)).type).toBe('html');
  });

  it('lists newest first with the system messages ACS writes (participantAdded, topicUpdated), paged', async () => {
    const thread = await newThread('paging');
    for (let i = 0; i < 5; i++) await thread.sendMessage({ content: `m${i}` });
    const messages = await all(thread.listMessages());
    expect(messages.map((m) => m.type)).toEqual([
      'text',
      'text',
      'text',
      'text',
      'text',
      'topicUpdated',
      'participantAdded',
    ]);
    expect(messages.slice(0, 5).map((m) => m.content?.message)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(messages.map((m) => Number(m.sequenceId))).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const added = messages.at(-1) as ChatMessage;
    expect(
      added.content?.participants?.map((p) => (p.id as { communicationUserId: string }).communicationUserId),
    ).toEqual([alice.id, bob.id]);
    expect(added.content?.initiator).toEqual({ kind: 'communicationUser', communicationUserId: alice.id });
    const pages: number[] = [];
    for await (const page of thread.listMessages({ maxPageSize: 3 }).byPage()) pages.push(page.length);
    expect(pages).toEqual([3, 3, 1]);
    const recent = await all(thread.listMessages({ startTime: new Date(Date.now() + 60_000) }));
    expect(recent).toEqual([]);
  });

  it('edits and deletes own messages (editedOn, deletedOn); another participant’s answer 403', async () => {
    const thread = await newThread();
    const { id } = await thread.sendMessage({ content: 'draft' });
    const asBob = bob.chat.getChatThreadClient(thread.threadId);
    expect(await statusOf(asBob.updateMessage(id, { content: 'hijack' }))).toBe(403);
    expect(await statusOf(asBob.deleteMessage(id))).toBe(403);
    await thread.updateMessage(id, { content: 'final', metadata: { edited: 'yes' } });
    const edited = await asBob.getMessage(id);
    expect(edited.content?.message).toBe('final');
    expect(edited.editedOn).toBeInstanceOf(Date);
    expect(edited.metadata).toEqual({ edited: 'yes' });
    expect(Number(edited.version)).toBeGreaterThan(Number(id));
    await thread.deleteMessage(id);
    const deleted = await asBob.getMessage(id);
    expect(deleted.deletedOn).toBeInstanceOf(Date);
    expect(deleted.content?.message).toBeUndefined();
    // Deleting again is idempotent; editing a deleted message is not possible.
    await thread.deleteMessage(id);
    expect(await statusOf(thread.updateMessage(id, { content: 'zombie' }))).toBe(404);
    // System messages belong to nobody.
    const system = (await all(thread.listMessages())).find((m) => m.type === 'topicUpdated') as ChatMessage;
    expect(await statusOf(thread.deleteMessage(system.id))).toBe(403);
  });

  it('an unknown message id answers 404', async () => {
    const thread = await newThread();
    expect(await statusOf(thread.getMessage('1'))).toBe(404);
    expect(await statusOf(thread.getMessage('not-a-number'))).toBe(404);
  });
});

describe('ChatThreadClient: participants, typing, read receipts', () => {
  it('adds participants; shareHistoryTime decides the history the newcomer sees', async () => {
    const thread = await newThread('history', []);
    const before = await thread.sendMessage({ content: 'before carol' });
    await new Promise((r) => setTimeout(r, 1100));
    const cut = new Date();
    await new Promise((r) => setTimeout(r, 1100));
    const after = await thread.sendMessage({ content: 'after the cut' });
    const result = await thread.addParticipants({
      participants: [
        { id: carol.identifier, displayName: 'Carol', shareHistoryTime: cut },
        { id: bob.identifier, displayName: 'Bob' },
      ],
    });
    expect(result.invalidParticipants).toBeUndefined();
    const asCarol = carol.chat.getChatThreadClient(thread.threadId);
    const seen = (await all(asCarol.listMessages())).map((m) => m.id);
    expect(seen).toContain(after.id);
    expect(seen).not.toContain(before.id);
    expect(await statusOf(asCarol.getMessage(before.id))).toBe(404);
    const bobSees = (await all(bob.chat.getChatThreadClient(thread.threadId).listMessages())).map((m) => m.id);
    expect(bobSees).toContain(before.id);
    const listed = await all(thread.listParticipants());
    expect(listed.find((p) => p.displayName === 'Carol')?.shareHistoryTime?.getTime()).toBe(
      Math.floor(cut.getTime() / 1000) * 1000,
    );
    const system = (await all(thread.listMessages({ maxPageSize: 1 })))[0];
    expect(system?.type).toBe('participantAdded');
  });

  it('removes a participant: a participantRemoved message, and the removed user no longer sees the thread', async () => {
    const thread = await newThread('removal', [bob, carol]);
    await thread.removeParticipant(carol.identifier);
    const asCarol = carol.chat.getChatThreadClient(thread.threadId);
    expect(await statusOf(asCarol.getProperties())).toBe(403);
    expect(await statusOf(asCarol.sendMessage({ content: 'let me in' }))).toBe(403);
    expect(await statusOf(all(asCarol.listMessages()))).toBe(403);
    expect((await all(carol.chat.listChatThreads())).map((x) => x.id)).not.toContain(thread.threadId);
    const last = (await all(thread.listMessages({ maxPageSize: 1 })))[0];
    expect(last?.type).toBe('participantRemoved');
    // Removing someone who is not in the thread answers 404.
    expect(await statusOf(thread.removeParticipant(carol.identifier))).toBe(404);
  });

  it('lists participants in pages', async () => {
    const extra = await Promise.all([t.user(), t.user(), t.user()]);
    const thread = await newThread('crowd', [bob, carol, ...extra]);
    const pages: number[] = [];
    for await (const page of thread.listParticipants({ maxPageSize: 2 }).byPage()) pages.push(page.length);
    expect(pages).toEqual([2, 2, 2]);
    const skipped = await all(thread.listParticipants({ skip: 4 }));
    expect(skipped).toHaveLength(2);
  });

  it('sends typing notifications and read receipts; lists read receipts', async () => {
    const thread = await newThread();
    expect(await thread.sendTypingNotification({ senderDisplayName: 'Alice' })).toBe(true);
    const { id } = await thread.sendMessage({ content: 'read me' });
    const asBob = bob.chat.getChatThreadClient(thread.threadId);
    await asBob.sendReadReceipt({ chatMessageId: id });
    const receipts = await all(thread.listReadReceipts());
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({ chatMessageId: id, sender: { communicationUserId: bob.id } });
    expect(receipts[0]?.readOn).toBeInstanceOf(Date);
    expect(await statusOf(asBob.sendReadReceipt({ chatMessageId: '12345' }))).toBe(404);
  });
});

describe('participant visibility', () => {
  it('a non-participant gets 403 "Permissions check failed" for a thread, the same as for an unknown thread', async () => {
    const thread = await newThread('private', []);
    const outsider = carol.chat.getChatThreadClient(thread.threadId);
    expect(await statusOf(outsider.getProperties())).toBe(403);
    expect(await statusOf(outsider.sendMessage({ content: 'hi' }))).toBe(403);
    expect(await statusOf(all(outsider.listParticipants()))).toBe(403);
    expect(await statusOf(outsider.addParticipants({ participants: [{ id: carol.identifier }] }))).toBe(403);
    const known = await rawRequest(
      t,
      'GET',
      `/chat/threads/${encodeURIComponent(thread.threadId)}?api-version=2025-03-15`,
      {
        token: carol.token,
      },
    );
    const unknown = await rawRequest(t, 'GET', '/chat/threads/19%3Adeadbeef%40thread.v2?api-version=2025-03-15', {
      token: carol.token,
    });
    expect(known.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect(errorOf(known.json)).toEqual(errorOf(unknown.json));
    expect(errorOf(known.json)).toMatchObject({ code: 'Forbidden', message: 'Permissions check failed.' });
  });
});
