import { describe, expect, it } from 'vitest';
import {
  CircuitBreakerRegistry,
  ClientError,
  IdentityClient,
  type IdentityClientOptions,
  TesseraClientError,
  defaultCircuitBreakerRegistry,
} from '../../src/index.js';
import { ManualTime } from '../helpers/manual-time.js';
import { type Step, errorBody, hang, json, refuse, scriptedFetch, verifyHmac } from '../helpers/scripted-fetch.js';

const ENDPOINT = 'http://127.0.0.1:18080/';
const KEY = Buffer.from('tessera-test-access-key-32-bytes').toString('base64');
const USER = '8:acs:2dee53b4-368b-45b4-ab52-8493fb117652_00000005-14a2-493b-8a72-5a3a0d000081';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const tokenOk: Step = () => json(200, { token: 'x.y.z', expiresOn: '2026-03-01T13:00:00.0000000+00:00' });
const created: Step = () => json(201, { identity: { id: USER } });
const status =
  (code: number, headers: Record<string, string> = {}): Step =>
  () =>
    json(code, errorBody('Whatever', `status ${code}`), headers);

function setup(steps: Step[], options: IdentityClientOptions = {}) {
  const time = new ManualTime();
  const scripted = scriptedFetch(steps);
  const at: number[] = [];
  const timedFetch: typeof fetch = (input, init) => {
    at.push(time.now());
    return scripted.fetch(input, init);
  };
  const client = new IdentityClient(ENDPOINT, async () => 'entra-access-token', {
    fetch: timedFetch,
    clock: time,
    timers: time,
    random: () => 0.5,
    circuitBreakers: new CircuitBreakerRegistry({ clock: time }),
    ...options,
  });
  return { time, client, calls: scripted.calls, at, start: time.now() };
}

async function failure(promise: Promise<unknown>): Promise<TesseraClientError | ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TesseraClientError) && !(error instanceof ClientError)) {
    throw new Error(`expected a TesseraClientError or ClientError, got ${String(error)}`);
  }
  return error;
}

describe('resilience policy: request ids', () => {
  it('sends a fresh x-ms-client-request-id per logical call and reuses it across retries', async () => {
    const { time, client, calls } = setup([status(503), status(503), tokenOk, tokenOk]);
    await time.run(client.getToken(USER, ['chat']));
    await time.run(client.getToken(USER, ['chat']));
    const ids = calls.map((c) => c.headers['x-ms-client-request-id']);
    expect(ids[0]).toMatch(UUID);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).toBe(ids[0]);
    expect(ids[3]).toMatch(UUID);
    expect(ids[3]).not.toBe(ids[0]);
  });

  it('puts the request id, status, service code and attempts on the error', async () => {
    const { time, client, calls } = setup([
      () =>
        json(
          400,
          errorBody('ValidationError', 'ExpiresInMinutes value 59 is invalid.', 'ERR_VALIDATION', 'ExpiresInMinutes'),
        ),
    ]);
    const error = await failure(time.run(client.getToken(USER, ['chat'], { expiresInMinutes: 59 })));
    expect(error).toMatchObject({
      code: 'ERR_VALIDATION',
      status: 400,
      serviceCode: 'ValidationError',
      target: 'ExpiresInMinutes',
      requestId: calls[0]?.headers['x-ms-client-request-id'],
      attempts: 1,
    });
    expect(error.message).toContain('ExpiresInMinutes value 59 is invalid.');
    expect(calls).toHaveLength(1); // 4xx is not retried
  });
});

