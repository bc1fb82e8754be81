// Every cell of the seed's chat capability table (core's CAPABILITY_TABLE), over the wire with the official SDK:
// a token of each scope tries each chat operation on a thread it is in; allowed cells succeed, the others answer
// 403 with the ACS error body naming the capability.
import type { ChatThreadClient } from '@azure/communication-chat';
import type { TokenScope } from '@azure/communication-identity';
import { CAPABILITY_TABLE, type Capability } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatTestServer, type TestUser, errorOf, rawRequest, startChatTestServer, all } from './helpers.js';

let t: ChatTestServer;
let owner: TestUser;
let other: TestUser;

beforeAll(async () => {
  t = await startChatTestServer();
  owner = await t.user(['chat']);
  other = await t.user(['chat']);
});
afterAll(async () => {
  await t?.close();
});

/** A thread owned by a `chat` user with `user` and `other` in it and one message from the owner. */
async function setup(user: TestUser): Promise<{ thread: ChatThreadClient; messageId: string }> {
  const r = await owner.chat.createChatThread(
    { topic: 'table' },
    { participants: [{ id: user.identifier }, { id: other.identifier }] },
  );
  const id = r.chatThread?.id ?? '';
  const { id: messageId } = await owner.chat.getChatThreadClient(id).sendMessage({ content: 'from the owner' });
  return { thread: user.chat.getChatThreadClient(id), messageId };
}

/** The operation behind each chat capability, as `user` (own-message rows act on the user's own message). */
const OPERATIONS: Record<string, (user: TestUser, thread: ChatThreadClient, messageId: string) => Promise<unknown>> = {
  'chat.thread.create': (user) => user.chat.createChatThread({ topic: 'mine' }),
  'chat.thread.update': (_u, thread) => thread.updateTopic('renamed'),
  'chat.thread.delete': (user, thread) => user.chat.deleteChatThread(thread.threadId),
  'chat.participant.add': async (_u, thread) => {
    const newcomer = await t.user(['chat']);
    return thread.addParticipants({ participants: [{ id: newcomer.identifier }] });
  },
  'chat.participant.remove': (_u, thread) => thread.removeParticipant(other.identifier),
  'chat.thread.list': (user) => all(user.chat.listChatThreads()),
  'chat.thread.get': (_u, thread) => thread.getProperties(),
  'chat.readReceipt.get': (_u, thread) => all(thread.listReadReceipts()),
  'chat.readReceipt.create': (_u, thread, messageId) => thread.sendReadReceipt({ chatMessageId: messageId }),
  'chat.message.create': (_u, thread) => thread.sendMessage({ content: 'hello' }),
  'chat.message.get': (_u, thread, messageId) => thread.getMessage(messageId),
  'chat.message.updateOwn': async (_u, thread, messageId) => {
    // Its own message; a token that may not send acts on the owner's (the scope is judged first, naming the row).
    const id = await thread.sendMessage({ content: 'mine' }).then(
      (r) => r.id,
      () => messageId,
    );
    return thread.updateMessage(id, { content: 'edited' });
  },
  'chat.message.deleteOwn': async (_u, thread, messageId) => {
    // Its own message; a token that may not send acts on the owner's (the scope is judged first, naming the row).
    const id = await thread.sendMessage({ content: 'mine' }).then(
      (r) => r.id,
      () => messageId,
    );
    return thread.deleteMessage(id);
  },
  'chat.typing.send': (_u, thread) => thread.sendTypingNotification(),
  'chat.participant.list': (_u, thread) => all(thread.listParticipants()),
};

const CHAT_ROWS = CAPABILITY_TABLE.filter((row) => row.service === 'chat');
const SCOPES: readonly TokenScope[] = ['chat', 'chat.join', 'chat.join.limited', 'voip'];

it('covers every chat row of the table', () => {
  expect(Object.keys(OPERATIONS).sort()).toEqual(CHAT_ROWS.map((r) => r.capability).sort());
});

describe.each(SCOPES)('a %s token', (scope) => {
  let user: TestUser;
  beforeAll(async () => {
    user = await t.user([scope]);
  });

  it.each(CHAT_ROWS.map((r) => [r.capability, r.cells[scope as keyof typeof r.cells]] as const))(
    '%s: %s',
    async (capability, cell) => {
      const { thread, messageId } = await setup(user);
      const operation = OPERATIONS[capability as Capability];
      if (operation === undefined) throw new Error(`no operation for ${capability}`);
      let status = 200;
      let message = '';
      try {
        await operation(user, thread, messageId);
      } catch (error) {
        status = (error as { statusCode?: number }).statusCode ?? 0;
        message = String((error as Error).message);
      }
      if (cell === 'N') {
        expect(status).toBe(403);
        expect(message).toContain(capability);
      } else {
        expect(status).toBe(200);
      }
    },
  );
});

it('a refusal is the ACS error body naming the capability, with WWW-Authenticate insufficient_scope', async () => {
  const joiner = await t.user(['chat.join']);
  const r = await rawRequest(t, 'POST', '/chat/threads?api-version=2025-03-15', {
    token: joiner.token,
    body: JSON.stringify({ topic: 'not allowed' }),
  });
  expect(r.status).toBe(403);
  expect(errorOf(r.json)).toMatchObject({
    code: 'Forbidden',
    target: 'chat.thread.create',
    innererror: { code: 'ERR_CAPABILITY_DENIED' },
  });
  expect(errorOf(r.json).message).toContain('chat.thread.create');
  expect(String(r.headers['www-authenticate'])).toContain('insufficient_scope');
  expect(String(r.headers['www-authenticate'])).toContain('scope="chat"');
});
