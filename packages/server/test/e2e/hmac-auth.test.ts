// Requirement 3: HMAC-SHA256 access-key authentication. Every failure is 401 Denied with an innererror.code that
// says which part was wrong, and no error body ever carries the signature or a key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  errorOf,
  hasStackTrace,
  identityClient,
  identityPath,
  type RawResponse,
  rawRequest,
  restErrorOf,
  signRequest,
  startTestServer,
  type Target,
  type TestServer,
} from './helpers.js';

let ts: TestServer;
let target: Target;
let secondaryKey: string;
let host: string;
const CREATE = '/identities?api-version=2023-10-01';
/** A well-formed base64 key of the right size that is not one of the server's. */
const WRONG_KEY = Buffer.alloc(64, 7).toString('base64');
/** Every response of this file, to check none leaks a signature or a key. */
const seen: Array<{ res: RawResponse; signature: string }> = [];

beforeAll(async () => {
  ts = await startTestServer();
  target = { url: ts.url, accessKey: ts.primaryKey };
  host = new URL(ts.url).host;
  const keys = await acsRequest(target, 'GET', '/admin/keys');
  secondaryKey = (keys.json as { secondaryKey: string }).secondaryKey;
});
afterAll(async () => ts.close());

async function send(path: string, input: Parameters<typeof acsRequest>[3] = {}, method = 'POST'): Promise<RawResponse> {
  const res = await acsRequest(target, method, path, input);
  seen.push({ res, signature: res.signed.signature });
  return res;
}

function expectDenied(res: RawResponse, inner: string, message?: string | RegExp): void {
  expect(res.status, res.text).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const error = errorOf(res);
  expect(error.code).toBe('Denied');
  expect(error.innererror?.code).toBe(inner);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else if (message !== undefined) expect(error.message).toMatch(message);
}

