// HMAC-SHA256 failures through buildApp(...).inject() on the memory store, one innererror.code each, with a fixed
// clock so the date window is exact (test/e2e/hmac-auth.test.ts covers the same over a socket and the official SDK).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InjectedApp, type InjectedResponse, injectApp } from './inject-app.js';

const NOW = Date.UTC(2026, 10, 23, 17, 45, 27);
const CREATE = '/identities?api-version=2023-10-01';
/** A well-formed base64 key of the right size that is not one of the server's. */
const WRONG_KEY = Buffer.alloc(64, 7).toString('base64');
const at = (offsetMs: number) => new Date(NOW + offsetMs).toUTCString();

let t: InjectedApp;
const answers: InjectedResponse[] = [];
beforeAll(async () => {
  t = await injectApp({ clock: () => NOW });
});
afterAll(async () => {
  // No answer of this file carries a key.
  for (const res of answers) {
    for (const name of ['primary', 'secondary', 'verifier'] as const) expect(res.text).not.toContain(t.key(name));
  }
  await t.close();
});

async function send(input: Parameters<InjectedApp['acs']>[2] = {}, path = CREATE): Promise<InjectedResponse> {
  const res = await t.acs('POST', path, input);
  answers.push(res);
  return res;
}

function expectDenied(res: InjectedResponse, inner: string, message?: RegExp): void {
  expect(res.status, res.text).toBe(401);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const { error } = res.json as { error: { code: string; message: string; innererror?: { code: string } } };
  expect(error.code).toBe('Denied');
  expect(error.innererror?.code).toBe(inner);
  if (message !== undefined) expect(error.message).toMatch(message);
}

describe('HMAC failures: 401 Denied, one innererror.code each', () => {
  it('a correctly signed request is accepted (what every case below changes one thing of)', async () => {
    expect((await send()).status).toBe(201);
  });

  it('no Authorization → ERR_AUTH_MISSING', async () => {
    expectDenied(await send({ omit: ['authorization'] }), 'ERR_AUTH_MISSING', /Authorization/);
  });

  it.each(['Bearer abc.def.ghi', 'Basic dXNlcjpwYXNz', 'HMAC-SHA1 SignedHeaders=x&Signature=y'])(
    'another scheme (%s) → ERR_AUTH_UNSUPPORTED_SCHEME',
    async (authorization) => {
      expectDenied(await send({ headers: { authorization } }), 'ERR_AUTH_UNSUPPORTED_SCHEME', /HMAC-SHA256/);
    },
  );

  it.each([
    'HMAC-SHA256',
    'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256',
    'HMAC-SHA256 SignedHeaders=host&Signature=abc',
    'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=!!!',
  ])('malformed %j → ERR_AUTH_MALFORMED', async (authorization) => {
    expectDenied(await send({ headers: { authorization } }), 'ERR_AUTH_MALFORMED');
  });

  it.each(['x-ms-date', 'x-ms-content-sha256'])('missing %s → ERR_AUTH_MISSING_HEADER naming it', async (name) => {
    expectDenied(await send({ omit: [name] }), 'ERR_AUTH_MISSING_HEADER', new RegExp(name));
  });

  it.each(['yesterday', '2026-11-23T17:45:27Z', 'Mon, 99 Nov 2026 17:45:27 GMT'])(
    'unparsable x-ms-date %j → ERR_AUTH_DATE_INVALID',
    async (date) => {
      expectDenied(await send({ date }), 'ERR_AUTH_DATE_INVALID', /x-ms-date/);
    },
  );

  it('the 15 minute window is exact: ±900 s accepted, ±901 s → ERR_AUTH_DATE_OUT_OF_RANGE', async () => {
    expect((await send({ date: at(-900_000) })).status).toBe(201);
    expect((await send({ date: at(900_000) })).status).toBe(201);
    expectDenied(await send({ date: at(-901_000) }), 'ERR_AUTH_DATE_OUT_OF_RANGE', /900 seconds/);
    expectDenied(await send({ date: at(901_000) }), 'ERR_AUTH_DATE_OUT_OF_RANGE', /900 seconds/);
  });

  it('body differs from x-ms-content-sha256 → ERR_AUTH_CONTENT_HASH_MISMATCH', async () => {
    const res = await send({
      json: { createTokenWithScopes: ['voip'] },
      signBody: '{"createTokenWithScopes":["chat"]}',
    });
    expectDenied(res, 'ERR_AUTH_CONTENT_HASH_MISMATCH');
  });

  it('signed for another host (and sent there) → ERR_AUTH_HOST_MISMATCH', async () => {
    const res = await send({ signHost: 'evil.example:443', headers: { host: 'evil.example:443' } });
    expectDenied(res, 'ERR_AUTH_HOST_MISMATCH', /--public-url/);
  });

  it('signed with a wrong key → ERR_AUTH_SIGNATURE_MISMATCH', async () => {
    expectDenied(await send({ accessKey: WRONG_KEY }), 'ERR_AUTH_SIGNATURE_MISMATCH');
  });

  it('signed for another path → ERR_AUTH_SIGNATURE_MISMATCH, and nothing was created', async () => {
    const before = await t.store.listIdentities({ limit: 1000 });
    const res = await send({ signPath: '/identities?api-version=2022-10-01' });
    expectDenied(res, 'ERR_AUTH_SIGNATURE_MISMATCH');
    expect(await t.store.listIdentities({ limit: 1000 })).toStrictEqual(before);
  });

  it('a refused call is audited as a failure with its code', async () => {
    await send({ accessKey: WRONG_KEY, requestId: 'audited-failure' });
    await t.flush();
    const audit = await t.store.listAudit({ limit: 1000 });
    const entry = audit.find((record) => record.requestId === 'audited-failure');
    expect(entry).toMatchObject({ outcome: 'failure', status: 401, code: 'ERR_AUTH_SIGNATURE_MISMATCH' });
  });
});
