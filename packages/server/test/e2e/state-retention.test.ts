import { afterEach, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  decodeToken,
  errorOf,
  fetchJwks,
  identityPath,
  issueToken,
  openEventStream,
  PREVIEW,
  signRequest,
  startTestServer,
  type Target,
  type TestServer,
  waitFor,
} from './helpers.js';

// Issue 16, "state bounded by the token lifetime" and "keys that rotate", through one server with an injected clock:
// the pruner (every 20 ms here) removes what no token can need any more, and nothing earlier.

/** Longest token lifetime plus the default clock skew (--max-clock-skew 900 s). */
const RETENTION_MS = (1440 * 60 + 900) * 1000;

describe('state bounded by the token lifetime (one server, injected clock)', () => {
  let now = Date.now();
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** The server's target, signing each request with the injected clock's date. */
  const at = (t: TestServer): Target => ({ url: t.url, accessKey: t.primaryKey });
  const send = (t: TestServer, method: string, path: string, json?: unknown) =>
    acsRequest(at(t), method, path, { date: new Date(now).toUTCString(), ...(json === undefined ? {} : { json }) });
  const snapshotOf = async (t: TestServer) =>
    (await send(t, 'GET', '/revocations/snapshot')).json as {
      seq: number;
      identities: Array<{ id: string; epoch: number; deleted: boolean; at: number }>;
    };

  it('revocation entries, tombstones, events and the retired signing key go once their last token has expired', async () => {
    now = Date.now();
    server = await startTestServer({ clock: () => now, pruneIntervalMs: 20 });
    const t = server;
    const create = async () =>
      ((await send(t, 'POST', `/identities?api-version=${PREVIEW}`, {})).json as { identity: { id: string } }).identity
        .id;
    const revoked = await create();
    const deleted = await create();
    expect((await send(t, 'POST', identityPath(revoked, '/:revokeAccessTokens', PREVIEW))).status).toBe(204);
    expect((await send(t, 'DELETE', identityPath(deleted, '', PREVIEW))).status).toBe(204);
    const revokedAt = now;
    const before = await snapshotOf(t);
    expect(before.identities.map((entry) => [entry.id, entry.deleted, entry.at]).sort()).toStrictEqual(
      [
        [revoked, false, revokedAt],
        [deleted, true, revokedAt],
      ].sort(),
    );

    // A rotation that activates at once: the old key retires now and must stay published for the retention.
    const oldToken = (
      (await send(t, 'POST', identityPath(revoked, '/:issueAccessToken', PREVIEW), { scopes: ['chat'] })).json as {
        token: string;
      }
    ).token;
    const rotated = await send(t, 'POST', '/admin/signing-keys/:rotate', { activateAfterSeconds: 0 });
    expect(rotated.status).toBe(201);
    const newKid = (rotated.json as { key: { kid: string } }).key.kid;
    expect((await fetchJwks(t.url)).keys).toHaveLength(2);

    // One millisecond short of the retention: nothing may go (tokens of these entries could still be valid).
    now = revokedAt + RETENTION_MS;
    await new Promise((done) => setTimeout(done, 200));
    expect((await snapshotOf(t)).identities).toHaveLength(2);
    expect((await fetchJwks(t.url)).keys).toHaveLength(2);
    // The old key's token has expired by now (1440 min), as every token of these entries has.
    const late = await send(t, 'POST', '/tokens/:introspect', { token: oldToken });
    expect(late.json).toStrictEqual({ active: false, reason: 'ERR_TOKEN_EXPIRED' });

    now = revokedAt + RETENTION_MS + 1;
    await waitFor(async () => (await snapshotOf(t)).identities.length === 0, 5000);
    await waitFor(async () => (await fetchJwks(t.url)).keys.length === 1, 5000);
    expect((await fetchJwks(t.url)).keys[0]?.kid).toBe(newKid);
    const after = await snapshotOf(t);
    expect(after.seq).toBe(before.seq);

    // The revoked identity lives on at its epoch; the deleted one is gone for good (404 either way).
    const fresh = await send(t, 'POST', identityPath(revoked, '/:issueAccessToken', PREVIEW), { scopes: ['chat'] });
    expect(fresh.status).toBe(200);
    const token = (fresh.json as { token: string }).token;
    expect(decodeToken(token).header.kid).toBe(newKid);
    expect((decodeToken(token).payload as { rev?: number }).rev).toBe(1);
    const gone = await send(t, 'GET', identityPath(deleted, '', PREVIEW));
    expect(gone.status).toBe(404);
    expect(errorOf(gone).innererror?.code).toBe('ERR_IDENTITY_NOT_FOUND');

    // A follower resuming from a pruned position starts again from a snapshot; one at the head resumes.
    const stale = await openEventStream(t.url, '/revocations', {
      ...signedAt(t, '/revocations'),
      'last-event-id': '1',
    });
    try {
      await waitFor(() => stale.events().some((e) => e.event === 'snapshot'), 2000);
      expect(stale.events().find((e) => e.event === 'snapshot')?.id).toBe(String(after.seq));
    } finally {
      stale.close();
    }
    const current = await openEventStream(t.url, '/revocations', {
      ...signedAt(t, '/revocations'),
      'last-event-id': String(after.seq),
    });
    try {
      await waitFor(() => current.events().some((e) => e.event === 'heartbeat'), 2000);
      expect(current.events().some((e) => e.event === 'snapshot')).toBe(false);
    } finally {
      current.close();
    }
  });

  /** Signed GET headers for an event stream, dated by the injected clock. */
  function signedAt(t: TestServer, path: string): Record<string, string> {
    const signed = signRequest({
      method: 'GET',
      pathAndQuery: path,
      host: new URL(t.url).host,
      body: '',
      accessKey: t.primaryKey,
      date: new Date(now).toUTCString(),
    });
    return {
      'x-ms-date': signed.date,
      'x-ms-content-sha256': signed.contentHash,
      authorization: signed.authorization,
      accept: 'text/event-stream',
    };
  }

  it('audit entries go after --audit-retention days, not a millisecond before', async () => {
    now = Date.now();
    server = await startTestServer({ clock: () => now, pruneIntervalMs: 20, auditRetentionDays: 1 });
    const t = server;
    await send(t, 'POST', `/identities?api-version=${PREVIEW}`, {});
    const creates = async () =>
      ((await send(t, 'GET', '/admin/audit')).json as { value: Array<{ operation: string }> }).value.filter(
        (entry) => entry.operation === 'identity.create',
      ).length;
    await waitFor(async () => (await creates()) === 1, 5000);
    now += 86_400_000 - 1;
    await new Promise((done) => setTimeout(done, 200));
    expect(await creates()).toBe(1);
    now += 2;
    await waitFor(async () => (await creates()) === 0, 5000);
  });
});

