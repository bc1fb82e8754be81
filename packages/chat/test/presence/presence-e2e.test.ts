// Presence end to end over TLS: a real identity server (as `tessera serve --tls-dev`) mints the tokens — presence on
// the Tessera api-version only, the official identity SDK refused as ACS refuses an unknown scope — and a standalone
// chat service serves /presence and the SSE stream, read through @tessera/client's subscribeChatEvents. Room mates
// (rooms made with the official RoomsClient signed with the service's Rooms key) see each other as thread mates do.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from '@azure/communication-chat';
import { AzureCommunicationTokenCredential } from '@azure/communication-common';
import { CommunicationIdentityClient, type TokenScope as AcsTokenScope } from '@azure/communication-identity';
import { RoomsClient } from '@azure/communication-rooms';
import { type ChatStreamEvent, IdentityClient, subscribeChatEvents } from '@tessera/client';
import { TESSERA_API_VERSION, type TokenScope } from '@tessera/core';
import { type RunningServer, startServer } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/http/node-fetch.js';
import type { RunningChatService } from '../../src/service/start-chat-service.js';
import { errorOf, rawRequest } from '../e2e/helpers.js';
import { startTlsChatService } from './tls-chat-service.js';

interface User {
  readonly id: string;
  readonly token: string;
}

let dir: string;
let identityServer: RunningServer;
let chat: RunningChatService;
let ca: string;
let tessera: IdentityClient;
let alice: User;
let bob: User;
let carol: User;
let dave: User;
let threadId: string;
/** The standalone service's Rooms key: it signs room management. */
const roomsKey = randomBytes(32).toString('base64');

const nodeFetch = () => createNodeFetch({ ca }) as unknown as typeof fetch;

async function user(scopes: readonly TokenScope[]): Promise<User> {
  const r = await tessera.createUserAndToken(scopes);
  return { id: r.user.id, token: r.token };
}