describe('resilience policy: retries', () => {
  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i', async (code) => {
    const { time, client, calls } = setup([status(code), tokenOk]);
    const result = await time.run(client.getToken(USER, ['chat']));
    expect(result.token).toBe('x.y.z');
    expect(calls).toHaveLength(2);
  });

  it('backs off exponentially with full jitter when the server gives no Retry-After', async () => {
    const { time, client, at } = setup([status(503), status(503), status(503), tokenOk]);
    await time.run(client.getToken(USER, ['chat']));
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    // random() = 0.5 of ceilings 500, 1000, 2000 ms
    expect(gaps).toEqual([250, 500, 1000]);
  });

  it('honours Retry-After in seconds', async () => {
    const { time, client, at } = setup([status(429, { 'retry-after': '7' }), tokenOk]);
    await time.run(client.getToken(USER, ['chat']));
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBe(7_000);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const time0 = new ManualTime().now();
    const { time, client, at } = setup([
      status(503, { 'retry-after': new Date(time0 + 12_000).toUTCString() }),
      tokenOk,
    ]);
    await time.run(client.getToken(USER, ['chat']));
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBe(12_000);
  });

  it('prefers retry-after-ms over Retry-After', async () => {
    const { time, client, at } = setup([status(429, { 'retry-after-ms': '250', 'retry-after': '10' }), tokenOk]);
    await time.run(client.getToken(USER, ['chat']));
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBe(250);
  });

  it('bounds the number of attempts', async () => {
    const { time, client, calls } = setup([
      () => json(503, errorBody('ServiceUnavailable', 'store down', 'ERR_STORE_UNAVAILABLE')),
    ]);
    const error = await failure(time.run(client.getToken(USER, ['chat'])));
    expect(calls).toHaveLength(4);
    expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', status: 503, attempts: 4 });
  });

  it('bounds the total time: a Retry-After beyond the budget fails at once instead of waiting', async () => {
    const { time, client, calls, start } = setup([status(429, { 'retry-after': '120' })]);
    const error = await failure(time.run(client.getToken(USER, ['chat'])));
    expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED', retryAfterMs: 120_000, attempts: 1 });
    expect(calls).toHaveLength(1);
    expect(time.now()).toBe(start);
  });

  it('aborts a hung attempt after attemptTimeoutMs and retries it', async () => {
    const { time, client, calls, at } = setup([hang, tokenOk], { attemptTimeoutMs: 2_000 });
    await time.run(client.getToken(USER, ['chat']));
    expect(calls[0]?.signal?.aborted).toBe(true);
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBe(2_000 + 250);
  });

  it('never lets attempts run past the total budget', async () => {
    const { time, client, start } = setup([hang], { attemptTimeoutMs: 15_000, maxElapsedMs: 5_000 });
    const error = await failure(time.run(client.getToken(USER, ['chat'])));
    expect(error.code).toBe('ERR_TIMEOUT');
    expect(time.now() - start).toBeLessThanOrEqual(5_000);
  });

  it('retries network errors and reports ERR_NETWORK with the cause', async () => {
    const { time, client, calls } = setup([refuse]);
    const error = await failure(time.run(client.getToken(USER, ['chat'])));
    expect(calls).toHaveLength(4);
    expect(error.code).toBe('ERR_NETWORK');
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.status).toBeUndefined();
  });

  it("stops at once, with the caller's AbortError, when the caller aborts during backoff", async () => {
    const { time, client, calls } = setup([status(503, { 'retry-after': '30' }), tokenOk]);
    const controller = new AbortController();
    const pending = client.getToken(USER, ['chat'], { abortSignal: controller.signal });
    await time.advance(1_000);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await time.advance(60_000);
    expect(calls).toHaveLength(1);
  });
});

