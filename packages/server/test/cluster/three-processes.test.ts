import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import {
  acsRequest,
  createIdentity,
  type EventStream,
  identityPath,
  introspect,
  issueToken,
  killAllSpawned,
  openEventStream,
  PREVIEW,
  type ServeProcess,
  signedGetHeaders,
  spawnServe,
  type Target,
  targetOf,
  tempDir,
  waitFor,
} from '../e2e/helpers.js';

// Issue 7 "many processes, one truth": three `tessera serve` processes on one real PostgreSQL. A change made
// through one process must take effect in the others (caches, key rings, feed subscribers) within 1 s,
// and a process that restarts must catch up on what it missed.
const PG = testPostgresUrl();
const BOUND_MS = 1000;
const V = PREVIEW;

/** `tessera serve` flags shared by every process of one cluster. */
function serveFlags(schema: string, dataDir: string, extra: readonly string[]): string[] {
  return [
    '--port',
    '0',
    '--log-level',
    'silent',
    '--store',
    `${PG}?schema=${schema}`,
    '--master-key',
    randomBytes(32).toString('base64'),
    '--primary-key',
    randomBytes(64).toString('base64'),
    '--data-dir',
    dataDir,
    ...extra,
  ];
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Subscribes to GET /revocations (optionally resuming after `lastEventId`); resolves once the feed is live. */
async function subscribeFeed(p: Target, lastEventId?: string): Promise<EventStream> {
  const headers = {
    ...signedGetHeaders(p, '/revocations'),
    ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
  };
  const feed = await openEventStream(p.url, '/revocations', headers);
  if (feed.status !== 200) {
    feed.close();
    throw new Error(`feed answered ${feed.status}`);
  }
  return feed;
}

/** Whether the feed carried an `event` about identity `id`. */
function sawEvent(feed: EventStream, event: string, id: string): boolean {
  return feed
    .events()
    .some((e) => e.event === event && (e.json as { identityId?: unknown } | undefined)?.identityId === id);
}

describe('three server processes on one PostgreSQL', () => {
  const schema = `tessera_cluster_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = tempDir('tessera-cluster-');
  // One master key and primary key for all three: they are one deployment.
  const flags = serveFlags(schema, dataDir.path, ['--rate-limit', 'off', '--poll-ms', '60000']);
  let a: ServeProcess;
  let b: ServeProcess;
  let c: ServeProcess;

  beforeAll(async () => {
    // Start together: migrations and first-start resource creation must be safe under concurrency.
    [a, b, c] = await Promise.all([spawnServe(flags), spawnServe(flags), spawnServe(flags)]);
  });

  afterAll(async () => {
    await killAllSpawned();
    await dropSchema(schema);
    dataDir.cleanup();
  });

  const create = async (p: Target) => (await createIdentity(p, {}, V)).identity.id;
  const issue = (p: Target, id: string) =>
    acsRequest(p, 'POST', identityPath(id, '/:issueAccessToken', V), { json: { scopes: ['chat'] } });
  const tokenFrom = async (p: Target, id: string) => (await issueToken(p, id, ['chat'], V)).token;

  it('all three agree on one resource and one key', async () => {
    const id = await create(a);
    const token = await tokenFrom(b, id);
    expect((await introspect(c, token)).active).toBe(true);
    expect(b.accessKey).toBe(a.accessKey);
    expect(c.accessKey).toBe(a.accessKey);
    expect(b.resourceId).toBe(a.resourceId);
    expect(c.resourceId).toBe(a.resourceId);
  });

  it('a revoke through A invalidates the identity cache of B within the bound', async () => {
    const id = await create(a);
    const before = await tokenFrom(b, id); // B caches the identity at epoch 0
    const feed = await subscribeFeed(c);
    try {
      expect((await acsRequest(a, 'POST', identityPath(id, '/:revokeAccessTokens', V))).status).toBe(204);
      expect(await introspect(b, before)).toMatchObject({ active: false, reason: 'ERR_TOKEN_REVOKED' });
      // Tokens B mints after the revoke must carry the new epoch, i.e. B's cache learnt of it.
      const elapsed = await waitFor(async () => (await introspect(a, await tokenFrom(b, id))).active, BOUND_MS);
      expect(elapsed).toBeLessThan(BOUND_MS);
      // And a feed subscriber on C sees the event.
      await waitFor(() => sawEvent(feed, 'identity.revoked', id), BOUND_MS);
    } finally {
      feed.close();
    }
  });

  it('a delete through A makes B refuse to issue within the bound', async () => {
    const id = await create(a);
    expect((await issue(b, id)).status).toBe(200);
    expect((await acsRequest(a, 'DELETE', identityPath(id, '', V))).status).toBe(204);
    await waitFor(async () => (await issue(b, id)).status === 404, BOUND_MS);
  });

  it('a key regenerated through A stops authenticating on B and C within the bound', async () => {
    const regenerated = await acsRequest(a, 'POST', '/admin/keys/:regenerate', { json: { key: 'secondary' } });
    expect(regenerated.status).toBe(200);
    const { accessKey } = targetOf(
      (regenerated.json as { secondaryConnectionString: string }).secondaryConnectionString,
    );
    const onB: Target = { url: b.url, accessKey };
    const onC: Target = { url: c.url, accessKey };
    await waitFor(async () => (await acsRequest(onB, 'GET', '/admin/keys')).status === 200, BOUND_MS);
    await waitFor(async () => (await acsRequest(onC, 'GET', '/admin/keys')).status === 200, BOUND_MS);
  });

  it('a process restarted mid-test catches up on what it missed', async () => {
    const id = await create(a);
    const feedOnB = await subscribeFeed(b);
    let lastSeen: string;
    try {
      await waitFor(() => feedOnB.events().some((e) => e.event === 'snapshot'), BOUND_MS);
      const events = feedOnB.events();
      lastSeen = String(events.at(-1)?.id ?? events.find((e) => e.event === 'snapshot')?.id);
    } finally {
      feedOnB.close();
    }
    await b.kill();
    // While B is down: a revoke and a delete through A.
    const other = await create(a);
    expect((await acsRequest(a, 'POST', identityPath(id, '/:revokeAccessTokens', V))).status).toBe(204);
    expect((await acsRequest(a, 'DELETE', identityPath(other, '', V))).status).toBe(204);
    b = await spawnServe(flags);
    // A verifier resuming from its last event id on the restarted B receives exactly what it missed.
    const resumed = await subscribeFeed(b, lastSeen);
    try {
      await waitFor(
        () => sawEvent(resumed, 'identity.revoked', id) && sawEvent(resumed, 'identity.deleted', other),
        BOUND_MS,
      );
      expect(resumed.events().some((e) => e.event === 'snapshot')).toBe(false);
      expect((await issue(b, other)).status).toBe(404);
    } finally {
      resumed.close();
    }
  });
});

describe('rate-limit counters shared by all processes on PostgreSQL', () => {
  const schema = `tessera_limits_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = tempDir('tessera-cluster-limits-');
  // Windows are fixed and aligned to the epoch (shared-rate-limiter.ts): a 10 s window, and the test starts at the
  // beginning of one, so it never straddles two (with 30 s windows it did, one run in ten or so) and a retry gets a
  // fresh window instead of the exhausted one.
  const WINDOW_MS = 10_000;
  const flags = serveFlags(schema, dataDir.path, ['--rate-limit', `create=10/${WINDOW_MS / 1000},issue=off`]);
  let p: ServeProcess[] = [];

  beforeAll(async () => {
    p = await Promise.all([spawnServe(flags), spawnServe(flags)]);
  });
  afterAll(async () => {
    await killAllSpawned();
    await dropSchema(schema);
    dataDir.cleanup();
  });

  it('two processes together admit the limit, not twice the limit', async () => {
    await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 50));
    const windowStart = Date.now() - (Date.now() % WINDOW_MS);
    let admitted = 0;
    const refusedBy = new Set<number>();
    for (let round = 0; round < 8; round++) {
      for (const [i, server] of p.entries()) {
        const r = await acsRequest(server, 'POST', `/identities?api-version=${V}`);
        if (r.status === 201) admitted++;
        else if (r.status === 429) refusedBy.add(i);
        else throw new Error(`unexpected status ${r.status}`);
      }
      await new Promise((r) => setTimeout(r, 400)); // several counter syncs (100 ms each), even on a busy machine
    }
    // All 16 requests fell in one window, or the counts below would be of two.
    expect(Date.now() - windowStart).toBeLessThan(WINDOW_MS);
    expect(admitted).toBe(10);
    expect(refusedBy).toEqual(new Set([0, 1]));
  });
});
