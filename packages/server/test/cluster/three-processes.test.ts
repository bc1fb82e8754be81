import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, killAllServers, type ServerProcess, spawnServer, subscribeFeed, waitFor } from './cluster-helpers.js';

// Issue 7 "many processes, one truth": three `tessera serve` processes on one real PostgreSQL. A change made
// through one process must take effect in the others (caches, key rings, feed subscribers) within 1 s,
// and a process that restarts must catch up on what it missed.
const PG = 'postgres://postgres@127.0.0.1:5432/test';
const BOUND_MS = 1000;
const V = '2025-03-02-preview';

describe('three server processes on one PostgreSQL', () => {
  const schema = `tessera_cluster_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
  const masterKey = randomBytes(32).toString('base64');
  const primaryKey = randomBytes(64).toString('base64');
  const flags = [
    '--store',
    `${PG}?schema=${schema}`,
    '--master-key',
    masterKey,
    '--primary-key',
    primaryKey,
    '--data-dir',
    dataDir,
    '--rate-limit',
    'off',
    '--poll-ms',
    '60000',
  ];
  let a: ServerProcess;
  let b: ServerProcess;
  let c: ServerProcess;

  beforeAll(async () => {
    // Start together: migrations and first-start resource creation must be safe under concurrency.
    [a, b, c] = await Promise.all([spawnServer(flags), spawnServer(flags), spawnServer(flags)]);
  });

  afterAll(async () => {
    await killAllServers();
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const create = async (p: ServerProcess) => {
    const r = await call(p.connectionString, 'POST', `/identities?api-version=${V}`, {});
    expect(r.status).toBe(201);
    return (r.json.identity as { id: string }).id;
  };
  const issue = (p: ServerProcess, id: string) =>
    call(p.connectionString, 'POST', `/identities/${encodeURIComponent(id)}/:issueAccessToken?api-version=${V}`, {
      scopes: ['chat'],
    });
  const introspect = async (p: ServerProcess, token: string) =>
    (await call(p.connectionString, 'POST', '/tokens/:introspect', { token })).json;

  it('all three agree on one resource and one key', async () => {
    const id = await create(a);
    const token = (await issue(b, id)).json.token as string;
    expect((await introspect(c, token)).active).toBe(true);
    expect(a.connectionString.split(';')[1]).toBe(b.connectionString.split(';')[1]);
  });

  it('a revoke through A invalidates the identity cache of B within the bound', async () => {
    const id = await create(a);
    const before = (await issue(b, id)).json.token as string; // B caches the identity at epoch 0
    const feed = await subscribeFeed(c.connectionString);
    try {
      expect(
        (
          await call(
            a.connectionString,
            'POST',
            `/identities/${encodeURIComponent(id)}/:revokeAccessTokens?api-version=${V}`,
          )
        ).status,
      ).toBe(204);
      expect((await introspect(b, before)).reason).toBe('ERR_TOKEN_REVOKED');
      // Tokens B mints after the revoke must carry the new epoch, i.e. B's cache learnt of it.
      const elapsed = await waitFor(
        async () => (await introspect(a, (await issue(b, id)).json.token as string)).active === true,
        BOUND_MS,
      );
      expect(elapsed).toBeLessThan(BOUND_MS);
      // And a feed subscriber on C sees the event.
      await waitFor(
        () => feed.events.some((e) => e.event === 'identity.revoked' && e.data.identityId === id),
        BOUND_MS,
      );
    } finally {
      feed.close();
    }
  });

  it('a delete through A makes B refuse to issue within the bound', async () => {
    const id = await create(a);
    expect((await issue(b, id)).status).toBe(200);
    expect(
      (await call(a.connectionString, 'DELETE', `/identities/${encodeURIComponent(id)}?api-version=${V}`)).status,
    ).toBe(204);
    await waitFor(async () => (await issue(b, id)).status === 404, BOUND_MS);
  });

  it('a key regenerated through A stops authenticating on B and C within the bound', async () => {
    const old = a.connectionString;
    const regenerated = await call(old, 'POST', '/admin/keys/:regenerate', { key: 'secondary' });
    expect(regenerated.status).toBe(200);
    const secondary = regenerated.json.secondaryConnectionString as string;
    const onB = secondary.replace(a.url, b.url);
    const onC = secondary.replace(a.url, c.url);
    await waitFor(async () => (await call(onB, 'GET', '/admin/keys')).status === 200, BOUND_MS);
    await waitFor(async () => (await call(onC, 'GET', '/admin/keys')).status === 200, BOUND_MS);
  });

  it('a process restarted mid-test catches up on what it missed', async () => {
    const id = await create(a);
    const feedOnB = await subscribeFeed(b.connectionString);
    await waitFor(() => feedOnB.events.some((e) => e.event === 'snapshot'), BOUND_MS);
    const lastSeen = String(feedOnB.events.at(-1)?.id ?? feedOnB.events.find((e) => e.event === 'snapshot')?.id);
    feedOnB.close();
    await b.stop('SIGKILL');
    // While B is down: a revoke and a delete through A.
    const other = await create(a);
    await call(
      a.connectionString,
      'POST',
      `/identities/${encodeURIComponent(id)}/:revokeAccessTokens?api-version=${V}`,
    );
    await call(a.connectionString, 'DELETE', `/identities/${encodeURIComponent(other)}?api-version=${V}`);
    b = await spawnServer(flags);
    // A verifier resuming from its last event id on the restarted B receives exactly what it missed.
    const resumed = await subscribeFeed(b.connectionString, lastSeen);
    try {
      await waitFor(
        () =>
          resumed.events.some((e) => e.event === 'identity.revoked' && e.data.identityId === id) &&
          resumed.events.some((e) => e.event === 'identity.deleted' && e.data.identityId === other),
        BOUND_MS,
      );
      expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);
      expect((await issue(b, other)).status).toBe(404);
    } finally {
      resumed.close();
    }
  });
});

describe('rate-limit counters shared by all processes on PostgreSQL', () => {
  const schema = `tessera_limits_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-cluster-limits-'));
  const flags = [
    '--store',
    `${PG}?schema=${schema}`,
    '--master-key',
    randomBytes(32).toString('base64'),
    '--primary-key',
    randomBytes(64).toString('base64'),
    '--data-dir',
    dataDir,
    '--rate-limit',
    'create=10/30,issue=off',
  ];
  let p: ServerProcess[] = [];

  beforeAll(async () => {
    p = await Promise.all([spawnServer(flags), spawnServer(flags)]);
  });
  afterAll(async () => {
    await killAllServers();
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('two processes together admit the limit, not twice the limit', async () => {
    let admitted = 0;
    const refusedBy = new Set<number>();
    for (let round = 0; round < 8; round++) {
      for (const [i, server] of p.entries()) {
        const r = await call(server.connectionString, 'POST', `/identities?api-version=${V}`);
        if (r.status === 201) admitted++;
        else if (r.status === 429) refusedBy.add(i);
        else throw new Error(`unexpected status ${r.status}`);
      }
      await new Promise((r) => setTimeout(r, 250)); // longer than one counter sync (100 ms)
    }
    expect(admitted).toBe(10);
    expect(refusedBy).toEqual(new Set([0, 1]));
  });
});
