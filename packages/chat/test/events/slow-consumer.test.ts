// A stream whose client does not read is cut off (event: end, reason slowConsumer) once maxPendingBytes wait unsent,
// instead of buffering without bound in the server.
import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '@tessera/core';
import { type EventsFixture, startEventsFixture } from './events-fixture.js';

let f: EventsFixture;
beforeAll(async () => {
  f = await startEventsFixture({ eventStream: { maxPendingBytes: 64 * 1024 } });
});
afterAll(async () => {
  await f?.close();
});

it('ends a stream that does not read with slowConsumer; the events before it are whole', async () => {
  const alice = await f.identity.createUserAndToken(['chat']);
  const bob = await f.identity.createUserAndToken(['chat']);
  const created = await f.call(alice.token, 'POST', '/chat/threads', {
    topic: 'slow',
    participants: [{ communicationIdentifier: { communicationUser: { id: bob.user.communicationUserId } } }],
  });
  const threadId = (created.json?.chatThread as { id: string } | undefined)?.id ?? '';
  const url = new URL('/chat/events', f.chat.url);
  const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${bob.token}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  expect(response.statusCode).toBe(200);
  response.pause(); // Bob's client stops reading: the kernel buffers fill, then the server's
  const content = 'z'.repeat(27 * 1024);
  const sent = 700; // ~19 MB of events: more than loopback socket buffers hold
  for (let i = 0; i < sent; i++) {
    const r = await f.call(alice.token, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/messages`, { content });
    expect(r.status).toBe(201);
  }
  const events: SseEvent[] = [];
  const parser = new SseParser({ onEvent: (e) => events.push(e) });
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => parser.push(chunk));
  response.resume();
  await new Promise((resolve) => response.on('end', resolve));
  expect(events.at(-1)).toMatchObject({ event: 'end', data: '{"reason":"slowConsumer"}' });
  const messages = events.filter((e) => e.event === 'chatMessageReceived');
  expect(messages.length).toBeLessThan(sent);
  for (const m of messages)
    expect((JSON.parse(m.data) as { message: { content: string } }).message.content).toBe(content);
});
