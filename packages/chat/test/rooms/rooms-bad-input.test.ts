// Bad input never reaches a 500: every body and query field of every Rooms route fuzzed with wrong types, odd
// values and broken JSON (seeded, so a failure reproduces), plus each HMAC failure with its own code.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { buildStringToSign, formatHmacAuthorization } from '@tessera/core';
import { createNodeVerifier } from '@tessera/verifier/node';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng, propertySeed, replaySeed } from '../../../../test/support/property-seed.js';
import { roomsPlugin } from '../../src/rooms/rooms-plugin.js';
import { createSqliteRoomsStore } from '../../src/rooms/sqlite-rooms-store.js';

const HOST = 'rooms.example.test';
const KEY = randomBytes(32);
const API = 'api-version=2025-03-13';
const USER = '8:acs:11111111-2222-4333-8444-555555555555_00000000-0000-4000-8000-000000000001';

const store = createSqliteRoomsStore({ path: ':memory:' });
const verifier = createNodeVerifier({ endpoint: 'http://127.0.0.1:9/', revocation: false });
let app: FastifyInstance;
let roomId = '';

beforeAll(async () => {
  await store.migrate();
  app = Fastify();
  await app.register(roomsPlugin, {
    store,
    verifier,
    publicHost: HOST,
    resourceId: '11111111-2222-4333-8444-555555555555',
    accessKeys: () => [{ name: 'primary', secret: KEY }],
    maxParticipants: 5,
  });
  roomId = String((await send('POST', `/rooms?${API}`, {})).json.id);
});

afterAll(async () => {
  await app.close();
  await store.close();
  await verifier.close();
});

interface SendOptions {
  readonly date?: string;
  readonly host?: string;
  readonly hash?: string;
  readonly key?: Buffer;
  readonly contentType?: string;
}

async function send(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, o: SendOptions = {}) {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const hash = createHash('sha256').update(text).digest('base64');
  const date = o.date ?? new Date().toUTCString();
  const host = o.host ?? HOST;
  const toSign = buildStringToSign({ method, pathAndQuery: url, date, host, contentHash: hash });
  const signature = createHmac('sha256', o.key ?? KEY)
    .update(toSign)
    .digest('base64');
  const response = await app.inject({
    method,
    url,
    headers: {
      host,
      'x-ms-date': date,
      'x-ms-content-sha256': o.hash ?? hash,
      authorization: formatHmacAuthorization(signature),
      ...(text === '' ? {} : { 'content-type': o.contentType ?? 'application/json' }),
    },
    ...(text === '' ? {} : { payload: text }),
  });
  return {
    status: response.statusCode,
    json: (response.body === '' ? {} : response.json()) as Record<string, unknown> & {
      error?: { innererror?: { code?: string } };
    },
  };
}

const ODD: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  '',
  'x'.repeat(5000),
  '2026-13-45T99:99:99Z',
  '2026-06-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  [],
  [1, 2],
  {},
  { role: 'Presenter' },
  { role: 5 },
  { [USER]: null },
  { [USER]: { role: 'Kafka' } },
  { [USER]: { role: 'Consumer' } },
  { __proto__: { role: 'Presenter' } },
  '\u0000\ud800',
];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T;
}

