import { createHash, type webcrypto } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EMPTY_CONTENT_HASH,
  type HmacSubtle,
  contentHash,
  importHmacKey,
  isTesseraError,
  signRequestHeaders,
} from '../../src/index.js';
import { expectNoSecret } from '../support/secrets.js';
import { hmacVectors } from '../support/vectors.js';

// Recorded from @azure/communication-identity / @azure/communication-common (test-vectors/hmac.json): the SDK's
// own string-to-sign and signature are the oracle, never Tessera code.
const vectors = hmacVectors();

/** Node's WebCrypto, with every HMAC input recorded (to compare with the SDK's captured string-to-sign). */
function recordingSubtle(): { subtle: HmacSubtle; signed: string[]; digests: number } {
  const real = globalThis.crypto.subtle;
  const record = { signed: [] as string[], digests: 0 };
  const subtle: HmacSubtle = {
    importKey: (format, keyData, algorithm, extractable, usages) =>
      real.importKey(format, keyData, algorithm, extractable, usages),
    sign: (algorithm, key, data) => {
      record.signed.push(new TextDecoder().decode(data));
      return real.sign(algorithm, key as webcrypto.CryptoKey, data);
    },
    digest: (algorithm, data) => {
      record.digests++;
      return real.digest(algorithm, data);
    },
  };
  return Object.assign(record, { subtle });
}

describe('signRequestHeaders against the official SDK (test-vectors/hmac.json)', () => {
  it('has the shared vectors, including a query the SDK re-encodes', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(5);
    expect(vectors.some((v) => v.requestTarget !== v.expected.pathAndQuery)).toBe(true);
  });

  it.each(vectors.map((v) => [v.name, v] as const))(
    'pain point: hand-rolling HMAC request signing — reproduces "%s" exactly',
    async (_name, vector) => {
      const recording = recordingSubtle();
      const key = await importHmacKey(vector.accessKey, recording.subtle);
      const headers = await signRequestHeaders({
        key,
        method: vector.method,
        url: vector.url,
        body: vector.body,
        nowMs: Date.parse(vector.date),
        subtle: recording.subtle,
      });
      expect(recording.signed).toEqual([vector.expected.stringToSign]);
      expect(headers).toEqual({
        'x-ms-date': vector.date,
        'x-ms-content-sha256': vector.expected.contentHash,
        authorization: vector.expected.authorization,
      });
      expect(headers.authorization.endsWith(`&Signature=${vector.expected.signature}`)).toBe(true);
    },
  );

  it('defaults to globalThis.crypto.subtle and takes a URL object as well as a string', async () => {
    const nodeSubtle: HmacSubtle = globalThis.crypto.subtle; // Node's WebCrypto fits the structural type as it is
    expect(nodeSubtle).toBeDefined();
    for (const vector of vectors) {
      const key = await importHmacKey(vector.accessKey);
      const nowMs = Date.parse(vector.date);
      const viaUrl = await signRequestHeaders({
        key,
        method: vector.method,
        url: new URL(vector.url),
        body: vector.body,
        nowMs,
      });
      expect(viaUrl.authorization).toBe(vector.expected.authorization);
    }
  });

  it('dates the request from nowMs alone (RFC 1123), so a frozen clock gives a fixed signature', async () => {
    const vector = vectors[0];
    if (vector === undefined) throw new Error('no vectors');
    const key = await importHmacKey(vector.accessKey);
    const sign = (nowMs: number) => signRequestHeaders({ key, method: 'GET', url: 'https://h.example/x', nowMs });
    const a = await sign(1_767_225_600_123);
    expect(a['x-ms-date']).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    expect(await sign(1_767_225_600_999)).toEqual(a);
    expect((await sign(1_767_225_601_000)).authorization).not.toBe(a.authorization);
  });
});

describe('contentHash', () => {
  it('is EMPTY_CONTENT_HASH for no body, without hashing anything', async () => {
    const recording = recordingSubtle();
    expect(await contentHash(undefined, recording.subtle)).toBe(EMPTY_CONTENT_HASH);
    expect(await contentHash('', recording.subtle)).toBe(EMPTY_CONTENT_HASH);
    expect(recording.digests).toBe(0);
  });

  it('hashes the exact UTF-8 bytes of the body', async () => {
    const body = '{"customId":"zoë@例え.jp 🎉"}';
    expect(await contentHash(body)).toBe(createHash('sha256').update(Buffer.from(body, 'utf8')).digest('base64'));
  });
});

describe('importHmacKey', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('imports a non-extractable HMAC-SHA256 signing key', async () => {
    const key = (await importHmacKey(vectors[0]?.accessKey ?? '')) as webcrypto.CryptoKey;
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'HMAC', hash: { name: 'SHA-256' } });
    expect(key.usages).toEqual(['sign']);
  });

  it.each([
    ['not base64', 'not base64 at all!'],
    ['empty', ''],
  ])('refuses a key that is %s with ERR_CONNECTION_STRING_INVALID, without echoing it', async (_name, text) => {
    const error = await importHmacKey(text).catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_CONNECTION_STRING_INVALID')).toBe(true);
    expect((error as { target?: string }).target).toBe('accesskey');
    if (text !== '') expectNoSecret(error, [text]);
  });

  it('says WebCrypto is missing (as on a plain-http browser page) with ERR_CONFIG_INVALID', async () => {
    vi.stubGlobal('crypto', undefined);
    const error = await importHmacKey('AAAA').catch((e: unknown) => e);
    expect(isTesseraError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('crypto.subtle');
  });
});
