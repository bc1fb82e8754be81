// Every body and query field of the chat API, fuzzed over the wire: wrong types, huge and hostile values,
// malformed JSON, unknown ids. Every answer is a 4xx with an ACS error body (or a success), never a 5xx, and a
// refused request stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng, propertySeed, replaySeed } from '../../../../test/support/property-seed.js';
import { type ChatTestServer, type TestUser, errorOf, rawRequest, startChatTestServer } from './helpers.js';

let t: ChatTestServer;
let alice: TestUser;
let bob: TestUser;
let threadId: string;
let messageId: string;

beforeAll(async () => {
  t = await startChatTestServer();
  alice = await t.user(['chat']);
  bob = await t.user(['chat']);
  const r = await alice.chat.createChatThread({ topic: 'fuzz' }, { participants: [{ id: bob.identifier }] });
  threadId = r.chatThread?.id ?? '';
  messageId = (await alice.chat.getChatThreadClient(threadId).sendMessage({ content: 'seed' })).id;
});
afterAll(async () => {
  await t?.close();
});

const HOSTILE: readonly unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  true,
  '',
  ' ',
  'x'.repeat(30_000),
  'nul\u0000byte',
  '\ud800',
  '<script>alert(1)</script>',
  "'; DROP TABLE chat_messages; --",
  [],
  ['a'],
  {},
  { a: 1 },
  { nested: { deeper: [1, { x: null }] } },
  '2024-13-45T99:99:99Z',
  '1970-01-01T00:00:00Z',
  '8:acs:not-a-real-id',
];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

const id = (user: TestUser) => ({ communicationUser: { id: user.id } });

/** Each route with a valid body; the fuzzer breaks one or more of its fields. */
function routes(): { method: string; path: string; valid: Record<string, unknown>; contentType?: string }[] {
  const th = `/chat/threads/${encodeURIComponent(threadId)}`;
  return [
    {
      method: 'POST',
      path: '/chat/threads',
      valid: { topic: 'ok', participants: [{ communicationIdentifier: id(bob) }], metadata: { a: 'b' } },
    },
    {
      method: 'PATCH',
      path: th,
      valid: { topic: 'ok', metadata: { a: 'b' } },
      contentType: 'application/merge-patch+json',
    },
    {
      method: 'POST',
      path: `${th}/messages`,
      valid: { content: 'ok', senderDisplayName: 'A', type: 'text', metadata: { a: 'b' } },
    },
    {
      method: 'PATCH',
      path: `${th}/messages/${messageId}`,
      valid: { content: 'ok', metadata: { a: 'b' } },
      contentType: 'application/merge-patch+json',
    },
    {
      method: 'POST',
      path: `${th}/participants/:add`,
      valid: {
        participants: [
          { communicationIdentifier: id(bob), displayName: 'B', shareHistoryTime: '2024-01-01T00:00:00Z' },
        ],
      },
    },
    { method: 'POST', path: `${th}/participants/:remove`, valid: { communicationUser: { id: '8:acs:x' } } },
    { method: 'POST', path: `${th}/readReceipts`, valid: { chatMessageId: messageId } },
    { method: 'POST', path: `${th}/typing`, valid: { senderDisplayName: 'A' } },
  ];
}

/** Breaks `valid`: a field set to a hostile value, deleted, or an inner value replaced. */
function mutate(random: () => number, valid: Record<string, unknown>): string {
  const roll = random();
  if (roll < 0.08) return pick(random, ['', 'null', '[]', '"x"', '{', '{"a":', 'not json', '1', '{"topic":"a"}x']);
  const body: Record<string, unknown> = structuredClone(valid);
  const keys = Object.keys(body);
  const n = 1 + Math.floor(random() * 2);
  for (let i = 0; i < n; i++) {
    const key = pick(random, keys);
    const r = random();
    if (r < 0.15) delete body[key];
    else if (r < 0.3 && Array.isArray(body[key])) {
      const list = body[key] as unknown[];
      body[key] = [...list, pick(random, HOSTILE), { communicationIdentifier: pick(random, HOSTILE) }];
    } else if (r < 0.4 && typeof body[key] === 'object' && body[key] !== null) {
      body[key] = { ...(body[key] as object), [pick(random, ['a', 'id', 'kind', ''])]: pick(random, HOSTILE) };
    } else body[key] = pick(random, HOSTILE);
  }
  if (random() < 0.1) body[pick(random, ['unknown', '__proto__', 'constructor'])] = pick(random, HOSTILE);
  return JSON.stringify(body);
}

