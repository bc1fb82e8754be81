// CORS on the chat plugin's client-facing routes (chat, presence, events), inject level: preflights from a listed
// and an unlisted origin, the headers of an answer and of an error answer, the event stream (hijacked, headers
// written by hand), `'*'`, no `Origin` unchanged, the Rooms API left without CORS, and bad origins refused.
import { TesseraError } from '@tessera/core';
import type { VerifiedToken, Verifier } from '@tessera/verifier';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatPluginOptions, chatPlugin } from '../../src/chat-plugin.js';
import { chatCorsOrigin } from '../../src/http/cors.js';
import { createSqlitePresenceStore } from '../../src/presence/presence-store-sqlite.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';
import { createSqliteChatStore } from '../../src/store/sqlite-chat-store.js';

const APP = 'https://app.example';
const OTHER = 'https://evil.example';
const API = 'api-version=2024-03-07';
const USER = '8:acs:11111111-2222-4333-8444-555555555555_00000000-0000-4000-8000-000000000001';

/** Accepts the token `good` (every capability), refuses anything else as an invalid token. */
const verifier: Verifier = {
  async verify(token) {
    if (token !== 'good') throw new TesseraError('ERR_TOKEN_BAD_SIGNATURE', 'The access token signature is invalid.');
    return {
      identity: USER,
      scopes: ['chat', 'presence'],
      expiresAt: Date.now() + 3_600_000,
      issuedAt: Date.now(),
      resource: '11111111-2222-4333-8444-555555555555',
      resourceLocation: 'unitedstates',
      tokenId: 't1',
      claims: {},
    } as unknown as VerifiedToken;
  },
  authorize: () => ({ allowed: true }),
  ready: async () => undefined,
  status: () => ({}) as ReturnType<Verifier['status']>,
  close: async () => undefined,
};

const store = createSqliteChatStore({ path: ':memory:' });
const rooms = createSqliteRoomsStore({ path: ':memory:' });
const presence = createSqlitePresenceStore({ path: ':memory:' });
const apps: FastifyInstance[] = [];

async function mount(cors: ChatPluginOptions['cors']): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(chatPlugin, {
    verifier,
    store,
    cors,
    presence: { store: presence },
    rooms: { store: rooms, accessKeys: () => [] },
    eventStream: { heartbeatMs: 60_000 },
  });
  apps.push(app);
  return app;
}

let app: FastifyInstance;

beforeAll(async () => {
  await store.migrate();
  await rooms.migrate();
  await presence.migrate();
  app = await mount({ origins: [APP, 'http://127.0.0.1:5173'] });
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await presence.close();
  await rooms.close();
  await store.close();
});

const preflight = (a: FastifyInstance, url: string, origin: string, method = 'POST', headers = 'authorization') =>
  a.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
  });