describe('resilience policy: idempotency of creates', () => {
  it('POST /identities carries Repeatability-Request-ID and Repeatability-First-Sent, identical across retries', async () => {
    const { time, client, calls, start } = setup([status(503), status(500), created]);
    const user = await time.run(client.createUser());
    expect(user.id).toBe(USER);
    expect(calls).toHaveLength(3);
    const ids = new Set(calls.map((c) => c.headers['repeatability-request-id']));
    const sent = new Set(calls.map((c) => c.headers['repeatability-first-sent']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(UUID);
    expect([...ids][0]).not.toBe(calls[0]?.headers['x-ms-client-request-id']);
    expect([...sent]).toEqual([new Date(start).toUTCString()]);
  });

  it('a caller-supplied repeatabilityRequestId is sent as is', async () => {
    const key = '6f1c1c1e-8d0e-4c3a-9a51-1f1d3c1b2a10';
    const { time, client, calls } = setup([created]);
    await time.run(client.createUser({ repeatabilityRequestId: key }));
    expect(calls[0]?.headers['repeatability-request-id']).toBe(key);
  });

  it('never retries a create without an idempotency key (repeatability: false)', async () => {
    const { time, client, calls } = setup([status(503), created], { repeatability: false });
    const error = await failure(time.run(client.createUser()));
    expect(error.status).toBe(503);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers['repeatability-request-id']).toBeUndefined();
  });

  it('an api-version without the Repeatability headers (2022-10-01) sends none and does not retry', async () => {
    const { time, client, calls } = setup([refuse, created], { apiVersion: '2022-10-01' });
    await failure(time.run(client.createUser()));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.headers['repeatability-first-sent']).toBeUndefined();
  });

  it('a create with customId is idempotent, so it is retried even without repeatability', async () => {
    const { time, client, calls } = setup(
      [status(503), () => json(201, { identity: { id: USER, customId: 'alice' } })],
      {
        repeatability: false,
      },
    );
    const user = await time.run(client.createUser({ customId: 'alice' }));
    expect(user).toEqual({ id: USER, customId: 'alice' });
    expect(calls).toHaveLength(2);
    expect(calls[0]?.url.searchParams.get('api-version')).toBe('2025-03-02-preview');
    expect(JSON.parse(calls[1]?.body ?? '')).toEqual({ customId: 'alice' });
  });

  it('never retries regenerateKey (a second regenerate would discard the first new key)', async () => {
    const { time, client, calls } = setup([status(503)]);
    const error = await failure(time.run(client.regenerateKey('primary')));
    expect(error.status).toBe(503);
    expect(calls).toHaveLength(1);
  });

  it('deleteUser counts "already gone" on a retry as success (the first answer was lost)', async () => {
    const { time, client, calls } = setup([
      refuse,
      () => json(404, errorBody('IdentityDeleted', 'Identity was deleted.', 'ERR_IDENTITY_DELETED')),
    ]);
    await time.run(client.deleteUser(USER));
    expect(calls).toHaveLength(2);
    const first = setup([() => json(404, errorBody('IdentityNotFound', 'Provided identity doesn\u2019t exist.'))]);
    const error = await failure(first.time.run(first.client.deleteUser(USER)));
    expect(error).toMatchObject({ code: 'ERR_IDENTITY_NOT_FOUND', status: 404, serviceCode: 'IdentityNotFound' });
  });
});

describe('resilience policy: circuit breaker', () => {
  it('opens after N failures, fails fast for every client of that endpoint, half-opens one probe, closes on success', async () => {
    const time = new ManualTime();
    const registry = new CircuitBreakerRegistry({ clock: time, failureThreshold: 3, windowMs: 10_000, openMs: 5_000 });
    const upstream = scriptedFetch([status(503), status(503), status(503), tokenOk]);
    const other = scriptedFetch([tokenOk]);
    const options = { clock: time, timers: time, maxAttempts: 1, circuitBreakers: registry };
    const a = new IdentityClient(ENDPOINT, async () => 't', { ...options, fetch: upstream.fetch });
    const b = new IdentityClient('http://127.0.0.1:18080', async () => 't', { ...options, fetch: upstream.fetch });
    const elsewhere = new IdentityClient('http://127.0.0.1:18081/', async () => 't', {
      ...options,
      fetch: other.fetch,
    });
    for (let i = 0; i < 3; i++) await failure(a.getToken(USER, ['chat']));
    expect(registry.get(ENDPOINT).state).toBe('open');
    const fast = await failure(b.getToken(USER, ['chat']));
    expect(fast).toMatchObject({ code: 'ERR_CIRCUIT_OPEN', retryAfterMs: 5_000 });
    expect(fast.requestId).toMatch(UUID);
    expect(upstream.calls).toHaveLength(3); // nothing sent while open
    await expect(elsewhere.getToken(USER, ['chat'])).resolves.toMatchObject({ token: 'x.y.z' });
    await time.advance(5_000);
    expect(registry.get(ENDPOINT).state).toBe('half-open');
    await expect(b.getToken(USER, ['chat'])).resolves.toMatchObject({ token: 'x.y.z' });
    expect(registry.get(ENDPOINT).state).toBe('closed');
  });

  it('the module-level registry is shared by clients of one endpoint by default', async () => {
    const endpoint = 'http://127.0.0.1:18099/';
    const failing = scriptedFetch([status(500)]);
    const a = new IdentityClient(endpoint, async () => 't', { fetch: failing.fetch, maxAttempts: 1 });
    const b = new IdentityClient(endpoint, async () => 't', { fetch: failing.fetch, maxAttempts: 1 });
    try {
      for (let i = 0; i < 5; i++) await failure(a.getToken(USER, ['chat']));
      expect(defaultCircuitBreakerRegistry.get(endpoint).state).toBe('open');
      expect((await failure(b.getToken(USER, ['chat']))).code).toBe('ERR_CIRCUIT_OPEN');
      expect(failing.calls).toHaveLength(5);
    } finally {
      defaultCircuitBreakerRegistry.clear();
    }
  });

  it('circuitBreakers: false turns the breaker off', async () => {
    const { time, client, calls } = setup([status(500)], { circuitBreakers: false, maxAttempts: 1 });
    for (let i = 0; i < 8; i++) await failure(time.run(client.getToken(USER, ['chat'])));
    expect(calls).toHaveLength(8);
  });
});

