// kill -9 under concurrent creates, revokes and deletes (#16), on SQLite and on PostgreSQL: the process dies with
// requests in flight, and after a restart on the same store every write that was acknowledged (201, 204) is there.
// (serve-command.test.ts kills after all writes are answered; here the kill lands in the middle of them.)
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../test/support/test-postgres-url.js';
import {
  acsRequest,
  identityPath,
  introspect,
  killAllSpawned,
  PREVIEW,
  type ServeProcess,
  spawnServe,
  type Target,
  tempDir,
} from '../../server/test/e2e/helpers.js';

const processes: ServeProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill()));
  await killAllSpawned();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function serve(args: readonly string[]): Promise<ServeProcess & { target: Target }> {
  const p = await spawnServe(args);
  processes.push(p);
  return Object.assign(p, { target: { url: p.url, accessKey: p.accessKey } });
}

/** What the clients were told before the process died. */
interface Acknowledged {
  /** 201'd identities nobody tried to delete. */
  readonly live: Set<string>;
  /** Identities whose delete was answered 204. */
  readonly deleted: Set<string>;
  /** Identities whose delete was sent but not answered (either outcome is right). */
  readonly deleteUnknown: Set<string>;
  /** Tokens issued (200) before a revoke of their identity was answered 204. */
  readonly revokedTokens: string[];
  /** Tokens of live identities never revoked. */
  readonly validTokens: Map<string, string>;
  answered: number;
  lost: number;
}

/** Clients creating (with a token), revoking and deleting at once until `stop()`; every answer is recorded. */
function startLoad(target: Target, workers: number) {
  const ack: Acknowledged = {
    live: new Set(),
    deleted: new Set(),
    deleteUnknown: new Set(),
    revokedTokens: [],
    validTokens: new Map(),
    answered: 0,
    lost: 0,
  };
  let running = true;
  const attempt = async <T>(send: () => Promise<T>): Promise<T | undefined> => {
    try {
      const result = await send();
      ack.answered++;
      return result;
    } catch {
      ack.lost++; // the connection died with the process: not acknowledged
      return undefined;
    }
  };
  const worker = async (n: number) => {
    for (let i = 0; running; i++) {
      const created = await attempt(() =>
        acsRequest(target, 'POST', '/identities?api-version=2023-10-01', { json: { createTokenWithScopes: ['chat'] } }),
      );
      if (created?.status !== 201) continue;
      const body = created.json as { identity: { id: string }; accessToken: { token: string } };
      const id = body.identity.id;
      const token = body.accessToken.token;
      ack.live.add(id);
      ack.validTokens.set(id, token);
      const kind = (n + i) % 3;
      if (kind === 1) {
        const revoked = await attempt(() =>
          acsRequest(target, 'POST', identityPath(id, '/:revokeAccessTokens', '2023-10-01')),
        );
        ack.validTokens.delete(id); // a revoke was sent: the token's fate is known only if it was answered
        if (revoked?.status === 204) ack.revokedTokens.push(token);
      } else if (kind === 2) {
        ack.live.delete(id);
        ack.validTokens.delete(id);
        ack.deleteUnknown.add(id);
        const deleted = await attempt(() => acsRequest(target, 'DELETE', identityPath(id, '', '2023-10-01')));
        if (deleted?.status === 204) {
          ack.deleteUnknown.delete(id);
          ack.deleted.add(id);
        }
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, n) => worker(n)));
  return {
    ack,
    async stop() {
      running = false;
      await done;
    },
  };
}

async function killUnderLoadAndCheck(args: readonly string[]): Promise<void> {
  const first = await serve([...args, '--port', '0', '--log-level', 'silent', '--rate-limit', 'off']);
  const load = startLoad(first.target, 8);
  // Let the writes pile up, then kill in the middle of them.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const answeredBeforeKill = load.ack.answered;
  first.child.kill('SIGKILL');
  const exit = await first.exited;
  expect(exit.signal).toBe('SIGKILL');
  await load.stop();
  const { ack } = load;
  expect(answeredBeforeKill).toBeGreaterThan(30);
  expect(ack.lost).toBeGreaterThan(0); // requests really were in flight when it died
  expect(ack.deleted.size).toBeGreaterThan(0);
  expect(ack.revokedTokens.length).toBeGreaterThan(0);

  const second = await serve([...args, '--port', '0', '--log-level', 'silent', '--print-connection-strings']);
  expect(second.resourceId).toBe(first.resourceId);
  const t = second.target;
  for (const id of ack.live) {
    const got = await acsRequest(t, 'GET', identityPath(id, '', PREVIEW));
    expect(got.status, `acknowledged identity ${id}`).toBe(200);
  }
  for (const id of ack.deleted) {
    const got = await acsRequest(t, 'GET', identityPath(id, '', PREVIEW));
    expect(got.status, `acknowledged delete of ${id}`).toBe(404);
  }
  for (const token of ack.revokedTokens) {
    expect(await introspect(t, token)).toEqual({ active: false, reason: 'ERR_TOKEN_REVOKED' });
  }
  for (const token of ack.validTokens.values()) expect((await introspect(t, token)).active).toBe(true);
  // And it takes new writes.
  const after = await acsRequest(t, 'POST', '/identities?api-version=2023-10-01', { json: {} });
  expect(after.status).toBe(201);
  await second.kill();
}

describe('kill -9 with creates, revokes and deletes in flight', () => {
  it('SQLite: every acknowledged create, revoke and delete is there after a restart', async () => {
    const dir = tempDir('tessera-kill9-');
    cleanups.push(() => dir.cleanup());
    await killUnderLoadAndCheck(['--data-dir', dir.path]);
  }, 120_000);

  it('PostgreSQL: every acknowledged create, revoke and delete is there after a restart', async () => {
    const dir = tempDir('tessera-kill9-');
    cleanups.push(() => dir.cleanup());
    const schema = `tessera_kill9_${randomBytes(5).toString('hex')}`;
    const url = new URL(testPostgresUrl());
    cleanups.push(async () => {
      const admin = new pg.Client({ connectionString: url.toString() });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });
    url.searchParams.set('schema', schema);
    await killUnderLoadAndCheck(['--data-dir', dir.path, '--store', url.toString()]);
  }, 120_000);
});