function call(who: User | undefined, method: string, path: string, body?: unknown) {
  return rawRequest({ url: chat.url, ca }, method, path, {
    ...(who === undefined ? {} : { token: who.token }),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Subscribes `who` to the event stream and collects presence events. */
function listen(who: User) {
  const events: ChatStreamEvent[] = [];
  const waiters = new Set<() => void>();
  const controller = new AbortController();
  let resolveOpen: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    resolveOpen = resolve;
  });
  subscribeChatEvents({
    endpoint: chat.url,
    credential: { getToken: async () => ({ token: who.token }) },
    fetch: nodeFetch(),
    signal: controller.signal,
    onStateChange: (state) => {
      if (state === 'open') resolveOpen();
    },
    onEvent: (event) => {
      if (event.type !== 'presenceChanged') return;
      events.push(event);
      for (const w of waiters) w();
    },
  });
  return {
    events,
    opened,
    close: () => controller.abort(),
    /** Resolves with the first presence event matching `predicate` (the test's timeout bounds the wait). */
    next(predicate: (event: ChatStreamEvent) => boolean): Promise<ChatStreamEvent> {
      return new Promise((resolve) => {
        const check = () => {
          const found = events.find(predicate);
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-presence-e2e-'));
  identityServer = await startServer({ port: 0, logLevel: 'silent', dataDir: join(dir, 'identity'), tlsDev: true });
  ca = readFileSync(identityServer.devCaPath ?? '', 'utf8');
  chat = await startTlsChatService(identityServer, join(dir, 'identity'), dir, { roomsKey });
  tessera = new IdentityClient(identityServer.connectionString, {
    apiVersion: TESSERA_API_VERSION.version,
    fetch: nodeFetch(),
  });
  alice = await user(['chat', 'presence']);
  bob = await user(['chat.join', 'presence']);
  carol = await user(['chat', 'presence']);
  dave = await user(['chat']);
  const aliceChat = new ChatClient(chat.url, new AzureCommunicationTokenCredential(alice.token), {
    tlsOptions: { ca },
  });
  const created = await aliceChat.createChatThread(
    { topic: 'presence' },
    { participants: [{ id: { communicationUserId: bob.id } }, { id: { communicationUserId: dave.id } }] },
  );
  threadId = created.chatThread?.id ?? '';
}, 60_000);

afterAll(async () => {
  await chat?.close();
  await identityServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('minting the presence scope', () => {
  it('the official identity SDK (an ACS api-version) is refused as ACS refuses an unknown scope', async () => {
    const sdk = new CommunicationIdentityClient(identityServer.connectionString, { tlsOptions: { ca } });
    const error = await sdk.createUserAndToken(['chat', 'presence' as AcsTokenScope]).then(
      () => undefined,
      (e: unknown) => e as { statusCode?: number; code?: string; message?: string },
    );
    expect(error?.statusCode).toBe(400);
    expect(error?.message).toContain("Invalid scopes - 'presence' is not a valid scope.");
  });

  it('the Tessera api-version mints it, and the token keeps it (core used to drop it)', async () => {
    const payload = JSON.parse(Buffer.from(alice.token.split('.')[1] ?? '', 'base64url').toString()) as {
      acsScope: string;
    };
    expect(payload.acsScope).toBe('chat,presence');
    const r = await call(alice, 'GET', '/presence/me');
    expect(r.status).toBe(200);
  });
});

describe('presence routes', () => {
  it('without the presence scope: 403 naming the capability, ACS error body', async () => {
    for (const [method, path, body, capability] of [
      ['PUT', '/presence/me', { state: 'busy' }, 'presence.state.set'],
      ['GET', `/presence/${encodeURIComponent(alice.id)}`, undefined, 'presence.state.read'],
      ['POST', '/presence:batchGet', { ids: [alice.id] }, 'presence.state.read'],
    ] as const) {
      const r = await call(dave, method, path, body);
      expect(r.status).toBe(403);
      expect(errorOf(r.json)).toMatchObject({ code: 'Forbidden', target: capability });
      expect(errorOf(r.json).innererror?.code).toBe('ERR_CAPABILITY_DENIED');
    }
  });

  it('no token: 401', async () => {
    expect((await call(undefined, 'GET', '/presence/me')).status).toBe(401);
  });

  it('set, then read by a thread mate; a stranger is refused exactly as an unknown user', async () => {
    const set = await call(alice, 'PUT', '/presence/me', { state: 'busy', note: 'in a call', expiresInMinutes: 30 });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ id: alice.id.toLowerCase(), state: 'busy', note: 'in a call' });
    const read = await call(bob, 'GET', `/presence/${encodeURIComponent(alice.id)}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ state: 'busy', note: 'in a call' });
    const stranger = await call(carol, 'GET', `/presence/${encodeURIComponent(alice.id)}`);
    const unknown = await call(
      carol,
      'GET',
      `/presence/${encodeURIComponent(`${alice.id.slice(0, -12)}000000000000`)}`,
    );
    expect(stranger.status).toBe(403);
    expect(unknown.status).toBe(403);
    expect(stranger.json).toEqual(unknown.json);
    // Bob never set one: offline.
    expect((await call(alice, 'GET', `/presence/${encodeURIComponent(bob.id)}`)).json).toEqual({
      id: bob.id.toLowerCase(),
      state: 'offline',
    });
  });

  it('batchGet answers the visible users and lists the others as 403 items', async () => {
    const r = await call(bob, 'POST', '/presence:batchGet', { ids: [alice.id, carol.id, bob.id] });
    expect(r.status).toBe(200);
    const body = r.json as { value: { id: string; state: string }[]; invalid: { code: string; target: string }[] };
    expect(body.value.map((v) => v.id)).toEqual([alice.id.toLowerCase(), bob.id.toLowerCase()]);
    expect(body.invalid).toEqual([
      { code: '403', message: 'Permissions check failed', target: carol.id.toLowerCase() },
    ]);
  });

  it('a change reaches thread mates over the SSE stream, not strangers; expiry is announced as offline', async () => {
    const bobStream = listen(bob);
    const carolStream = listen(carol);
    try {
      await Promise.all([bobStream.opened, carolStream.opened]);
      const expiresOn = new Date(Date.now() + 1500).toISOString();
      expect((await call(alice, 'PUT', '/presence/me', { state: 'away', note: 'lunch', expiresOn })).status).toBe(200);
      const changed = await bobStream.next((e) => e.state === 'away');
      expect(changed).toMatchObject({
        type: 'presenceChanged',
        threadId: '',
        userRawId: alice.id.toLowerCase(),
        note: 'lunch',
      });
      const expired = await bobStream.next((e) => e.state === 'offline');
      expect(expired).toMatchObject({ userRawId: alice.id.toLowerCase() });
      expect(expired.note).toBeUndefined();
      expect((await call(bob, 'GET', `/presence/${encodeURIComponent(alice.id)}`)).json).toEqual({
        id: alice.id.toLowerCase(),
        state: 'offline',
      });
      // Carol shares no thread with Alice: she heard nothing, while hearing her own change.
      expect((await call(carol, 'PUT', '/presence/me', { state: 'available' })).status).toBe(200);
      await carolStream.next((e) => e.userRawId === carol.id.toLowerCase());
      expect(carolStream.events.filter((e) => e.userRawId === alice.id.toLowerCase())).toEqual([]);
    } finally {
      bobStream.close();
      carolStream.close();
    }
  }, 30_000);

  it('a thread deleted ends the sharing', async () => {
    const aliceChat = new ChatClient(chat.url, new AzureCommunicationTokenCredential(alice.token), {
      tlsOptions: { ca },
    });
    expect((await call(bob, 'GET', `/presence/${encodeURIComponent(alice.id)}`)).status).toBe(200);
    await aliceChat.deleteChatThread(threadId);
    expect((await call(bob, 'GET', `/presence/${encodeURIComponent(alice.id)}`)).status).toBe(403);
  });
});

describe('room mates', () => {
  it('users who share only a room read and hear each other; a stranger does not; deleting the room ends it', async () => {
    const erin = await user(['chat', 'presence']);
    const frank = await user(['chat', 'presence']);
    const rooms = new RoomsClient(`endpoint=${chat.url};accesskey=${roomsKey}`, { tlsOptions: { ca } });
    const room = await rooms.createRoom({
      participants: [
        { id: { communicationUserId: erin.id }, role: 'Presenter' },
        { id: { communicationUserId: frank.id }, role: 'Attendee' },
      ],
    });
    const frankStream = listen(frank);
    const carolStream = listen(carol);
    try {
      await Promise.all([frankStream.opened, carolStream.opened]);
      expect((await call(erin, 'PUT', '/presence/me', { state: 'busy', note: 'presenting' })).status).toBe(200);
      const read = await call(frank, 'GET', `/presence/${encodeURIComponent(erin.id)}`);
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ id: erin.id.toLowerCase(), state: 'busy', note: 'presenting' });
      expect(await frankStream.next((e) => e.userRawId === erin.id.toLowerCase())).toMatchObject({
        type: 'presenceChanged',
        state: 'busy',
        note: 'presenting',
      });
      expect((await call(erin, 'GET', `/presence/${encodeURIComponent(frank.id)}`)).json).toEqual({
        id: frank.id.toLowerCase(),
        state: 'offline',
      });
      const batch = await call(frank, 'POST', '/presence:batchGet', { ids: [erin.id, carol.id] });
      expect(batch.json).toMatchObject({
        value: [{ id: erin.id.toLowerCase(), state: 'busy' }],
        invalid: [{ code: '403', target: carol.id.toLowerCase() }],
      });
      // Carol shares neither a thread nor a room with Erin: refused, and she heard nothing of her.
      expect((await call(carol, 'GET', `/presence/${encodeURIComponent(erin.id)}`)).status).toBe(403);
      expect((await call(carol, 'PUT', '/presence/me', { state: 'away' })).status).toBe(200);
      await carolStream.next((e) => e.userRawId === carol.id.toLowerCase() && e.state === 'away');
      expect(carolStream.events.filter((e) => e.userRawId === erin.id.toLowerCase())).toEqual([]);

      await rooms.deleteRoom(room.id);
      expect((await call(frank, 'GET', `/presence/${encodeURIComponent(erin.id)}`)).status).toBe(403);
      expect((await call(erin, 'GET', `/presence/${encodeURIComponent(frank.id)}`)).status).toBe(403);
      // Nor does Frank hear Erin's next change (his own, sent after it, arrives; hers never did).
      expect((await call(erin, 'PUT', '/presence/me', { state: 'available' })).status).toBe(200);
      expect((await call(frank, 'PUT', '/presence/me', { state: 'away' })).status).toBe(200);
      await frankStream.next((e) => e.userRawId === frank.id.toLowerCase() && e.state === 'away');
      expect(frankStream.events.filter((e) => e.userRawId === erin.id.toLowerCase()).map((e) => e.state)).toEqual([
        'busy',
      ]);
    } finally {
      frankStream.close();
      carolStream.close();
    }
  }, 30_000);
});

describe('bad input: a seeded fuzz, never a 5xx', () => {
  // mulberry32: the same cases on every run (seed 13).
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const next = random(13);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const values = (): unknown =>
    pick([
      undefined,
      null,
      true,
      0,
      -1,
      1.5,
      1e308,
      10_081,
      60,
      '',
      'busy',
      'Busy',
      'doNotDisturb',
      'offline',
      'x'.repeat(257),
      'x'.repeat(256),
      'a\u0000b',
      '2020-01-01T00:00:00Z',
      new Date(Date.now() + 3_600_000).toISOString(),
      '2099-01-01T00:00:00Z',
      'not a date',
      [],
      ['busy'],
      {},
      { state: 'busy' },
    ]);

  it('PUT /presence/me: 200 or 400 with a code and a target, and a refused body changes nothing', async () => {
    await call(alice, 'PUT', '/presence/me', { state: 'available', note: 'baseline' });
    for (let i = 0; i < 150; i++) {
      const body: Record<string, unknown> = {};
      for (const field of ['state', 'note', 'expiresOn', 'expiresInMinutes', 'extra']) {
        if (next() < 0.6) body[field] = values();
      }
      const raw = next() < 0.1 ? pick(['', '{', '[]', 'null', '"busy"', '{"state":']) : body;
      const r = await call(alice, 'PUT', '/presence/me', raw);
      expect([200, 400], JSON.stringify(raw)).toContain(r.status);
      if (r.status === 400) {
        expect(['ERR_CHAT_VALIDATION', 'ERR_CHAT_BODY_MALFORMED']).toContain(errorOf(r.json).innererror?.code);
        expect((await call(alice, 'GET', '/presence/me')).json).toMatchObject({ state: 'available', note: 'baseline' });
      } else {
        // Accepted: put the baseline back so refusals can be checked against it.
        await call(alice, 'PUT', '/presence/me', { state: 'available', note: 'baseline' });
      }
    }
    expect((await call(alice, 'GET', '/presence/me')).json).toMatchObject({ state: 'available', note: 'baseline' });
  }, 60_000);

  it('GET /presence/{id} and POST /presence:batchGet: 4xx, never 5xx', async () => {
    const ids = [
      'me',
      'x',
      '8:acs:',
      `${alice.id}x`,
      '%00',
      'a'.repeat(600),
      alice.id.toUpperCase(),
      '..',
      '8:orgid:abc',
    ];
    for (const id of ids) {
      const r = await call(bob, 'GET', `/presence/${encodeURIComponent(id)}`);
      expect(r.status, id).toBeLessThan(500);
    }
    for (let i = 0; i < 60; i++) {
      const list = Array.from({ length: Math.floor(next() * 4) }, () => (next() < 0.3 ? alice.id : values()));
      const body = pick<unknown>([{ ids: list }, { ids: values() }, list, {}, { ids: Array(101).fill(alice.id) }]);
      const r = await call(bob, 'POST', '/presence:batchGet', body);
      expect([200, 400], JSON.stringify(body)).toContain(r.status);
    }
  }, 60_000);
});