describe('resilience policy: authentication per attempt', () => {
  it('HMAC: every attempt is signed afresh (new x-ms-date) and verifies like the server does', async () => {
    const time = new ManualTime();
    const scripted = scriptedFetch([status(503, { 'retry-after': '2' }), tokenOk]);
    const client = new IdentityClient(`endpoint=${ENDPOINT};accesskey=${KEY}`, {
      fetch: scripted.fetch,
      clock: time,
      timers: time,
      circuitBreakers: false,
    });
    await time.run(client.getToken(USER, ['chat', 'voip'], { expiresInMinutes: 60 }));
    const [first, second] = scripted.calls;
    expect(first?.headers['x-ms-date']).toBe(new Date(time.now() - 2_000).toUTCString());
    expect(second?.headers['x-ms-date']).toBe(new Date(time.now()).toUTCString());
    expect(first?.headers.authorization).toMatch(
      /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/,
    );
    expect(first && verifyHmac(first, KEY)).toBe(true);
    expect(second && verifyHmac(second, KEY)).toBe(true);
    expect(second && verifyHmac(second, Buffer.from('another key').toString('base64'))).toBe(false);
  });

  it('bearer: a provider function or a TokenCredential supplies Authorization: Bearer', async () => {
    const scopes: (string | string[])[] = [];
    const viaFunction = scriptedFetch([tokenOk]);
    await new IdentityClient(ENDPOINT, async () => ({ token: 'from-function' }), { fetch: viaFunction.fetch }).getToken(
      USER,
      ['chat'],
    );
    const viaCredential = scriptedFetch([tokenOk]);
    const credential = {
      getToken: async (s: string | string[]) => {
        scopes.push(s);
        return { token: 'from-credential', expiresOnTimestamp: 0 };
      },
    };
    await new IdentityClient(ENDPOINT, credential, { fetch: viaCredential.fetch }).getToken(USER, ['chat']);
    expect(viaFunction.calls[0]?.headers.authorization).toBe('Bearer from-function');
    expect(viaCredential.calls[0]?.headers.authorization).toBe('Bearer from-credential');
    expect(scopes).toEqual(['https://communication.azure.com//.default']);
  });
});

describe('error mapping', () => {
  const cases: [string, Step, Partial<TesseraClientError> | Partial<ClientError>][] = [
    [
      "Tessera's innererror code wins over the ACS code",
      () => json(401, errorBody('Denied', 'x-ms-date is too far from now.', 'ERR_AUTH_DATE_OUT_OF_RANGE')),
      { code: 'ERR_AUTH_DATE_OUT_OF_RANGE', serviceCode: 'Denied', status: 401 },
    ],
    [
      'real ACS IdentityNotOwned',
      () => json(401, errorBody('IdentityNotOwned', "Provided identity doesn't belong to the resource.")),
      { code: 'ERR_IDENTITY_NOT_OWNED', serviceCode: 'IdentityNotOwned' },
    ],
    [
      'real ACS content-hash Denied',
      () => json(401, errorBody('Denied', "Request 'x-ms-content-sha256' differs from generated content hash.")),
      { code: 'ERR_AUTH_CONTENT_HASH_MISMATCH' },
    ],
    [
      'real ACS UnsupportedApiVersion',
      () => json(400, errorBody('UnsupportedApiVersion', "does not support the API version '1999-01-01'.")),
      { code: 'ERR_UNSUPPORTED_API_VERSION' },
    ],
    [
      'a proxy 502 with an HTML body',
      () => new Response('<html>bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
      { code: 'ERR_UNEXPECTED_RESPONSE', status: 502 },
    ],
  ];
  it.each(cases)('%s', async (_name, step, expected) => {
    const { time, client } = setup([step], { maxAttempts: 1 });
    expect(await failure(time.run(client.getToken(USER, ['chat'])))).toMatchObject(expected);
  });

  it('a 2xx with an unexpected body is ERR_UNEXPECTED_RESPONSE', async () => {
    const { time, client } = setup([() => json(200, { nope: true })]);
    expect(await failure(time.run(client.getToken(USER, ['chat'])))).toMatchObject({
      code: 'ERR_UNEXPECTED_RESPONSE',
      status: 200,
    });
  });
});
