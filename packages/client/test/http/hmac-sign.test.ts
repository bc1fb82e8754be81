// createHmacHeaders is the client's convenience over core's signRequestHeaders (tested against the SDK vectors in
// packages/core/test/hmac): a base64 key or an imported one, a Date or a number, and the host fetch will send.
import { readFileSync } from 'node:fs';
import { isTesseraError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createHmacHeaders, importHmacKey } from '../../src/index.js';

interface HmacVector {
  name: string;
  method: string;
  url: string;
  host: string;
  date: string;
  body: string;
  accessKey: string;
  expected: { contentHash: string; authorization: string };
}

const vectors = (
  JSON.parse(readFileSync(new URL('../../../../test-vectors/hmac.json', import.meta.url), 'utf8')) as {
    cases: HmacVector[];
  }
).cases;

describe('createHmacHeaders', () => {
  it('signs every shared vector alike from the base64 key and from an imported CryptoKey with a Date', async () => {
    expect(vectors.length).toBeGreaterThanOrEqual(5);
    for (const v of vectors) {
      const fromText = await createHmacHeaders({
        method: v.method,
        url: v.url,
        body: v.body,
        key: v.accessKey,
        date: Date.parse(v.date),
      });
      const key: CryptoKey = (await importHmacKey(v.accessKey, globalThis.crypto.subtle)) as CryptoKey;
      const fromKey = await createHmacHeaders({
        method: v.method,
        url: new URL(v.url),
        body: v.body,
        key,
        date: new Date(v.date),
      });
      expect(fromText).toEqual({
        'x-ms-date': v.date,
        'x-ms-content-sha256': v.expected.contentHash,
        authorization: v.expected.authorization,
        host: v.host,
      });
      expect(fromKey).toEqual(fromText);
    }
  });

  it('dates the request now when no date is given', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const headers = await createHmacHeaders({ method: 'GET', url: 'http://127.0.0.1:1/', key: 'AAAA' });
    expect(Date.parse(headers['x-ms-date'])).toBeGreaterThanOrEqual(before);
    expect(Date.parse(headers['x-ms-date'])).toBeLessThanOrEqual(Date.now());
  });

  it('refuses a key that is not base64 without echoing it', async () => {
    const key = 'not base64 at all!';
    const error = await createHmacHeaders({ method: 'GET', url: 'http://127.0.0.1:1/', key }).catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_CONNECTION_STRING_INVALID')).toBe(true);
    expect((error as Error).message).not.toContain(key);
  });
});
