import { isTesseraError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  AutoRefreshingTokenCredential,
  type AutoRefreshingTokenCredentialOptions,
  type RefreshFailedEvent,
  type RefreshedEvent,
  type RefreshedToken,
  ClientError,
  TesseraClientError,
  isClientError,
} from '../../src/index.js';
import { fakeJwt, jwtExpiringIn } from '../helpers/jwt.js';
import { ManualTime, settle } from '../helpers/manual-time.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Harness {
  time: ManualTime;
  calls: { count: number; signals: (AbortSignal | undefined)[] };
  refreshed: RefreshedEvent[];
  failed: RefreshFailedEvent[];
  expired: number[];
  credential: AutoRefreshingTokenCredential;
}

/** A credential on a manual clock whose refresher runs `behaviour` (default: a fresh 60-minute token). */
function harness(
  behaviour?: (call: number, time: ManualTime, signal?: AbortSignal) => Promise<string | RefreshedToken>,
  options: Partial<AutoRefreshingTokenCredentialOptions> = {},
  time = new ManualTime(),
): Harness {
  const calls = { count: 0, signals: [] as (AbortSignal | undefined)[] };
  const refreshed: RefreshedEvent[] = [];
  const failed: RefreshFailedEvent[] = [];
  const expired: number[] = [];
  const credential = new AutoRefreshingTokenCredential({
    tokenRefresher: (signal) => {
      calls.count++;
      calls.signals.push(signal as AbortSignal | undefined);
      return behaviour === undefined
        ? Promise.resolve(jwtExpiringIn(time.now(), HOUR))
        : behaviour(calls.count, time, signal as AbortSignal | undefined);
    },
    clock: time,
    timers: time,
    random: () => 0.5,
    onRefreshed: (e) => refreshed.push(e),
    onRefreshFailed: (e) => failed.push(e),
    onExpired: (e) => expired.push(e.expiresOnTimestamp),
    ...options,
  });
  return { time, calls, refreshed, failed, expired, credential };
}

