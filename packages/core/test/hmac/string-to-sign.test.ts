import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_CONTENT_HASH,
  SIGNED_HEADERS,
  base64ToBytes,
  buildStringToSign,
  formatHmacAuthorization,
  parseHttpDate,
} from '../../src/index.js';
import { type HmacVector, hmacVectors } from '../support/vectors.js';

// Vectors recorded from @azure/communication-identity / @azure/communication-common
// (test-vectors/generate-hmac-vectors.mjs): the SDK's own string-to-sign and signature are the oracle.
const vectors = hmacVectors();
const onWire = vectors.filter((v) => v.requestTarget === v.expected.pathAndQuery);
const reencoded = vectors.filter((v) => v.requestTarget !== v.expected.pathAndQuery);

/** The HMAC a server computes: node:crypto over core's string-to-sign, keyed with core's strict base64 decode. */
function sign(accessKey: string, stringToSign: string): string {
  const key = base64ToBytes(accessKey);
  if (key === undefined) throw new Error('vector key is not base64');
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('base64');
}

function coreStringToSign(v: HmacVector, pathAndQuery: string, overrides: Partial<{ host: string }> = {}) {
  return buildStringToSign({
    method: v.method,
    pathAndQuery,
    date: v.date,
    host: overrides.host ?? v.host,
    contentHash: createHash('sha256').update(v.body, 'utf8').digest('base64'),
  });
}

describe('HMAC vectors (test-vectors/hmac.json) cover the required cases', () => {
  it('has empty body, JSON body, percent-encoded id path, non-default port, unicode body, DELETE, re-encoded query', () => {
    expect(vectors.some((v) => v.body === '' && v.expected.contentHash === EMPTY_CONTENT_HASH)).toBe(true);
    expect(vectors.some((v) => v.body.startsWith('{'))).toBe(true);
    expect(
      vectors.some((v) =>
        /^\/identities\/8%3Aacs%3A[^/]+\/:issueAccessToken\?api-version=2023-10-01$/.test(v.requestTarget),
      ),
    ).toBe(true);
    expect(vectors.some((v) => /:\d+$/.test(v.host))).toBe(true);
    expect(vectors.some((v) => Buffer.byteLength(v.body, 'utf8') > v.body.length)).toBe(true);
    expect(vectors.some((v) => v.method === 'DELETE')).toBe(true);
    expect(reencoded.length).toBeGreaterThan(0);
  });
});

describe('EMPTY_CONTENT_HASH', () => {
  it('is base64 SHA-256 of zero bytes, as the SDK sends for bodiless requests', () => {
    expect(EMPTY_CONTENT_HASH).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    expect(createHash('sha256').update(Buffer.alloc(0)).digest('base64')).toBe(EMPTY_CONTENT_HASH);
    for (const v of vectors.filter((x) => x.body === '')) expect(v.expected.contentHash).toBe(EMPTY_CONTENT_HASH);
  });
});

describe('buildStringToSign against the official SDK', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('content hash: %s', (_n, v) => {
    // SHA-256 over the UTF-8 bytes of the body (the SDK hashes body.toString())
    expect(createHash('sha256').update(Buffer.from(v.body, 'utf8')).digest('base64')).toBe(v.expected.contentHash);
  });

  it.each(onWire.map((v) => [v.name, v] as const))('string-to-sign and signature: %s', (_n, v) => {
    const stringToSign = coreStringToSign(v, v.requestTarget);
    expect(stringToSign).toBe(v.expected.stringToSign);
    const signature = sign(v.accessKey, stringToSign);
    expect(signature).toBe(v.expected.signature);
    expect(formatHmacAuthorization(signature)).toBe(v.expected.authorization);
    // a server compares in constant time
    expect(timingSafeEqual(Buffer.from(signature, 'base64'), Buffer.from(v.expected.signature, 'base64'))).toBe(true);
  });

  it.each(reencoded.map((v) => [v.name, v] as const))(
    'SDK re-encodes the query (URLSearchParams), so the raw request-target does not verify: %s',
    (_n, v) => {
      expect(sign(v.accessKey, coreStringToSign(v, v.requestTarget))).not.toBe(v.expected.signature);
      const url = new URL(v.requestTarget, 'http://x');
      const query = url.searchParams.toString();
      const normalised = query === '' ? url.pathname : `${url.pathname}?${query}`;
      expect(normalised).toBe(v.expected.pathAndQuery);
      expect(sign(v.accessKey, coreStringToSign(v, normalised))).toBe(v.expected.signature);
    },
  );

  it('upper-cases the verb (a lower-case method signs the same)', () => {
    for (const v of onWire) {
      const lower = buildStringToSign({
        method: v.method.toLowerCase(),
        pathAndQuery: v.requestTarget,
        date: v.date,
        host: v.host,
        contentHash: v.expected.contentHash,
      });
      expect(lower).toBe(v.expected.stringToSign);
    }
  });

  it('the port is part of the signed host: dropping it breaks the signature', () => {
    for (const v of onWire.filter((x) => /:\d+$/.test(x.host))) {
      const hostOnly = v.host.replace(/:\d+$/, '');
      expect(sign(v.accessKey, coreStringToSign(v, v.requestTarget, { host: hostOnly }))).not.toBe(
        v.expected.signature,
      );
    }
  });

  it('the percent-encoded path is signed as sent: decoding it breaks the signature', () => {
    for (const v of onWire.filter((x) => x.requestTarget.includes('%3A'))) {
      const decoded = decodeURIComponent(v.requestTarget);
      expect(sign(v.accessKey, coreStringToSign(v, decoded))).not.toBe(v.expected.signature);
    }
  });

  it('a Buffer-decoded key with a stray character gives the same bytes; core refuses that key instead', () => {
    const v = onWire[0];
    if (v === undefined) throw new Error('no vectors');
    const sloppy = `${v.accessKey.slice(0, 10)}!${v.accessKey.slice(10)}`;
    expect(Buffer.from(sloppy, 'base64')).toEqual(Buffer.from(v.accessKey, 'base64'));
    expect(base64ToBytes(sloppy)).toBeUndefined();
  });
});

describe('SIGNED_HEADERS / formatHmacAuthorization', () => {
  it('are what the SDK sends', () => {
    expect(SIGNED_HEADERS).toEqual(['x-ms-date', 'host', 'x-ms-content-sha256']);
    expect(formatHmacAuthorization('c2ln')).toBe(
      'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=c2ln',
    );
  });
});

describe('parseHttpDate on the recorded x-ms-date values', () => {
  it.each(vectors.map((v) => [v.date, v] as const))('%s', (date) => {
    const ms = parseHttpDate(date);
    expect(ms).toBe(Date.parse(date));
    expect(new Date(ms ?? 0).toUTCString()).toBe(date);
  });
});