describe('fuzzed bodies', () => {
  it('answer 2xx or 4xx with an ACS error body, never 5xx (800 requests, seeded)', async () => {
    const random = prng(propertySeed());
    const list = routes();
    const counts = { threadsCreated: 0, messagesSent: 0 };
    for (let i = 0; i < 800; i++) {
      const route = list[i % list.length];
      if (route === undefined) continue;
      const body = mutate(random, route.valid);
      const r = await rawRequest(t, route.method, `${route.path}?api-version=2025-03-15`, {
        token: alice.token,
        body,
        contentType: route.contentType ?? 'application/json',
      });
      expect(r.status, `${route.method} ${route.path} ${body.slice(0, 200)} (${replaySeed()})`).toBeLessThan(500);
      if (r.status >= 400) {
        expect(errorOf(r.json).code, `${body.slice(0, 200)} (${replaySeed()})`).toEqual(expect.any(String));
        expect(errorOf(r.json).innererror?.code).toMatch(/^ERR_/);
      }
      if (route.path === '/chat/threads' && r.status === 201) counts.threadsCreated++;
      if (route.path.endsWith('/messages') && r.status === 201) counts.messagesSent++;
    }
    // Nothing stored half: exactly the accepted creates exist.
    const threads = [];
    for await (const th of alice.chat.listChatThreads()) threads.push(th);
    expect(threads.length).toBe(counts.threadsCreated + 1);
    const messages = [];
    for await (const m of alice.chat.getChatThreadClient(threadId).listMessages()) {
      if ((m.type === 'text' || m.type === 'html') && m.id !== messageId) messages.push(m);
    }
    expect(messages.length).toBe(counts.messagesSent);
  });

  it('fuzzed query parameters answer 200 or 400, never 5xx', async () => {
    const th = `/chat/threads/${encodeURIComponent(threadId)}`;
    const values = [
      '-1',
      '0',
      '1',
      '201',
      '99999999999',
      'abc',
      '1.5',
      '',
      '%00',
      '2024-02-30T00:00:00Z',
      'x'.repeat(500),
    ];
    for (const target of ['/chat/threads', `${th}/messages`, `${th}/participants`, `${th}/readReceipts`]) {
      for (const name of ['maxPageSize', 'skip', 'startTime', 'continuationToken']) {
        for (const value of values) {
          const r = await rawRequest(t, 'GET', `${target}?api-version=2025-03-15&${name}=${value}`, {
            token: alice.token,
          });
          expect([200, 400], `${target} ${name}=${value}`).toContain(r.status);
        }
      }
    }
  });
});

describe('limits and formats', () => {
  const th = () => `/chat/threads/${encodeURIComponent(threadId)}`;

  it('a message of exactly 28 KB is accepted; one byte more is 400 (ACS limit), even in multi-byte text', async () => {
    const ok = await rawRequest(t, 'POST', `${th()}/messages?api-version=2025-03-15`, {
      token: alice.token,
      body: JSON.stringify({ content: 'x'.repeat(28 * 1024) }),
    });
    expect(ok.status).toBe(201);
    for (const content of ['x'.repeat(28 * 1024 + 1), 'é'.repeat(14 * 1024 + 1)]) {
      const r = await rawRequest(t, 'POST', `${th()}/messages?api-version=2025-03-15`, {
        token: alice.token,
        body: JSON.stringify({ content }),
      });
      expect(r.status).toBe(400);
      expect(errorOf(r.json).innererror?.code).toBe('ERR_CHAT_MESSAGE_TOO_LARGE');
    }
  });

  it('a body over 256 KB is 413; a body that is not JSON is 400; another content type is 415', async () => {
    const huge = await rawRequest(t, 'POST', `${th()}/messages?api-version=2025-03-15`, {
      token: alice.token,
      body: JSON.stringify({ content: 'x'.repeat(300 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const broken = await rawRequest(t, 'POST', `${th()}/messages?api-version=2025-03-15`, {
      token: alice.token,
      body: '{"content":',
    });
    expect(broken.status).toBe(400);
    expect(errorOf(broken.json).innererror?.code).toBe('ERR_CHAT_BODY_MALFORMED');
    const text = await rawRequest(t, 'POST', `${th()}/messages?api-version=2025-03-15`, {
      token: alice.token,
      body: 'content=hi',
      contentType: 'text/plain',
    });
    expect(text.status).toBe(415);
  });

  it('malformed identifiers are 400 "Identifier format is invalid"; phone numbers and Teams users too', async () => {
    for (const identifier of [
      { rawId: '8:acs:nope' },
      { phoneNumber: { value: '+15551234567' }, rawId: '4:+15551234567' },
      { microsoftTeamsUser: { userId: 'x' }, rawId: '8:orgid:x' },
      { communicationUser: { id: bob.id }, rawId: alice.id },
    ]) {
      const r = await rawRequest(t, 'POST', `${th()}/participants/:add?api-version=2025-03-15`, {
        token: alice.token,
        body: JSON.stringify({ participants: [{ communicationIdentifier: identifier }] }),
      });
      expect(r.status, JSON.stringify(identifier)).toBe(400);
      expect(errorOf(r.json)).toMatchObject({ message: 'Identifier format is invalid.' });
    }
  });

  it('repeatability-request-id reused for a different request: 409, and no second thread', async () => {
    const headers = { 'repeatability-request-id': 'fuzz-repeat-1' };
    const first = await rawRequest(t, 'POST', '/chat/threads?api-version=2025-03-15', {
      token: bob.token,
      body: JSON.stringify({ topic: 'one' }),
      headers,
    });
    const replay = await rawRequest(t, 'POST', '/chat/threads?api-version=2025-03-15', {
      token: bob.token,
      body: JSON.stringify({ topic: 'one' }),
      headers,
    });
    const other = await rawRequest(t, 'POST', '/chat/threads?api-version=2025-03-15', {
      token: bob.token,
      body: JSON.stringify({ topic: 'two' }),
      headers,
    });
    expect([first.status, replay.status, other.status]).toEqual([201, 201, 409]);
    expect(replay.json).toEqual(first.json);
    expect(errorOf(other.json).innererror?.code).toBe('ERR_CHAT_REPEATABILITY_CONFLICT');
  });
});