describe('Rooms bad input', () => {
  it('fuzzed bodies of create, update, participants and decisions: 2xx or 4xx, never 5xx', async () => {
    const random = prng(propertySeed());
    const fields = ['validFrom', 'validUntil', 'pstnDialOutEnabled', 'participants', 'token', 'action', 'x'];
    const routes = [
      ['POST', `/rooms?${API}`],
      ['PATCH', `/rooms/${roomId}?${API}`],
      ['PATCH', `/rooms/${roomId}/participants?${API}`],
      ['POST', `/rooms/${roomId}/decisions:evaluate`],
      ['POST', '/calls/decisions:evaluate'],
    ] as const;
    for (let i = 0; i < 300; i++) {
      const [method, url] = pick(random, routes);
      const body: Record<string, unknown> = {};
      for (const field of fields) if (random() < 0.4) body[field] = pick(random, ODD);
      const r = await send(method, url, random() < 0.1 ? pick(random, ['{', '[', '"a"', '1', 'null', '{"a":}']) : body);
      expect(r.status, `${method} ${url} ${JSON.stringify(body).slice(0, 200)} (${replaySeed()})`).toBeLessThan(500);
    }
  });

  it('fuzzed ids and query strings: 4xx (DELETE may be 204), never 5xx', async () => {
    const random = prng(propertySeed() ^ 7);
    const ids = ['1', 'abc', '9'.repeat(20), '99999999999999999', '%00', '..', `${roomId}x`, ' ', '-1'.repeat(9)];
    const queries = [
      '',
      '?api-version=',
      '?api-version=2020-01-01',
      `?${API}&continuationToken=%%%`,
      `?${API}&continuationToken=eyJ9`,
    ];
    for (let i = 0; i < 100; i++) {
      const url = `/rooms/${encodeURIComponent(pick(random, ids))}${pick(random, ['', '/participants'])}${pick(random, queries)}`;
      const method = pick(random, ['GET', 'PATCH', 'DELETE'] as const);
      const r = await send(method, url);
      // DELETE of a well-formed unknown id is 204, as the service answers it.
      if (method !== 'DELETE') expect(r.status, `${method} ${url} (${replaySeed()})`).toBeGreaterThanOrEqual(400);
      expect(r.status, `${method} ${url} (${replaySeed()})`).toBeLessThan(500);
    }
    for (const token of ['%%%', 'eyJ9', Buffer.from('{"c":"x","i":1}').toString('base64url'), 'a'.repeat(300)]) {
      const r = await send('GET', `/rooms?${API}&continuationToken=${token}`);
      expect(r.status, token).toBe(400);
    }
  });

  it('a roster cap: too many in one request or in the room is 400 and changes nothing', async () => {
    const user = (n: number) => USER.replace(/1$/, String(n));
    const six = Object.fromEntries([1, 2, 3, 4, 5, 6].map((n) => [user(n), { role: 'Attendee' }]));
    const tooMany = await send('PATCH', `/rooms/${roomId}/participants?${API}`, { participants: six });
    expect(tooMany.status).toBe(400);
    const four = Object.fromEntries([1, 2, 3, 4].map((n) => [user(n), { role: 'Attendee' }]));
    expect((await send('PATCH', `/rooms/${roomId}/participants?${API}`, { participants: four })).status).toBe(200);
    const two = Object.fromEntries([5, 6].map((n) => [user(n), { role: 'Attendee' }]));
    const over = await send('PATCH', `/rooms/${roomId}/participants?${API}`, { participants: two });
    expect(over.json.error?.innererror?.code).toBe('ERR_ROOMS_TOO_MANY_PARTICIPANTS');
    expect(await store.countParticipants(roomId)).toBe(4);
  });

  it('with resourceId set, a participant of another resource is refused on create and update', async () => {
    const foreign = USER.replace('11111111-2222-4333-8444-555555555555', 'aaaaaaaa-2222-4333-8444-555555555555');
    const body = { participants: { [foreign]: { role: 'Attendee' } } };
    for (const [method, url] of [
      ['POST', `/rooms?${API}`],
      ['PATCH', `/rooms/${roomId}/participants?${API}`],
    ] as const) {
      const r = await send(method, url, body);
      expect(r.status, method).toBe(400);
      expect(r.json.error?.innererror?.code).toBe('ERR_ROOMS_PARTICIPANTS_INVALID');
    }
    expect(await store.getParticipant(roomId, foreign)).toBeUndefined();
  });

  it('media type and size: 415 for another type, 413 above 256 KB', async () => {
    expect((await send('POST', `/rooms?${API}`, '{}', { contentType: 'text/plain' })).status).toBe(415);
    const big = JSON.stringify({ x: 'a'.repeat(300 * 1024) });
    expect((await send('POST', `/rooms?${API}`, big)).status).toBe(413);
  });

  it('each HMAC failure has its own code', async () => {
    const url = `/rooms?${API}`;
    const cases: Array<[SendOptions, string]> = [
      [{ key: randomBytes(32) }, 'ERR_AUTH_SIGNATURE_MISMATCH'],
      [{ date: new Date(Date.now() - 3600_000).toUTCString() }, 'ERR_AUTH_DATE_OUT_OF_RANGE'],
      [{ date: 'yesterday' }, 'ERR_AUTH_DATE_INVALID'],
      [{ hash: createHash('sha256').update('other').digest('base64') }, 'ERR_AUTH_CONTENT_HASH_MISMATCH'],
      [{ host: 'elsewhere.example:8443' }, 'ERR_AUTH_HOST_MISMATCH'],
    ];
    for (const [options, code] of cases) {
      const r = await send('GET', url, undefined, options);
      expect(r.status, code).toBe(401);
      expect(r.json.error?.innererror?.code).toBe(code);
    }
  });
});