/** A promise the test resolves by hand. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isTesseraError(error) || isClientError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('AutoRefreshingTokenCredential: basics', () => {
  it('returns the initial token without calling the refresher while it is valid', async () => {
    const time = new ManualTime();
    const token = jwtExpiringIn(time.now(), HOUR);
    const h = harness(undefined, { token }, time);
    const got = await h.credential.getToken();
    expect(got.token).toBe(token);
    expect(got.expiresOnTimestamp).toBe(time.now() + HOUR);
    expect(h.calls.count).toBe(0);
    h.credential.dispose();
  });

  it('fetches on first use when constructed without a token, parsing exp from the JWT', async () => {
    const h = harness();
    const got = await h.credential.getToken();
    expect(h.calls.count).toBe(1);
    expect(got.expiresOnTimestamp).toBe(h.time.now() + HOUR);
    expect(h.refreshed).toEqual([
      expect.objectContaining({ trigger: 'on-demand', refreshCount: 1, expiresOnTimestamp: h.time.now() + HOUR }),
    ]);
    h.credential.dispose();
  });

  it('uses the earlier of the JWT exp and an explicit expiresOnTimestamp', async () => {
    const h = harness((_, time) =>
      Promise.resolve({ token: jwtExpiringIn(time.now(), HOUR), expiresOnTimestamp: time.now() + 30 * MIN }),
    );
    const got = await h.credential.getToken();
    expect(got.expiresOnTimestamp).toBe(h.time.now() + 30 * MIN);
    h.credential.dispose();
  });

  it('accepts an opaque (non-JWT) token when the refresher supplies its expiry', async () => {
    const h = harness((_, time) => Promise.resolve({ token: 'opaque-token', expiresOn: new Date(time.now() + HOUR) }));
    const got = await h.credential.getToken();
    expect(got).toMatchObject({ token: 'opaque-token', expiresOnTimestamp: h.time.now() + HOUR });
    h.credential.dispose();
  });

  it('pain point: tokens that never expire — a token without exp is refused, never cached forever', async () => {
    const h = harness(() => Promise.resolve(fakeJwt(undefined)));
    expect(await codeOf(h.credential.getToken())).toBe('ERR_TOKEN_MALFORMED');
    expect(h.failed[0]?.error.code).toBe('ERR_TOKEN_MALFORMED');
    expect(
      () => new AutoRefreshingTokenCredential({ tokenRefresher: async () => 'x', token: fakeJwt(undefined) }),
    ).toThrow(/never expires/);
    h.credential.dispose();
  });

  it('rejects invalid options with ERR_CONFIG_INVALID naming the option', () => {
    expect(() => new AutoRefreshingTokenCredential({ tokenRefresher: async () => 'x', refreshWindowMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', target: 'refreshWindowMs' }),
    );
  });
});

describe('AutoRefreshingTokenCredential: single flight', () => {
  it('pain point: duplicate refreshes — concurrent getToken share one refresh', async () => {
    const gate = deferred<string>();
    const h = harness(() => gate.promise);
    const all = Promise.all(Array.from({ length: 20 }, () => h.credential.getToken()));
    await settle();
    expect(h.calls.count).toBe(1);
    const token = jwtExpiringIn(h.time.now(), HOUR);
    gate.resolve(token);
    const results = await all;
    expect(new Set(results.map((r) => r.token))).toEqual(new Set([token]));
    expect(h.calls.count).toBe(1);
    h.credential.dispose();
  });

  it('pain point: races between the HTTP and WebSocket paths — proactive timer, getToken, refreshNow and handleUnauthorized share one refresh', async () => {
    const time = new ManualTime();
    const gate = deferred<string>();
    const h = harness(() => gate.promise, { token: jwtExpiringIn(time.now(), HOUR), jitterMs: 0 }, time);
    await time.advance(50 * MIN); // proactive timer fires, refresh now in flight
    expect(h.calls.count).toBe(1);
    const fromGetToken = h.credential.getToken(); // cached token still valid: served at once
    const fromRefreshNow = h.credential.refreshNow();
    const from401 = h.credential.handleUnauthorized();
    await settle();
    expect(h.calls.count).toBe(1);
    const fresh = jwtExpiringIn(time.now(), HOUR);
    gate.resolve(fresh);
    expect((await fromRefreshNow).token).toBe(fresh);
    expect((await from401).token).toBe(fresh);
    expect((await fromGetToken).token).not.toBe(fresh);
    expect((await h.credential.getToken()).token).toBe(fresh);
    expect(h.calls.count).toBe(1);
    h.credential.dispose();
  });

  it("a caller's abort only stops that caller's wait; the shared refresh completes for the others", async () => {
    const gate = deferred<string>();
    const h = harness(() => gate.promise);
    const controller = new AbortController();
    const aborted = h.credential.getToken({ abortSignal: controller.signal });
    const other = h.credential.getToken();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    expect(h.calls.signals[0]?.aborted).toBe(false);
    const token = jwtExpiringIn(h.time.now(), HOUR);
    gate.resolve(token);
    expect((await other).token).toBe(token);
    h.credential.dispose();
  });

  it('pain point: stale token after a successful refresh — getToken returns the new token as soon as the refresh lands', async () => {
    const time = new ManualTime();
    const first = jwtExpiringIn(time.now(), HOUR);
    const h = harness(undefined, { token: first, jitterMs: 0 }, time);
    const before = await h.credential.getToken();
    expect(before.token).toBe(first);
    // Azure pipelines cache tokens; refreshAfterTimestamp tells them when to ask again.
    expect(before.refreshAfterTimestamp).toBe(time.now() + 50 * MIN);
    await time.advance(50 * MIN);
    expect(h.calls.count).toBe(1);
    const after = await h.credential.getToken();
    expect(after.token).not.toBe(first);
    expect(after.expiresOnTimestamp).toBe(time.now() + HOUR);
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: proactive refresh', () => {
  it('refreshes refreshWindowMs before expiry, pulled earlier by jitter', async () => {
    const time = new ManualTime();
    const h = harness(
      undefined,
      { token: jwtExpiringIn(time.now(), HOUR), refreshWindowMs: 10 * MIN, jitterMs: 60_000 },
      time,
    );
    // random() = 0.5 → 30 s of jitter: due at 60 − 10 min − 30 s = 49 min 30 s.
    await time.advance(49 * MIN + 29_999);
    expect(h.calls.count).toBe(0);
    await time.advance(1);
    expect(h.calls.count).toBe(1);
    expect(h.refreshed[0]?.trigger).toBe('proactive');
    h.credential.dispose();
  });

  it('jitter spreads the refresh times of identical clients within [expiry − window − jitter, expiry − window]', async () => {
    const dueTimes: number[] = [];
    for (const r of [0, 0.25, 0.999]) {
      const time = new ManualTime();
      const start = time.now();
      const h = harness(undefined, { token: jwtExpiringIn(start, HOUR), jitterMs: 120_000, random: () => r }, time);
      await time.run(new Promise<void>((resolve) => h.credential.on('refreshed', () => resolve())));
      dueTimes.push(time.now() - start);
      h.credential.dispose();
    }
    expect(new Set(dueTimes).size).toBe(3);
    for (const t of dueTimes) {
      expect(t).toBeGreaterThanOrEqual(50 * MIN - 120_000);
      expect(t).toBeLessThanOrEqual(50 * MIN);
    }
  });

  it('pain point: long calls drop when the token expires mid-session — a 24-hour idle session always holds a valid token', async () => {
    const time = new ManualTime();
    const h = harness(undefined, { token: jwtExpiringIn(time.now(), HOUR) }, time);
    for (let hour = 0; hour < 24; hour++) {
      await time.advance(HOUR);
      const got = await h.credential.getToken();
      expect(got.expiresOnTimestamp - time.now()).toBeGreaterThan(9 * MIN);
    }
    // one refresh per ~50 minutes, never more
    expect(h.calls.count).toBeGreaterThanOrEqual(24);
    expect(h.calls.count).toBeLessThanOrEqual(30);
    expect(h.expired).toEqual([]);
    h.credential.dispose();
  });

  it('an initial token already inside the window is refreshed promptly', async () => {
    const time = new ManualTime();
    const h = harness(undefined, { token: jwtExpiringIn(time.now(), 5 * MIN) }, time);
    await time.advance(0);
    expect(h.calls.count).toBe(1);
    h.credential.dispose();
  });

  it('a getToken inside the window starts a background refresh when the timer did not run (sleeping laptop)', async () => {
    const time = new ManualTime();
    const first = jwtExpiringIn(time.now(), HOUR);
    const h = harness(undefined, { token: first }, time);
    time.jump(55 * MIN); // the clock moved but no timer fired
    const got = await h.credential.getToken();
    expect(got.token).toBe(first); // still valid: served at once
    await settle();
    expect(h.calls.count).toBe(1);
    expect(h.refreshed[0]?.trigger).toBe('in-window');
    expect((await h.credential.getToken()).token).not.toBe(first);
    h.credential.dispose();
  });

  it('refreshProactively: false schedules no timers and refreshes on demand', async () => {
    const time = new ManualTime();
    const h = harness(undefined, { refreshProactively: false, expiryMarginMs: 0 }, time);
    await h.credential.getToken();
    expect(time.pending).toBe(1); // only the expiry watcher
    await time.advance(HOUR);
    expect(h.calls.count).toBe(1);
    expect(h.expired).toHaveLength(1);
    await h.credential.getToken();
    expect(h.calls.count).toBe(2);
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: tokens that are already expiring', () => {
  it('pain point: refresh loops when the refresher returns a token about to expire — an error, served while valid, retried with backoff, never a loop', async () => {
    // Like MSAL's 5-minute cache against a 10-minute window (azure-sdk-for-android #1367).
    const time = new ManualTime();
    const h = harness((_, t) => Promise.resolve(jwtExpiringIn(t.now(), 5 * MIN)), {}, time);
    const got = await h.credential.getToken();
    expect(got.expiresOnTimestamp).toBe(time.now() + 5 * MIN); // served: callers keep working
    expect(h.failed[0]?.error.code).toBe('ERR_REFRESHED_TOKEN_EXPIRING');
    expect(h.refreshed).toEqual([]);
    await time.advance(10 * MIN);
    // exponential backoff: 1 s, 2 s, 4 s ... 60 s ceiling — a handful of calls, not thousands
    expect(h.calls.count).toBeGreaterThan(3);
    expect(h.calls.count).toBeLessThan(40);
    const delays = h.failed.map((e) => e.retryInMs ?? 0);
    expect(delays.slice(0, 5)).toEqual([750, 1250, 2250, 4250, 8250]);
    h.credential.dispose();
  });

  it('a refresher that returns an already expired token is an error and that token is never served', async () => {
    const h = harness((_, t) => Promise.resolve(jwtExpiringIn(t.now(), -MIN)));
    expect(await codeOf(h.credential.getToken())).toBe('ERR_REFRESHED_TOKEN_EXPIRING');
    expect(h.credential.expiresOnTimestamp).toBeUndefined();
    expect(h.failed).toHaveLength(1);
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: failures and backoff', () => {
  it('pain point: infinite loops on a failing provider — bounded exponential backoff with full jitter', async () => {
    const time = new ManualTime();
    const h = harness(() => Promise.reject(new Error('token service down')), { random: () => 0.999 }, time);
    expect(await codeOf(h.credential.getToken())).toBe('ERR_REFRESH_FAILED');
    await time.advance(HOUR);
    const delays = h.failed.map((e) => e.retryInMs ?? 0);
    // ceiling doubles from 1 s and stops at 60 s
    expect(delays.slice(0, 8)).toEqual([999, 1998, 3996, 7992, 15984, 31968, 59940, 59940]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(60_000);
    expect(h.calls.count).toBeLessThan(80); // ~one call a minute once at the ceiling
    expect(h.failed.every((e) => !e.terminal)).toBe(true);
    expect(h.failed[0]?.error.cause).toBeInstanceOf(Error);
    h.credential.dispose();
  });

  it('full jitter: different random draws give different delays within [min, ceiling]', async () => {
    const draws = [0, 0.3, 0.7];
    const firstDelays: number[] = [];
    for (const r of draws) {
      const h = harness(() => Promise.reject(new Error('down')), { random: () => r });
      await codeOf(h.credential.getToken());
      firstDelays.push(h.failed[0]?.retryInMs ?? -1);
      h.credential.dispose();
    }
    expect(firstDelays).toEqual([500, 650, 850]);
  });

  it('getToken fails fast during backoff instead of calling the refresher again', async () => {
    const h = harness(() => Promise.reject(new Error('down')));
    await codeOf(h.credential.getToken());
    const error = await h.credential.getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('ERR_REFRESH_FAILED');
    expect((error as ClientError).retryAfterMs).toBeGreaterThan(0);
    expect(h.calls.count).toBe(1);
    h.credential.dispose();
  });

  it('pain point: the provider is never called again after expiry — the timer keeps retrying after failures and recovers unattended', async () => {
    const time = new ManualTime();
    const start = time.now();
    const h = harness(
      (_, t) =>
        t.now() < start + 15 * MIN ? Promise.reject(new Error('flaky')) : Promise.resolve(jwtExpiringIn(t.now(), HOUR)),
      { token: jwtExpiringIn(time.now(), 11 * MIN), jitterMs: 0 },
      time,
    );
    await time.advance(30 * MIN); // the first token expires at 11 min; nobody calls getToken meanwhile
    expect(h.expired).toHaveLength(1);
    expect(h.failed.length).toBeGreaterThan(5);
    expect(h.refreshed).toEqual([expect.objectContaining({ trigger: 'retry', refreshCount: 1 })]);
    const got = await h.credential.getToken();
    expect(got.expiresOnTimestamp).toBeGreaterThan(time.now() + 30 * MIN);
    h.credential.dispose();
  });

  it('pain point: an expired token hangs setup instead of raising an error — a hung refresher fails with ERR_TIMEOUT', async () => {
    const time = new ManualTime();
    const h = harness(() => new Promise<string>(() => {}), { refreshTimeoutMs: 20_000 }, time);
    const pending = h.credential.getToken();
    const error = await time.run(pending).catch((e: unknown) => e);
    expect(isClientError(error, 'ERR_TIMEOUT')).toBe(true);
    expect(time.now() - Date.parse('2026-03-01T12:00:00.000Z')).toBe(20_000);
    expect(h.calls.signals[0]?.aborted).toBe(true); // the refresher was told to stop
    h.credential.dispose();
  });

  it('maxConsecutiveFailures stops refreshing for good', async () => {
    const time = new ManualTime();
    const h = harness(() => Promise.reject(new Error('down')), { maxConsecutiveFailures: 3 }, time);
    await codeOf(h.credential.getToken());
    await time.advance(HOUR);
    expect(h.calls.count).toBe(3);
    expect(h.failed.at(-1)).toMatchObject({ terminal: true });
    expect(time.pending).toBe(0);
    expect(await codeOf(h.credential.getToken())).toBe('ERR_REFRESH_FAILED');
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: identity gone', () => {
  const cases: [string, unknown, string][] = [
    [
      'TesseraClientError ERR_IDENTITY_DELETED',
      new TesseraClientError('ERR_IDENTITY_DELETED', 'gone', { status: 404, serviceCode: 'IdentityDeleted' }),
      'ERR_IDENTITY_DELETED',
    ],
    [
      'Azure RestError-like statusCode 404',
      Object.assign(new Error('Not Found'), { statusCode: 404 }),
      'ERR_IDENTITY_NOT_FOUND',
    ],
    [
      'an error with code IdentityRevoked',
      Object.assign(new Error('revoked'), { code: 'IdentityRevoked' }),
      'ERR_TOKEN_REVOKED',
    ],
    ['fetch-style status 410', Object.assign(new Error('Gone'), { status: 410 }), 'ERR_IDENTITY_DELETED'],
  ];
  it.each(cases)(
    'pain point: revocation — a revoked or deleted identity (%s) stops refreshing for good',
    async (_name, thrown, code) => {
      const time = new ManualTime();
      const h = harness(() => Promise.reject(thrown), { token: jwtExpiringIn(time.now(), HOUR) }, time);
      await time.advance(HOUR); // proactive refresh hits the error
      expect(h.calls.count).toBe(1);
      expect(h.failed).toEqual([expect.objectContaining({ terminal: true, consecutiveFailures: 0 })]);
      expect(h.failed[0]?.error.code).toBe(code);
      expect(time.pending).toBe(0);
      expect(await codeOf(h.credential.getToken())).toBe(code);
      await time.advance(10 * HOUR);
      expect(h.calls.count).toBe(1);
      expect(h.credential.stoppedReason?.code).toBe(code);
    },
  );

  it('a transient error (500) does not stop refreshing', async () => {
    const time = new ManualTime();
    const h = harness(
      (call, t) =>
        call === 1
          ? Promise.reject(new TesseraClientError('ERR_INTERNAL', 'boom', { status: 500 }))
          : Promise.resolve(jwtExpiringIn(t.now(), HOUR)),
      {},
      time,
    );
    expect(await codeOf(h.credential.getToken())).toBe('ERR_REFRESH_FAILED');
    await time.advance(2_000);
    expect(h.refreshed).toHaveLength(1);
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: 401 from the data plane', () => {
  it('handleUnauthorized refreshes once, then gives up with ERR_TOKEN_REJECTED and stops', async () => {
    const time = new ManualTime();
    const first = jwtExpiringIn(time.now(), HOUR);
    const h = harness(undefined, { token: first }, time);
    const second = await h.credential.handleUnauthorized({ token: first });
    expect(second.token).not.toBe(first);
    expect(h.calls.count).toBe(1);
    expect((await h.credential.getToken()).token).toBe(second.token);
    const error = await h.credential.handleUnauthorized({ token: second.token }).catch((e: unknown) => e);
    expect(isClientError(error, 'ERR_TOKEN_REJECTED')).toBe(true);
    expect((error as Error).message).not.toContain(second.token);
    expect(h.calls.count).toBe(1);
    expect(time.pending).toBe(0);
    expect(await codeOf(h.credential.getToken())).toBe('ERR_TOKEN_REJECTED');
    expect(h.failed.at(-1)).toMatchObject({ terminal: true, trigger: 'unauthorized' });
  });

  it('the rejected token is never handed out again', async () => {
    const time = new ManualTime();
    const first = jwtExpiringIn(time.now(), HOUR);
    const gate = deferred<string>();
    const h = harness(() => gate.promise, { token: first }, time);
    const refreshing = h.credential.handleUnauthorized({ token: first });
    const waiting = h.credential.getToken(); // must wait for the refresh, not get `first`
    const fresh = jwtExpiringIn(time.now(), HOUR);
    gate.resolve(fresh);
    expect((await refreshing).token).toBe(fresh);
    expect((await waiting).token).toBe(fresh);
    h.credential.dispose();
  });

  it('pain point: wasted refreshes on reconnects — a 401 reported for an already replaced token returns the current one without refreshing', async () => {
    const time = new ManualTime();
    const first = jwtExpiringIn(time.now(), HOUR);
    const h = harness(undefined, { token: first }, time);
    const [a, b] = await Promise.all([
      h.credential.handleUnauthorized({ token: first }), // HTTP path
      h.credential.handleUnauthorized({ token: first }), // WebSocket path
    ]);
    expect(a.token).toBe(b.token);
    const c = await h.credential.handleUnauthorized({ token: first }); // a late reconnect
    expect(c.token).toBe(a.token);
    expect(h.calls.count).toBe(1);
    h.credential.dispose();
  });

  it('pain point: infinite loops on invalid tokens — a refresher that hands back the rejected token stops the credential', async () => {
    const time = new ManualTime();
    const same = jwtExpiringIn(time.now(), HOUR);
    const h = harness(() => Promise.resolve(same), {}, time);
    await h.credential.getToken();
    expect(await codeOf(h.credential.handleUnauthorized({ token: same }))).toBe('ERR_TOKEN_REJECTED');
    expect(h.calls.count).toBe(2);
    expect(await codeOf(h.credential.getToken())).toBe('ERR_TOKEN_REJECTED');
    await time.advance(10 * HOUR);
    expect(h.calls.count).toBe(2);
  });

  it('a later ordinary refresh re-arms refresh-on-401', async () => {
    const time = new ManualTime();
    const h = harness(undefined, { token: jwtExpiringIn(time.now(), HOUR), jitterMs: 0 }, time);
    const viaUnauthorized = await h.credential.handleUnauthorized();
    await time.advance(51 * MIN); // proactive refresh replaces it
    const current = await h.credential.getToken();
    expect(current.token).not.toBe(viaUnauthorized.token);
    const again = await h.credential.handleUnauthorized({ token: current.token });
    expect(again.token).not.toBe(current.token);
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: clock skew', () => {
  it('pain point: clock skew — expiry is corrected with the server Date the refresher reports', async () => {
    const serverNow = Date.parse('2026-03-01T12:00:00.000Z');
    const time = new ManualTime(serverNow + HOUR); // this machine's clock runs an hour fast
    const h = harness(
      () => Promise.resolve({ token: jwtExpiringIn(serverNow, HOUR), serverDate: new Date(serverNow).toUTCString() }),
      {},
      time,
    );
    const got = await h.credential.getToken();
    expect(h.credential.clockSkewMs).toBe(-HOUR);
    expect(got.expiresOnTimestamp).toBe(time.now() + HOUR); // in local clock terms
    // the proactive refresh is scheduled in local time too: 50 min minus 15 s of jitter from now
    await time.advance(50 * MIN - 15_001);
    expect(h.calls.count).toBe(1);
    await time.advance(1);
    expect(h.calls.count).toBe(2);
    h.credential.dispose();
  });

  it('without the server Date the same fast clock would make every fresh token look expired (control)', async () => {
    const serverNow = Date.parse('2026-03-01T12:00:00.000Z');
    const time = new ManualTime(serverNow + HOUR);
    const h = harness(() => Promise.resolve(jwtExpiringIn(serverNow, HOUR)), {}, time);
    expect(await codeOf(h.credential.getToken())).toBe('ERR_REFRESHED_TOKEN_EXPIRING');
    h.credential.dispose();
  });

  it('a slow local clock does not keep a token past its real expiry', async () => {
    const serverNow = Date.parse('2026-03-01T12:00:00.000Z');
    const time = new ManualTime(serverNow - 20 * MIN); // 20 minutes slow
    const h = harness(
      () => Promise.resolve({ token: jwtExpiringIn(serverNow, HOUR), serverDate: serverNow }),
      { refreshProactively: false, expiryMarginMs: 0 },
      time,
    );
    const got = await h.credential.getToken();
    expect(got.expiresOnTimestamp).toBe(time.now() + HOUR);
    h.credential.dispose();
  });
});

describe('AutoRefreshingTokenCredential: events and lifecycle', () => {
  it('pain point: refresh lifecycle burden (no expiry callback) — emits expired when the token runs out unrefreshed, and refreshed/refreshFailed with counts', async () => {
    const time = new ManualTime();
    const h = harness(
      (call, t) => (call === 1 ? Promise.resolve(jwtExpiringIn(t.now(), HOUR)) : Promise.reject(new Error('down'))),
      { expiryMarginMs: 0 },
      time,
    );
    const viaOn: string[] = [];
    const off = h.credential.on('refreshFailed', () => viaOn.push('failed'));
    const first = await h.credential.getToken();
    await time.advance(HOUR);
    expect(h.refreshed).toHaveLength(1);
    expect(h.failed.length).toBeGreaterThan(1);
    expect(h.failed.map((e) => e.consecutiveFailures).slice(0, 3)).toEqual([1, 2, 3]);
    expect(h.expired).toEqual([first.expiresOnTimestamp]);
    expect(viaOn.length).toBe(h.failed.length);
    off();
    await time.advance(MIN);
    expect(viaOn.length).toBeLessThan(h.failed.length);
    h.credential.dispose();
  });

  it('a throwing listener does not break token delivery', async () => {
    const h = harness(undefined, {
      onRefreshed: () => {
        throw new Error('listener bug');
      },
    });
    await expect(h.credential.getToken()).resolves.toMatchObject({ token: expect.any(String) });
    h.credential.dispose();
  });

  it('dispose stops all timers, aborts the refresh in flight, and getToken afterwards throws ERR_CREDENTIAL_DISPOSED', async () => {
    const time = new ManualTime();
    const h = harness(() => new Promise<string>(() => {}), { token: jwtExpiringIn(time.now(), 11 * MIN) }, time);
    expect(time.pending).toBeGreaterThan(0);
    await time.advance(MIN); // proactive refresh in flight (never settles by itself)
    expect(h.calls.count).toBe(1);
    const waiting = h.credential.refreshNow();
    h.credential.dispose();
    expect(h.calls.signals[0]?.aborted).toBe(true);
    expect(await codeOf(waiting)).toBe('ERR_CREDENTIAL_DISPOSED');
    expect(time.pending).toBe(0);
    expect(await codeOf(h.credential.getToken())).toBe('ERR_CREDENTIAL_DISPOSED');
    expect(await codeOf(h.credential.refreshNow())).toBe('ERR_CREDENTIAL_DISPOSED');
    expect(await codeOf(h.credential.handleUnauthorized())).toBe('ERR_CREDENTIAL_DISPOSED');
    expect(h.credential.disposed).toBe(true);
    await time.advance(10 * HOUR);
    expect(h.calls.count).toBe(1);
  });
});