describe('signing key rotation through the admin API', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('rejects a bad activateAfterSeconds with 400 and the verifier key with 403', async () => {
    server = await startTestServer();
    const t: Target = { url: server.url, accessKey: server.primaryKey };
    for (const activateAfterSeconds of [-1, 1.5, '10', 86_401]) {
      const res = await acsRequest(t, 'POST', '/admin/signing-keys/:rotate', { json: { activateAfterSeconds } });
      expect(res.status).toBe(400);
      expect(errorOf(res).innererror?.code).toBe('ERR_VALIDATION');
    }
    const verifier: Target = { url: server.url, accessKey: server.verifierKey };
    expect((await acsRequest(verifier, 'POST', '/admin/signing-keys/:rotate', { json: {} })).status).toBe(403);
    expect((await acsRequest(verifier, 'GET', '/admin/signing-keys')).status).toBe(403);
    expect((await fetchJwks(server.url)).keys).toHaveLength(1);
  });

  it('a pending key is published at once and signs only from its activation', async () => {
    server = await startTestServer();
    const t: Target = { url: server.url, accessKey: server.primaryKey };
    const id = (await createIdentity(t, {}, PREVIEW)).identity.id;
    const oldKid = decodeToken((await issueToken(t, id, ['chat'], PREVIEW)).token).header.kid;
    const rotated = await acsRequest(t, 'POST', '/admin/signing-keys/:rotate', { json: { activateAfterSeconds: 1 } });
    const key = (rotated.json as { key: { kid: string; state: string; activatesAt: string } }).key;
    expect(key.state).toBe('pending');
    expect((await fetchJwks(server.url)).keys.map((k) => k.kid).sort()).toStrictEqual([oldKid, key.kid].sort());
    expect(decodeToken((await issueToken(t, id, ['chat'], PREVIEW)).token).header.kid).toBe(oldKid);
    await new Promise((done) => setTimeout(done, Math.max(0, Date.parse(key.activatesAt) - Date.now() + 20)));
    expect(decodeToken((await issueToken(t, id, ['chat'], PREVIEW)).token).header.kid).toBe(key.kid);
    const listed = (await acsRequest(t, 'GET', '/admin/signing-keys')).json as {
      keys: Array<{ kid: string; state: string }>;
    };
    expect(listed.keys.map((k) => [k.kid, k.state])).toStrictEqual([
      [oldKid, 'retired'],
      [key.kid, 'active'],
    ]);
  });
});
