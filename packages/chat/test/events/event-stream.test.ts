// GET /chat/events: the per-user server-sent event stream over a standalone chat service and a real identity
// server — delivery to participants only, ids and Last-Event-ID resume, resync on a gap, heartbeats, the end of
// the stream on revocation, expiry and shutdown, and the refusals (401, 403 naming the capability).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatService } from '../../src/service/start-chat-service.js';
import { type EventsFixture, startEventsFixture } from './events-fixture.js';
import { openStream } from './sse-reader.js';

let f: EventsFixture;
/** Added to the chat service's clock, to move it past a token's expiry. */
let skewMs = 0;

beforeAll(async () => {
  f = await startEventsFixture({
    clock: () => Date.now() + skewMs,
    eventStream: { heartbeatMs: 50, tokenRecheckMs: 50, replayEvents: 4 },
  });
});
afterAll(async () => {
  await f?.close();
});

const events = (token: string, extra: Record<string, string> = {}) =>
  openStream(new URL('/chat/events', f.chat.url), { authorization: `Bearer ${token}`, ...extra });

async function pair() {
  const alice = await f.identity.createUserAndToken(['chat']);
  const bob = await f.identity.createUserAndToken(['chat']);
  const created = await f.call(alice.token, 'POST', '/chat/threads', {
    topic: 'stream',
    participants: [{ communicationIdentifier: { communicationUser: { id: bob.user.communicationUserId } } }],
  });
  expect(created.status).toBe(201);
  const threadId = (created.json?.chatThread as { id: string } | undefined)?.id ?? '';
  const send = (content: string) =>
    f.call(alice.token, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/messages`, { content });
  return { alice, bob, threadId, send };
}

const contents = (list: readonly { event: string; data: string }[]) =>
  list
    .filter((e) => e.event === 'chatMessageReceived')
    .map((e) => (JSON.parse(e.data) as { message: { content: string } }).message.content);

describe('GET /chat/events', () => {
  it('refuses a missing token (401) and a token without a chat scope (403 naming the capability)', async () => {
    const none = await openStream(new URL('/chat/events', f.chat.url), {});
    expect(none.status).toBe(401);
    const voip = await f.identity.createUserAndToken(['voip']);
    const refused = await events(voip.token);
    expect(refused.status).toBe(403);
    await refused.ended;
    expect(JSON.parse(refused.text())).toMatchObject({
      error: { code: 'Forbidden', innererror: { code: 'ERR_CAPABILITY_DENIED' } },
    });
    expect(refused.text()).toContain('chat.thread.list');
  });

  it('delivers the events addressed to the user, with ids, without recipients, and heartbeats', async () => {
    const { alice, bob, threadId, send } = await pair();
    const outsider = await f.identity.createUserAndToken(['chat']);
    const b = await events(bob.token);
    const o = await events(outsider.token);
    expect(b.status).toBe(200);
    expect(b.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(b.headers.get('cache-control')).toBe('no-store');
    await send('one');
    await f.call(alice.token, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/typing`, {});
    await b.until((list) => list.some((e) => e.event === 'typingIndicatorReceived'));
    await b.until(() => b.text().includes(': heartbeat'));
    const received = b.events.find((e) => e.event === 'chatMessageReceived');
    const data = JSON.parse(received?.data ?? '{}') as Record<string, unknown>;
    expect(data).toMatchObject({ type: 'chatMessageReceived', threadId, message: { content: 'one' } });
    expect(data).not.toHaveProperty('recipients');
    expect(received?.lastEventId).toMatch(/^[0-9a-f]{12}-1$/);
    // The outsider's stream stays open and hears nothing of a thread they are not in.
    await o.until(() => o.text().includes(': heartbeat'));
    expect(o.events).toEqual([]);
    b.close();
    o.close();
  });

  it('resumes after Last-Event-ID from the replay buffer; an unknown or evicted id gets resync first', async () => {
    const { bob, send } = await pair();
    const first = await events(bob.token);
    await send('m1');
    await first.until((list) => contents(list).includes('m1'));
    const lastId = first.events.at(-1)?.lastEventId ?? '';
    first.close();
    await send('m2');
    await send('m3');
    const resumed = await events(bob.token, { 'last-event-id': lastId });
    await resumed.until((list) => contents(list).length === 2);
    expect(contents(resumed.events)).toEqual(['m2', 'm3']);
    expect(resumed.events.some((e) => e.event === 'resync')).toBe(false);
    resumed.close();

    const unknown = await events(bob.token, { 'last-event-id': 'ffffffffffff-1' });
    await unknown.until((list) => list.length > 0);
    expect(unknown.events[0]).toMatchObject({ event: 'resync', data: '{"reason":"lastEventIdNotBuffered"}' });
    unknown.close();

    // replayEvents is 4 here: five more events push the one after lastId out of the buffer.
    const tail = await events(bob.token);
    for (const m of ['m4', 'm5', 'm6', 'm7', 'm8']) await send(m);
    await tail.until((list) => contents(list).includes('m8'));
    tail.close();
    const evicted = await events(bob.token, { 'last-event-id': lastId });
    await evicted.until((list) => contents(list).length === 4);
    expect(evicted.events[0]?.event).toBe('resync');
    expect(contents(evicted.events)).toEqual(['m5', 'm6', 'm7', 'm8']);
    evicted.close();
  });

  it('ends the stream when the token is revoked', async () => {
    const { bob } = await pair();
    const b = await events(bob.token);
    await b.until(() => b.text().includes(': heartbeat'));
    await f.identity.revokeTokens(bob.user);
    await b.ended;
    expect(b.events.at(-1)).toMatchObject({ event: 'end' });
    expect(JSON.parse(b.events.at(-1)?.data ?? '{}')).toEqual({ reason: 'tokenRejected', code: 'ERR_TOKEN_REVOKED' });
    // And the revoked token cannot open a new one.
    expect((await events(bob.token)).status).toBe(401);
  });

  it('ends the stream when the token expires', async () => {
    const { bob } = await pair();
    const b = await events(bob.token);
    await b.until(() => b.text().includes(': heartbeat'));
    skewMs = 48 * 3600_000;
    try {
      await b.ended;
    } finally {
      skewMs = 0;
    }
    expect(JSON.parse(b.events.at(-1)?.data ?? '{}')).toEqual({ reason: 'tokenExpired' });
  });
});

describe('shutdown', () => {
  it('ends open streams with serverClosing instead of hanging close()', async () => {
    const other = await startChatService({
      identityEndpoint: f.identityServer.url,
      connectionString: f.identityServer.verifierConnectionString,
      store: { kind: 'sqlite', path: join(f.dir, 'chat-2.db') },
      port: 0,
    });
    const user = await f.identity.createUserAndToken(['chat.join']);
    const s = await openStream(new URL('/chat/events', other.url), { authorization: `Bearer ${user.token}` });
    expect(s.status).toBe(200);
    await other.close();
    await s.ended;
    expect(s.events.at(-1)).toMatchObject({ event: 'end', data: '{"reason":"serverClosing"}' });
  });
});
