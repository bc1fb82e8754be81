// Rooms mounted in two `tessera serve` processes on one PostgreSQL: a primary key regenerated through one process's
// admin API stops authenticating Rooms calls on the other too (its key ring follows the key.regenerated event).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { spawnTessera, stopAllAndDropSchema } from '../e2e/processes.js';
import { signedFetch } from './rooms-helpers.js';

const PG = testPostgresUrl();
const schema = `tessera_rooms_keys_${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-rooms-pg-'));
const API = 'api-version=2025-03-13';
const endpoints: string[] = [];
let accessKey = '';

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const serve = spawnTessera([
      'serve',
      '--port',
      '0',
      '--log-level',
      'silent',
      '--data-dir',
      dataDir,
      '--store',
      `${PG}?schema=${schema}`,
      '--print-connection-strings',
    ]);
    const [, connectionString = ''] = await serve.waitFor(/^Connection string: (\S+)$/m);
    endpoints.push(/endpoint=([^;]+)/.exec(connectionString)?.[1] ?? '');
    accessKey = /accesskey=([^;]+)/.exec(connectionString)?.[1] ?? '';
  }
}, 90_000);

afterAll(async () => {
  await stopAllAndDropSchema(PG, schema);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Polls `probe` until it answers `status` or `withinMs` pass; returns the last answer. */
async function answersWithin(probe: () => Promise<number>, status: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const got = await probe();
    if (got === status || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('a primary key regenerated on one process is refused by the other process’s Rooms API', async () => {
  const [a = '', b = ''] = endpoints;
  const created = await signedFetch(accessKey, 'POST', `${b}rooms?${API}`, {});
  expect(created.status).toBe(201);
  const roomId = String(created.json?.id);
  const onB = async (key: string) => (await signedFetch(key, 'GET', `${b}rooms/${roomId}?${API}`)).status;
  expect(await onB(accessKey)).toBe(200);

  const regenerated = await signedFetch(accessKey, 'POST', `${a}admin/keys/:regenerate`, { key: 'primary' });
  expect(regenerated.status).toBe(200);
  const fresh = String(regenerated.json?.primaryKey);
  // On the process that regenerated: at once.
  expect((await signedFetch(accessKey, 'GET', `${a}rooms/${roomId}?${API}`)).status).toBe(401);
  // On the other: as soon as the key.regenerated event arrives (NOTIFY; the --poll-ms poll is the safety net).
  expect(await answersWithin(() => onB(accessKey), 401, 10_000)).toBe(401);
  expect(await answersWithin(() => onB(fresh), 200, 10_000)).toBe(200);
});