/** A correctly signed create whose Authorization parameters are written from the valid signature. */
async function sendRewritten(params: (signature: string) => string, dateHeader = 'x-ms-date') {
  const signed = signRequest({ method: 'POST', pathAndQuery: CREATE, host, body: '', accessKey: ts.primaryKey });
  const res = await rawRequest({
    baseUrl: ts.url,
    method: 'POST',
    path: CREATE,
    headers: {
      [dateHeader]: signed.date,
      'x-ms-content-sha256': signed.contentHash,
      authorization: `HMAC-SHA256 ${params(signed.signature)}`,
    },
  });
  if (res.status !== 201) expect(res.text).not.toContain(signed.signature.slice(0, 20));
  return res;
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toUTCString();

describe('HMAC failures: 401 Denied with a distinct innererror.code', () => {
  const codes = new Map<string, string>();

  it('missing Authorization header → ERR_AUTH_MISSING', async () => {
    const res = await send(CREATE, { omit: ['authorization'] });
    expectDenied(res, 'ERR_AUTH_MISSING', /Authorization/);
    codes.set('missing authorization', 'ERR_AUTH_MISSING');
  });

  it.each([
    'Bearer abc.def.ghi',
    'Basic dXNlcjpwYXNz',
    'SharedKey account:sig',
    'HMAC-SHA1 SignedHeaders=x&Signature=y',
  ])('another scheme (%s) → ERR_AUTH_UNSUPPORTED_SCHEME', async (authorization) => {
    const res = await send(CREATE, { headers: { authorization } });
    expectDenied(res, 'ERR_AUTH_UNSUPPORTED_SCHEME', /HMAC-SHA256/);
    codes.set('wrong scheme', 'ERR_AUTH_UNSUPPORTED_SCHEME');
  });

  it.each([
    'HMAC-SHA256',
    'HMAC-SHA256 garbage',
    'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256',
    'HMAC-SHA256 Signature=abc',
    'HMAC-SHA256 SignedHeaders=&Signature=abc',
    'HMAC-SHA256 SignedHeaders=host&Signature=abc',
  ])('malformed HMAC header %j → ERR_AUTH_MALFORMED', async (authorization) => {
    const res = await send(CREATE, { headers: { authorization } });
    expectDenied(res, 'ERR_AUTH_MALFORMED');
    codes.set('malformed', 'ERR_AUTH_MALFORMED');
  });

  it('missing x-ms-date → ERR_AUTH_MISSING_HEADER naming x-ms-date', async () => {
    const res = await send(CREATE, { omit: ['x-ms-date'] });
    expectDenied(res, 'ERR_AUTH_MISSING_HEADER', /x-ms-date/);
    codes.set('missing date', 'ERR_AUTH_MISSING_HEADER');
  });

  it('missing x-ms-content-sha256 → ERR_AUTH_MISSING_HEADER naming x-ms-content-sha256', async () => {
    const res = await send(CREATE, { omit: ['x-ms-content-sha256'] });
    expectDenied(res, 'ERR_AUTH_MISSING_HEADER', /x-ms-content-sha256/);
  });

  it.each([
    'yesterday',
    '2026-11-23T17:45:27Z',
    '1732384000',
    'Mon, 99 Nov 2026 17:45:27 GMT',
    'Mon, 23 Nov 2026 17:45:27',
  ])('unparsable x-ms-date %j → ERR_AUTH_DATE_INVALID', async (date) => {
    const res = await send(CREATE, { date });
    expectDenied(res, 'ERR_AUTH_DATE_INVALID', /x-ms-date/);
    codes.set('bad date', 'ERR_AUTH_DATE_INVALID');
  });

  it.each([16, 60, -16])(
    'x-ms-date %i minutes in the past (negative: future) → ERR_AUTH_DATE_OUT_OF_RANGE',
    async (m) => {
      const res = await send(CREATE, { date: minutesAgo(m) });
      expectDenied(res, 'ERR_AUTH_DATE_OUT_OF_RANGE', /900 seconds/);
      codes.set('stale date', 'ERR_AUTH_DATE_OUT_OF_RANGE');
    },
  );

  it.each([14, -14])('x-ms-date %i minutes off is inside the 15 min window → accepted', async (m) => {
    expect((await send(CREATE, { date: minutesAgo(m) })).status).toBe(201);
  });

  it('body differs from x-ms-content-sha256 → ERR_AUTH_CONTENT_HASH_MISMATCH with the service’s message', async () => {
    const res = await send(CREATE, {
      json: { createTokenWithScopes: ['chat', 'voip'] },
      signBody: JSON.stringify({ createTokenWithScopes: ['chat'] }),
    });
    expectDenied(
      res,
      'ERR_AUTH_CONTENT_HASH_MISMATCH',
      "Request 'x-ms-content-sha256' differs from generated content hash.",
    );
    codes.set('hash', 'ERR_AUTH_CONTENT_HASH_MISMATCH');
  });

  it('signed with a wrong key → ERR_AUTH_SIGNATURE_MISMATCH', async () => {
    const res = await send(CREATE, { accessKey: WRONG_KEY });
    expectDenied(res, 'ERR_AUTH_SIGNATURE_MISMATCH');
    codes.set('wrong key', 'ERR_AUTH_SIGNATURE_MISMATCH');
  });

  it('a signature that is not even base64 → ERR_AUTH_MALFORMED', async () => {
    const res = await send(CREATE, {
      headers: { authorization: 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=!!!' },
    });
    expectDenied(res, 'ERR_AUTH_MALFORMED', /base64/);
  });

  // Issue #16: one signature has one spelling. Each variant below decodes (with a forgiving base64 decoder) to the
  // valid signature's bytes, so before the fix each was accepted as the same credential.
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  it.each([
    ['unpadded', (s: string) => s.slice(0, -1)],
    ['base64url', (s: string) => Buffer.from(s, 'base64').toString('base64url')],
    ['non-zero trailing bits', (s: string) => `${s.slice(0, 42)}${B64[B64.indexOf(s.charAt(42)) | 1]}=`],
    ['extra padding', (s: string) => `${s}=`],
    ['a space inside', (s: string) => `${s.slice(0, 20)} ${s.slice(20)}`],
  ])('a valid signature spelled non-canonically (%s) → 401 ERR_AUTH_MALFORMED', async (_n, respell) => {
    const res = await sendRewritten((s) => {
      expect(respell(s)).not.toBe(s);
      return `SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${respell(s)}`;
    });
    expectDenied(res, 'ERR_AUTH_MALFORMED', /base64/);
  });

  it.each([
    [
      'Signature twice',
      (s: string) => `SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${s}&Signature=${s}`,
    ],
    [
      'SignedHeaders twice',
      (s: string) => `SignedHeaders=x-ms-date;host;x-ms-content-sha256&signedheaders=host&Signature=${s}`,
    ],
  ])('an Authorization header carrying a parameter twice (%s) → 401 ERR_AUTH_MALFORMED', async (_n, params) => {
    expectDenied(await sendRewritten(params), 'ERR_AUTH_MALFORMED', /more than once/);
  });

  it('the same request with the signature as sent is accepted (the rewrites above are all that differs)', async () => {
    const res = await sendRewritten((s) => `SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${s}`);
    expect(res.status, res.text).toBe(201);
  });

  it('tampered path: signed for one identity, sent for another → ERR_AUTH_SIGNATURE_MISMATCH, nothing revoked', async () => {
    const a = (await createIdentity(target)).identity.id;
    const b = (await createIdentity(target)).identity.id;
    const res = await send(identityPath(b, '/:revokeAccessTokens'), {
      signPath: identityPath(a, '/:revokeAccessTokens'),
    });
    expectDenied(res, 'ERR_AUTH_SIGNATURE_MISMATCH');
  });

  it('tampered query: signed for one api-version, sent with another → ERR_AUTH_SIGNATURE_MISMATCH', async () => {
    const res = await send('/identities?api-version=2022-10-01', { signPath: CREATE });
    expectDenied(res, 'ERR_AUTH_SIGNATURE_MISMATCH');
  });

  it('tampered method: signed as POST, sent as DELETE → ERR_AUTH_SIGNATURE_MISMATCH', async () => {
    const id = (await createIdentity(target)).identity.id;
    const signed = signRequest({
      method: 'POST',
      pathAndQuery: identityPath(id),
      host,
      body: '',
      accessKey: ts.primaryKey,
    });
    const res = await rawRequest({
      baseUrl: ts.url,
      method: 'DELETE',
      path: identityPath(id),
      headers: {
        'x-ms-date': signed.date,
        'x-ms-content-sha256': signed.contentHash,
        authorization: signed.authorization,
      },
    });
    seen.push({ res, signature: signed.signature });
    expectDenied(res, 'ERR_AUTH_SIGNATURE_MISMATCH');
  });

  it('signed for the wrong host port (Host header as sent) → ERR_AUTH_SIGNATURE_MISMATCH', async () => {
    const res = await send(CREATE, { signHost: '127.0.0.1:1' });
    expectDenied(res, 'ERR_AUTH_SIGNATURE_MISMATCH');
  });

  it('wrong host port: Host header and signature both for another port than the server’s → ERR_AUTH_HOST_MISMATCH', async () => {
    // A request captured on its way to another endpoint must not be replayable here: the signed host must be ours.
    const res = await send(CREATE, { signHost: '127.0.0.1:1', headers: { host: '127.0.0.1:1' } });
    expectDenied(res, 'ERR_AUTH_HOST_MISMATCH', /host/i);
  });

  it('each failure kind above has its own innererror.code', () => {
    expect(codes.size).toBe(8);
    expect(new Set(codes.values()).size).toBe(codes.size);
  });
});

describe('HMAC success', () => {
  it('the primary and the secondary key both authenticate', async () => {
    expect((await send(CREATE)).status).toBe(201);
    expect((await send(CREATE, { accessKey: secondaryKey })).status).toBe(201);
    expect(secondaryKey).not.toBe(ts.primaryKey);
  });

  it('the official SDK authenticates with the secondary connection string', async () => {
    const client = identityClient(`endpoint=${ts.url};accesskey=${secondaryKey}`);
    const { token } = await client.createUserAndToken(['chat']);
    expect(token.split('.')).toHaveLength(3);
  });

  it('the official SDK with a wrong key gets 401 Denied', async () => {
    const client = identityClient(`endpoint=${ts.url};accesskey=${WRONG_KEY}`);
    const error = restErrorOf(await client.createUser().catch((e: unknown) => e));
    expect(error.statusCode).toBe(401);
    expect(error.code).toBe('Denied');
  });

  it('older SDKs signing SignedHeaders=date;host;x-ms-content-sha256 with the Date header are accepted', async () => {
    const res = await sendRewritten((s) => `SignedHeaders=date;host;x-ms-content-sha256&Signature=${s}`, 'date');
    expect(res.status, res.text).toBe(201);
  });

  it('another name for this server on the same port (localhost instead of 127.0.0.1) is accepted', async () => {
    const local = `localhost:${new URL(ts.url).port}`;
    const res = await send(CREATE, { signHost: local, headers: { host: local } });
    expect(res.status, res.text).toBe(201);
  });

  it('the Python SDK’s path without the leading slash (plain HTTP) is accepted', async () => {
    const res = await send(CREATE, { signPath: CREATE.slice(1) });
    expect(res.status, res.text).toBe(201);
  });

  it('replaying an old request outside the window fails even with a valid signature', async () => {
    const res = await send(CREATE, { date: minutesAgo(20) });
    expectDenied(res, 'ERR_AUTH_DATE_OUT_OF_RANGE');
  });
});

describe('maxClockSkewSeconds', () => {
  it('a server started with maxClockSkewSeconds: 60 refuses a 2-minute-old date and accepts a 30-second-old one', async () => {
    const tight = await startTestServer({ maxClockSkewSeconds: 60 });
    try {
      const t: Target = { url: tight.url, accessKey: tight.primaryKey };
      const old = await acsRequest(t, 'POST', CREATE, { date: minutesAgo(2) });
      expectDenied(old, 'ERR_AUTH_DATE_OUT_OF_RANGE', /60 seconds/);
      expect((await acsRequest(t, 'POST', CREATE, { date: minutesAgo(0.5) })).status).toBe(201);
    } finally {
      await tight.close();
    }
  });
});

describe('no secret in any error body', () => {
  it('no response of this file contains the signature sent, or any access key', () => {
    expect(seen.length).toBeGreaterThan(20);
    for (const { res, signature } of seen) {
      expect(res.text).not.toContain(signature);
      expect(res.text).not.toContain(ts.primaryKey);
      expect(res.text).not.toContain(secondaryKey);
      expect(res.text).not.toContain(ts.verifierKey);
      expect(res.text).not.toContain(WRONG_KEY);
      expect(hasStackTrace(res.text)).toBe(false);
    }
  });
});
