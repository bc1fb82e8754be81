// The chat routes publish every change on the ChatEventBus, addressed to the right users: what the SSE stream and
// presence build on. A standalone chat service (startChatService) against a real identity server, its own bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../../src/events/event-bus.js';
import { createInProcessEventBus } from '../../src/events/in-process-event-bus.js';
import { type EventsFixture, startEventsFixture } from './events-fixture.js';

const bus = createInProcessEventBus();
let f: EventsFixture;

beforeAll(async () => {
  f = await startEventsFixture({ events: bus });
});
afterAll(async () => {
  await f?.close();
});

const call: EventsFixture['call'] = (...args) => f.call(...args);
const identity = {
  createUserAndToken: (scopes: Parameters<EventsFixture['identity']['createUserAndToken']>[0]) =>
    f.identity.createUserAndToken(scopes),
};

describe('in-process bus', () => {
  it('delivers to the listeners of each recipient, survives a throwing listener, unsubscribes exactly once', async () => {
    const errors: unknown[] = [];
    const b = createInProcessEventBus({ onListenerError: (e) => errors.push(e) });
    const got: string[] = [];
    const offA = b.subscribe('a', (e) => got.push(`a:${e.type}`));
    b.subscribe('a', () => {
      throw new Error('listener bug');
    });
    const offB = b.subscribe('b', (e) => got.push(`b:${e.type}`));
    const event: ChatEvent = {
      type: 'typingIndicatorReceived',
      threadId: '19:x@thread.v2',
      recipients: ['a', 'c'],
      occurredOn: new Date(0).toISOString(),
      sender: { rawId: 'b' },
    };
    await b.publish(event);
    expect(got).toEqual(['a:typingIndicatorReceived']);
    expect(errors).toHaveLength(1);
    offA();
    offA();
    offB();
    expect(b.listenerCount()).toBe(1);
    await b.close();
    expect(b.listenerCount()).toBe(0);
  });
});

describe('events of the chat routes', () => {
  it('every change is published once, to the participants, in order', async () => {
    const alice = await identity.createUserAndToken(['chat']);
    const bob = await identity.createUserAndToken(['chat']);
    const carol = await identity.createUserAndToken(['chat']);
    const a = alice.user.communicationUserId;
    const b = bob.user.communicationUserId;
    const c = carol.user.communicationUserId;
    const seen: Record<string, ChatEvent[]> = { [a]: [], [b]: [], [c]: [] };
    const offs = [a, b, c].map((id) => bus.subscribe(id, (e) => seen[id]?.push(e)));

    const created = await call(alice.token, 'POST', '/chat/threads', {
      topic: 'events',
      participants: [{ communicationIdentifier: { communicationUser: { id: b } } }],
    });
    expect(created.status).toBe(201);
    const threadId = (created.json?.chatThread as { id: string } | undefined)?.id ?? '';
    const t = `/chat/threads/${encodeURIComponent(threadId)}`;
    const sent = await call(alice.token, 'POST', `${t}/messages`, { content: 'hi', senderDisplayName: 'Alice' });
    const messageId = (sent.json as { id: string }).id;
    await call(alice.token, 'PATCH', `${t}/messages/${messageId}`, { content: 'hi!' });
    await call(bob.token, 'POST', `${t}/typing`, { senderDisplayName: 'Bob' });
    await call(bob.token, 'POST', `${t}/readReceipts`, { chatMessageId: messageId });
    await call(alice.token, 'PATCH', t, { topic: 'renamed' });
    await call(alice.token, 'POST', `${t}/participants/:add`, {
      participants: [{ communicationIdentifier: { communicationUser: { id: c } } }],
    });
    await call(alice.token, 'POST', `${t}/participants/:remove`, { communicationUser: { id: c } });
    await call(alice.token, 'DELETE', `${t}/messages/${messageId}`);
    await call(alice.token, 'DELETE', t);
    for (const off of offs) off();

    expect(seen[b]?.map((e) => e.type)).toEqual([
      'chatThreadCreated',
      'chatMessageReceived',
      'chatMessageEdited',
      'readReceiptReceived',
      'chatThreadPropertiesUpdated',
      'participantsAdded',
      'participantsRemoved',
      'chatMessageDeleted',
      'chatThreadDeleted',
    ]);
    // The typing user does not hear their own typing; the others do.
    expect(seen[a]?.map((e) => e.type)).toContain('typingIndicatorReceived');
    // Carol hears only while she is in the thread (and of her own removal).
    expect(seen[c]?.map((e) => e.type)).toEqual(['participantsAdded', 'participantsRemoved']);
    for (const e of seen[b] ?? []) expect(e.threadId).toBe(threadId);
    const received = seen[b]?.find((e) => e.type === 'chatMessageReceived');
    expect(received).toMatchObject({
      type: 'chatMessageReceived',
      recipients: expect.arrayContaining([a, b]),
      message: { id: messageId, type: 'text', content: 'hi', sender: { rawId: a, displayName: 'Alice' } },
    });
    const edited = seen[b]?.find((e) => e.type === 'chatMessageEdited');
    expect(edited).toMatchObject({ message: { content: 'hi!' } });
    // Events are plain JSON: what a cross-process bus sends is what a listener gets.
    for (const e of seen[b] ?? []) expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });

  it('a refused request publishes nothing', async () => {
    const dave = await identity.createUserAndToken(['chat.join']);
    const id = dave.user.communicationUserId;
    const got: ChatEvent[] = [];
    const off = bus.subscribe(id, (e) => got.push(e));
    const r = await call(dave.token, 'POST', '/chat/threads', { topic: 'not allowed' });
    off();
    expect(r.status).toBe(403);
    expect(got).toEqual([]);
  });
});