describe('preflight', () => {
  it('answers a listed origin with 204 and the allowed methods and headers', async () => {
    for (const url of [
      `/chat/threads?${API}`,
      '/chat/threads/19:abc@thread.v2/messages/1',
      '/chat/events',
      '/presence/me',
      '/presence:batchGet',
    ]) {
      const r = await preflight(app, url, APP, 'PATCH', 'Authorization, Content-Type, x-ms-custom-thing, x-evil');
      expect(r.statusCode, url).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe(APP);
      expect(r.headers['access-control-allow-methods']).toBe('GET, POST, PUT, PATCH, DELETE');
      const allowed = String(r.headers['access-control-allow-headers']).split(', ');
      for (const h of ['authorization', 'content-type', 'repeatability-request-id', 'x-ms-useragent', 'last-event-id'])
        expect(allowed).toContain(h);
      expect(allowed).toContain('x-ms-custom-thing');
      expect(allowed).not.toContain('x-evil');
      expect(r.headers['access-control-max-age']).toBe('600');
      expect(r.headers.vary).toBe('Origin, Access-Control-Request-Headers');
      expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('gives an unlisted origin no CORS headers', async () => {
    const r = await preflight(app, '/chat/threads', OTHER);
    expect(r.statusCode).toBe(204);
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('leaves the Rooms API without CORS (no OPTIONS route, no headers)', async () => {
    const r = await preflight(app, '/rooms', APP);
    expect(r.statusCode).toBe(404);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const post = await app.inject({ method: 'POST', url: `/rooms?${API}`, headers: { origin: APP }, payload: {} });
    expect(post.statusCode).toBe(401);
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('is not there without the option (unchanged: 404)', async () => {
    const plain = await mount(undefined);
    const r = await preflight(plain, '/chat/threads', APP);
    expect(r.statusCode).toBe(404);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

/** `GET /chat/threads` with these headers (an `origin` and a token, `good` unless given). */
const listThreads = (a: FastifyInstance, origin: string | undefined, token = 'good') =>
  a.inject({
    method: 'GET',
    url: `/chat/threads?${API}`,
    headers: { authorization: `Bearer ${token}`, ...(origin === undefined ? {} : { origin }) },
  });

describe('actual requests', () => {
  it('a listed origin reads the answer and the exposed headers', async () => {
    const r = await listThreads(app, APP);
    expect(r.statusCode).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    const exposed = String(r.headers['access-control-expose-headers']).split(', ');
    for (const h of ['retry-after', 'x-ms-client-request-id', 'api-supported-versions', 'location'])
      expect(exposed).toContain(h);
    expect(r.headers.vary).toBe('Origin');
  });

  it('error answers of the error handler carry them too', async () => {
    const bad = await listThreads(app, APP, 'nope');
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['access-control-allow-origin']).toBe(APP);
    expect(bad.headers['access-control-expose-headers']).toContain('retry-after');
    const malformed = await app.inject({
      method: 'POST',
      url: `/chat/threads?${API}`,
      headers: { origin: APP, authorization: 'Bearer good', 'content-type': 'application/json' },
      payload: '{',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['access-control-allow-origin']).toBe(APP);
    const presenceAnswer = await app.inject({
      method: 'PUT',
      url: '/presence/me?api-version=2025-06-30-tessera',
      headers: { origin: APP },
      payload: {},
    });
    expect(presenceAnswer.statusCode).toBe(401);
    expect(presenceAnswer.headers['access-control-allow-origin']).toBe(APP);
  });

  it('the event stream carries them (written by hand after the hijack)', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const controller = new AbortController();
    const r = await fetch(`${address}/chat/events`, {
      headers: { origin: APP, authorization: 'Bearer good' },
      signal: controller.signal,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    expect(r.headers.get('access-control-allow-origin')).toBe(APP);
    expect(r.headers.get('access-control-expose-headers')).toContain('retry-after');
    expect(r.headers.get('api-supported-versions')).not.toBeNull();
    controller.abort();
  });

  it('an unlisted origin gets no CORS headers, and no Origin changes nothing', async () => {
    const other = await listThreads(app, OTHER);
    const none = await listThreads(app, undefined);
    for (const r of [other, none]) {
      expect(r.statusCode).toBe(200);
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });

  it("'*' answers any origin with *, no Vary: Origin, no credentials", async () => {
    const any = await mount({ origins: ['*'] });
    const pre = await preflight(any, '/chat/threads', OTHER);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-credentials']).toBeUndefined();
    const r = await listThreads(any, OTHER);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers.vary).toBeUndefined();
  });
});

describe('origins', () => {
  it('normalises origins and refuses anything else at registration', async () => {
    expect(chatCorsOrigin('HTTPS://App.Example:443')).toBe('https://app.example');
    expect(chatCorsOrigin('http://127.0.0.1:5173/')).toBe('http://127.0.0.1:5173');
    for (const bad of ['app.example', 'https://app.example/path', 'ftp://x', 'https://u@app.example', 'https://a?b'])
      expect(() => chatCorsOrigin(bad), bad).toThrow(TypeError);
    await expect(mount({ origins: ['https://app.example/x'] })).rejects.toThrow(/not an origin/);
  });
});
