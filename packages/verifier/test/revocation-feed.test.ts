import { createVerifier, type Verifier, type VerifierOptions } from '@tessera/verifier';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONNECTION_STRING,
  FakeIdentityServer,
  mint,
  newRawId,
  rejection,
  T0,
  until,
} from './helpers/fake-identity-server.js';

const open: Verifier[] = [];
afterEach(async () => {
  for (const v of open.splice(0)) await v.close();
});

function start(server: FakeIdentityServer, options: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({
    connectionString: CONNECTION_STRING,
    fetch: server.fetch,
    random: () => 0.5,
    revocation: { initialReconnectDelayMs: 1, maxReconnectDelayMs: 20 },
    ...options,
  });
  open.push(verifier);
  return verifier;
}

describe('revocation feed consumer', () => {
  it('signs GET /revocations with HMAC-SHA256 over the feed credential, as the ACS SDKs sign requests', async () => {
    const server = new FakeIdentityServer();
    const verifier = start(server);
    await verifier.ready();
    const req = server.feedRequests[0];
    expect(req?.signatureValid).toBe(true);
    expect(req?.headers.accept).toBe('text/event-stream');
    expect(req?.headers.authorization).toMatch(
      /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/,
    );
    expect(req?.headers['last-event-id']).toBeUndefined();
  });

  it('reports connected, lastEventAt, staleMs and seq in status()', async () => {
    const server = new FakeIdentityServer();
    server.snapshot = { ...server.snapshot, seq: 41 };
    let now = 1_000_000;
    const verifier = start(server, { clock: () => now });
    await verifier.ready();
    expect(verifier.status()).toMatchObject({
      connected: true,
      lastEventAt: 1_000_000,
      staleMs: 0,
      seq: 41,
      synced: true,
      stale: false,
      revocation: 'feed',
      policy: 'fail-closed',
    });
    now += 1234;
    expect(verifier.status().staleMs).toBe(1234);
    server.heartbeat(41);
    await until(() => verifier.status().staleMs === 0);
  });

  it('resumes with Last-Event-ID after a drop, without a new snapshot, and misses nothing', async () => {
    const server = new FakeIdentityServer();
    const verifier = start(server);
    await verifier.ready();
    const a = newRawId();
    const b = newRawId();
    server.revoke(1, a, 1);
    await until(() => verifier.status().seq === 1);
    server.endFeed();
    await until(() => server.connections.length === 2 && server.live !== undefined);
    expect(server.feedRequests[1]?.headers['last-event-id']).toBe('1');
    expect(server.feedRequests[1]?.signatureValid).toBe(true);
    server.revoke(2, b, 1); // the server replays what the subscriber missed
    await until(() => verifier.status().seq === 2);
    expect((await rejection(verifier.verify(mint({ key: server.key, rawId: a, nowMs: Date.now() })))).code).toBe(
      'ERR_TOKEN_REVOKED',
    );
    expect((await rejection(verifier.verify(mint({ key: server.key, rawId: b, nowMs: Date.now() })))).code).toBe(
      'ERR_TOKEN_REVOKED',
    );
  });

  it('reconnects with exponential backoff while the server refuses, then recovers', async () => {
    const server = new FakeIdentityServer();
    server.feedStatus = 503;
    const verifier = start(server, { revocation: { initialReconnectDelayMs: 5, maxReconnectDelayMs: 40 } });
    await until(() => server.feedRequests.length >= 5);
    expect(verifier.status().connected).toBe(false);
    expect(verifier.status().synced).toBe(false);
    server.feedStatus = undefined;
    await until(() => verifier.status().synced, 2000);
    expect(verifier.status().connected).toBe(true);
  });

  it('backs off: the gaps between failed attempts grow up to the maximum', async () => {
    const server = new FakeIdentityServer();
    server.feedStatus = 401;
    const times: number[] = [];
    const fetch = (input: string, init?: RequestInit) => {
      if (input.endsWith('/revocations')) times.push(performance.now());
      return server.fetch(input, init);
    };
    start(server, { fetch, revocation: { initialReconnectDelayMs: 10, maxReconnectDelayMs: 80 } });
    await until(() => times.length >= 7, 5000);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    // random() = 0.5 → delay = 0.75 × min(max, initial × 2^failures): 15, 30, 60, 60, …
    expect(gaps[0]).toBeGreaterThanOrEqual(14);
    expect(gaps[1]).toBeGreaterThanOrEqual(29);
    expect(gaps[2]).toBeGreaterThanOrEqual(59);
    expect(gaps[5]).toBeLessThan(400); // capped at 0.75 × 80 ms; uncapped it would be 0.75 × 640 ms
  });

  it('drops a malformed event stream and starts over from a snapshot (no Last-Event-ID)', async () => {
    const server = new FakeIdentityServer();
    const verifier = start(server);
    await verifier.ready();
    server.revoke(1, newRawId(), 1);
    await until(() => verifier.status().seq === 1);
    server.sendRaw('event: identity.revoked\ndata: {"seq":"two"}\n\n');
    await until(() => server.connections.length === 2);
    expect(server.feedRequests[1]?.headers['last-event-id']).toBeUndefined();
  });

  it('a snapshot replaces the state: identities missing from it are live again', async () => {
    const server = new FakeIdentityServer();
    const verifier = start(server);
    await verifier.ready();
    const id = newRawId();
    server.revoke(1, id, 1);
    await until(() => verifier.status().seq === 1);
    expect((await rejection(verifier.verify(mint({ key: server.key, rawId: id, nowMs: Date.now() })))).code).toBe(
      'ERR_TOKEN_REVOKED',
    );
    server.send('snapshot', { seq: 5, identities: [], keys: { primary: 1, secondary: 1 } }, 5);
    await until(() => verifier.status().seq === 5);
    await expect(verifier.verify(mint({ key: server.key, rawId: id, nowMs: Date.now() }))).resolves.toBeDefined();
  });

  it('forgets revocation facts once every token they refuse has expired (1440 + 15 min after the server made them)', async () => {
    const server = new FakeIdentityServer();
    let now = T0;
    const old = newRawId();
    const undated = newRawId();
    const recent = newRawId();
    // `undated`: a server from before entries carried their time; such an entry is kept for ever.
    server.snapshot = {
      seq: 2,
      identities: [
        { id: old, epoch: 1, deleted: false, at: T0 },
        { id: undated, epoch: 1, deleted: false },
      ],
      keys: { primary: 1, secondary: 1 },
    };
    const verifier = start(server, { clock: () => now });
    await verifier.ready();
    const verdict = async (rawId: string) =>
      verifier.verify(mint({ key: server.key, rawId, nowMs: now })).then(
        () => 'valid',
        (error: { code?: string }) => error.code,
      );
    const retention = (1440 + 15) * 60_000;
    now = T0 + retention - 1;
    server.send('identity.revoked', { seq: 3, at: now, identityId: recent, epoch: 1 }, 3);
    await until(() => verifier.status().seq === 3);
    // Not yet: a token revoked at T0 could still be valid (rev 0 here stands for it).
    expect(await verdict(old)).toBe('ERR_TOKEN_REVOKED');
    // Past it, and a minute on (the state is pruned at most once a minute):
    now = T0 + retention + 60_000;
    server.heartbeat(3);
    await until(() => verifier.status().lastEventAt === now);
    expect(await verdict(old)).toBe('valid');
    expect(await verdict(undated)).toBe('ERR_TOKEN_REVOKED');
    expect(await verdict(recent)).toBe('ERR_TOKEN_REVOKED');
  });

  it('an idle connection (no heartbeat within the bound) is dropped and reopened', async () => {
    const server = new FakeIdentityServer();
    const verifier = start(server, { revocation: { maxStalenessMs: 60, initialReconnectDelayMs: 1 } });
    await verifier.ready();
    await until(() => server.connections.length >= 2, 3000);
    expect(server.feedRequests[1]?.headers['last-event-id']).toBe('0');
  });

  it('close() ends the connection and stops reconnecting', async () => {
    const server = new FakeIdentityServer();
    const verifier = start(server);
    await verifier.ready();
    await verifier.close();
    expect(server.live).toBeUndefined();
    const count = server.feedRequests.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(server.feedRequests.length).toBe(count);
    expect(verifier.status().connected).toBe(false);
  });
});
