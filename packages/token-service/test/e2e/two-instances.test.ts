// The token service on many instances (#16): two instances on one PostgreSQL behind one address (a round-robin TCP
// proxy, a new connection per request). With each instance's own SQLite, a guest's refresh on the other instance
// failed (unknown session) and every instance kept its own guest caps and per-user limits.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { IdentityClient } from '@tessera/client';
import { isTesseraError } from '@tessera/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { type Stack, startStack } from '../helpers/stack.js';

const PG_URL = testPostgresUrl();
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
const schema = `tessera_ts_${randomBytes(5).toString('hex')}`;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

/** One address in front of several backends: each new connection goes to the next one. */
async function roundRobin(ports: readonly number[]) {
  const served = ports.map(() => 0);
  const sockets = new Set<Socket>();
  let next = 0;
  const server = createServer((client) => {
    const i = next++ % ports.length;
    served[i] = (served[i] ?? 0) + 1;
    const upstream = connect(ports[i] ?? 0, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    served,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A request on a connection of its own (no keep-alive), so the proxy picks the next instance every time. */
function send(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> & { error?: { code: string } } }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const idOf = (body: Record<string, unknown>) => (body.user as { communicationUserId: string }).communicationUserId;

describe('two token-service instances on one PostgreSQL behind one address', () => {
  it('a guest session started on one refreshes on the other; guest caps and per-session limits are shared; one instance sweeps', async () => {
    const store = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
    // One token-cache key for both, as docs/token-service-scaling.md says: either can open what the other cached.
    const encryptionKey = randomBytes(32).toString('base64');
    const settings = {
      anonymous: true,
      store,
      encryptionKey,
      ipRateLimit: 'off',
      anonymousPerIpPerHour: 3,
      userRateLimit: '4/3600',
    } as const;
    const a = await stack.tokenService(settings);
    const b = await stack.tokenService(settings);
    const lb = await roundRobin([Number(new URL(a.url).port), Number(new URL(b.url).port)]);
    try {
      // Guest session on instance A, refreshed through instance B.
      const started = await send(`${lb.url}api/token`, 'GET');
      expect(started.status).toBe(200);
      expect(lb.served).toStrictEqual([1, 0]);
      const secret = (started.body.session as { secret: string }).secret;
      const auth = { authorization: `Session ${secret}` };
      const refreshed = await send(`${lb.url}api/token/refresh`, 'POST', auth);
      expect(lb.served).toStrictEqual([1, 1]);
      expect(refreshed.status).toBe(200);
      expect(idOf(refreshed.body)).toBe(idOf(started.body));
      expect(refreshed.body.token).not.toBe(started.body.token);

      // Guest cap of 3 per IP per hour across both instances: the 4th start is refused, wherever it lands.
      const more = [await send(`${lb.url}api/token`, 'GET'), await send(`${lb.url}api/token`, 'GET')];
      expect(more.map((r) => r.status)).toStrictEqual([200, 200]);
      const capped = await send(`${lb.url}api/token`, 'GET');
      expect(capped.status).toBe(429);
      expect(capped.body.error?.code).toBe('ERR_ANONYMOUS_CAP');

      // 4 refreshes per session per hour across both instances: 1 done, 3 more pass, the 5th is refused.
      const refreshes = [];
      for (let i = 0; i < 4; i++) refreshes.push(await send(`${lb.url}api/token/refresh`, 'POST', auth));
      expect(refreshes.map((r) => r.status)).toStrictEqual([200, 200, 200, 429]);
      expect(refreshes[3]?.body.error?.code).toBe('ERR_RATE_LIMITED');
      // Both instances served throughout.
      expect(lb.served[0]).toBeGreaterThan(3);
      expect(lb.served[1]).toBeGreaterThan(3);

      // An hour and more later, both sweep at once: one holds the lease and deletes the 3 guest identities once.
      const later = Date.now() + 61 * 60_000;
      const sweeps = await Promise.all([a.sweep(later), b.sweep(later)]);
      expect(sweeps.map((s) => s.deleted).reduce((x, y) => x + y)).toBe(3);
      expect(sweeps.filter((s) => s.skipped)).toHaveLength(1);
      expect(sweeps.map((s) => s.failed)).toStrictEqual([0, 0]);
      const identity = new IdentityClient(stack.identity.connectionString);
      for (const id of [started, ...more].map((r) => idOf(r.body))) {
        await expect(identity.getUser(id)).rejects.toSatisfy((e: unknown) => isTesseraError(e, 'ERR_IDENTITY_DELETED'));
      }
      // The session is over on both instances.
      const late = await send(`${lb.url}api/token/refresh`, 'POST', auth);
      expect(late.body.error?.code).toBe('ERR_SESSION_INVALID');
    } finally {
      await lb.close();
    }
  }, 60_000);
});
