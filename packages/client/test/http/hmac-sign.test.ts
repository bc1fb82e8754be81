import { readFileSync } from 'node:fs';
import { isTesseraError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { contentHash, createHmacHeaders } from '../../src/index.js';

interface HmacVector {
  name: string;
  method: string;
  url: string;
  host: string;
  date: string;
  body: string;
  accessKey: string;
  expected: { contentHash: string; stringToSign: string; signature: string; authorization: string };
}

// Shared with the server's tests; recorded from the official Azure SDK, never computed by Tessera code.
const vectors = (
  JSON.parse(readFileSync(new URL('../../../../test-vectors/hmac.json', import.meta.url), 'utf8')) as {
    cases: HmacVector[];
  }
).cases;

describe('createHmacHeaders', () => {
  it('has the shared vectors to check against', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(5);
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    'pain point: hand-rolling HMAC request signing — signs "%s" byte for byte like the official SDK',
    async (_name, vector) => {
      const headers = await createHmacHeaders({
        method: vector.method,
        url: vector.url,
        body: vector.body,
        key: vector.accessKey,
        date: Date.parse(vector.date),
      });
      expect(headers['x-ms-date']).toBe(vector.date);
      expect(headers.host).toBe(vector.host);
      expect(headers['x-ms-content-sha256']).toBe(vector.expected.contentHash);
      expect(headers.authorization).toBe(vector.expected.authorization);
    },
  );

  it('hashes the exact UTF-8 bytes of the body', async () => {
    expect(await contentHash(undefined)).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    const { createHash } = await import('node:crypto');
    const body = '{"customId":"zoë@例え.jp"}';
    expect(await contentHash(body)).toBe(createHash('sha256').update(Buffer.from(body, 'utf8')).digest('base64'));
  });

  it('refuses a key that is not base64 without echoing it', async () => {
    const key = 'not base64 at all!';
    const error = await createHmacHeaders({ method: 'GET', url: 'http://127.0.0.1:1/', key }).catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_CONNECTION_STRING_INVALID')).toBe(true);
    expect((error as Error).message).not.toContain(key);
  });
});
