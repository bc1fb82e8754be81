// Issue #16, property tests (fast-check, seeded: TESSERA_TEST_SEED replays a failure, the seed is in its message).
// The parsers that read what strangers send — the HMAC Authorization header, the JWT decoder, the claims parser —
// answer any input with a result or a TesseraError carrying one of their stable codes, never another exception; the
// SDK fast path of the HMAC parser answers exactly what the general parse answers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters } from '../../../../test/support/property-seed.js';
import { decodeJwt, parseClaims, parseHmacAuthorization, TesseraError } from '../../src/index.js';

type Outcome = { ok: unknown } | { code: string };

function outcome(run: () => unknown): Outcome {
  try {
    return { ok: run() };
  } catch (error) {
    if (!(error instanceof TesseraError)) throw error; // a TypeError, RangeError… fails the property
    return { code: error.code };
  }
}

const CANONICAL_SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const SIGNED_HEADERS = 'x-ms-date;host;x-ms-content-sha256';

/** Base64 of 32 random bytes (valid), and its near misses. */
const signatureArb = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ minLength: 0, maxLength: 48 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')),
  fc
    .tuple(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 43 }), fc.string({ maxLength: 3 }))
    .map(([b, at, insert]) => {
      const s = Buffer.from(b).toString('base64');
      return `${s.slice(0, at)}${insert}${s.slice(at)}`;
    }),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** `Name=value` parameters in any case, order, spacing and repetition. */
const paramArb = fc.oneof(
  signatureArb.map((s) => `Signature=${s}`),
  fc
    .constantFrom('SignedHeaders', 'signedheaders', 'SIGNATURE', 'signature', 'Other', '')
    .chain((name) =>
      fc.oneof(fc.constant(SIGNED_HEADERS), fc.string({ maxLength: 40 }), signatureArb).map((v) => `${name}=${v}`),
    ),
  fc.constantFrom(`SignedHeaders=${SIGNED_HEADERS}`, 'SignedHeaders=date;host;x-ms-content-sha256', 'junk', '=x', ''),
);
const headerArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(
      fc.constantFrom('HMAC-SHA256', 'hmac-sha256', 'Hmac-Sha256', 'HMAC-SHA512', 'Bearer', '', 'HMAC-SHA256 '),
      fc.array(paramArb, { maxLength: 5 }),
      fc.constantFrom('&', ' & ', '&&', ',', ';'),
      fc.constantFrom(' ', '  ', '\t', ''),
    )
    .map(([scheme, params, joiner, space]) => `${scheme}${space}${params.join(joiner)}`),
);

describe('parseHmacAuthorization (property)', () => {
  it('any header: a canonical parse, or ERR_AUTH_MALFORMED / ERR_AUTH_UNSUPPORTED_SCHEME — never another throw', () => {
    fc.assert(
      fc.property(headerArb, (header) => {
        const result = outcome(() => parseHmacAuthorization(header));
        if ('code' in result) {
          expect(['ERR_AUTH_MALFORMED', 'ERR_AUTH_UNSUPPORTED_SCHEME']).toContain(result.code);
        } else {
          const parsed = result.ok as ReturnType<typeof parseHmacAuthorization>;
          expect(parsed.signature).toMatch(CANONICAL_SIGNATURE);
          expect(parsed.signedHeaders.length).toBeGreaterThan(0);
        }
      }),
      propertyParameters(1000),
    );
  });

  it("the SDK's exact header takes the fast path, and it answers what the general parse answers, for any signature", () => {
    fc.assert(
      fc.property(signatureArb, fc.string({ maxLength: 20 }), (signature, tail) => {
        for (const rest of [signature, `${signature}${tail}`]) {
          const fast = `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS}&Signature=${rest}`;
          // The lower-case scheme never matches the fast path's prefix: the general parse answers.
          const general = `hmac-sha256 SignedHeaders=${SIGNED_HEADERS}&Signature=${rest}`;
          expect(outcome(() => parseHmacAuthorization(fast))).toEqual(outcome(() => parseHmacAuthorization(general)));
        }
      }),
      propertyParameters(1000),
    );
  });
});

const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const headerObjectArb = fc.record(
  {
    alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'none', 'HS256'), fc.jsonValue()),
    typ: fc.jsonValue(),
    kid: fc.oneof(fc.string(), fc.jsonValue()),
    crit: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
  },
  { requiredKeys: [] },
);
const segmentArb = fc.oneof(
  headerObjectArb.map(b64url),
  fc.jsonValue().map(b64url),
  fc.dictionary(fc.string(), fc.jsonValue()).map(b64url),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url')),
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,90}$/),
);
const tokenArb = fc.oneof(
  fc.tuple(segmentArb, segmentArb, segmentArb).map((parts) => parts.join('.')),
  fc.array(segmentArb, { maxLength: 5 }).map((parts) => parts.join('.')),
  fc.string({ maxLength: 300 }),
  fc.anything(),
);

describe('decodeJwt and parseClaims (property)', () => {
  it('any input: a decoded JWS with a string alg and no crit, or ERR_TOKEN_MALFORMED — never another throw', () => {
    fc.assert(
      fc.property(tokenArb, (token) => {
        const result = outcome(() => decodeJwt(token));
        if ('code' in result) {
          expect(result.code).toBe('ERR_TOKEN_MALFORMED');
          return;
        }
        const decoded = result.ok as ReturnType<typeof decodeJwt>;
        expect(typeof decoded.header.alg).toBe('string');
        expect(Object.hasOwn(decoded.header, 'crit')).toBe(false);
        // One spelling: every segment accepted is canonical base64url.
        for (const part of (token as string).split('.')) {
          expect(Buffer.from(part, 'base64url').toString('base64url')).toBe(part);
        }
        const claims = outcome(() => parseClaims(decoded.payload));
        if ('code' in claims) expect(['ERR_TOKEN_MALFORMED', 'ERR_TOKEN_UNSUPPORTED_VERSION']).toContain(claims.code);
      }),
      propertyParameters(1000),
    );
  });

  it('claims shaped almost like the contract: parsed, or ERR_TOKEN_MALFORMED / ERR_TOKEN_UNSUPPORTED_VERSION', () => {
    const claim = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constant(undefined));
    const payloadArb = fc.record({
      iss: claim,
      aud: claim,
      sub: fc.oneof(
        claim,
        fc.constant('8:acs:1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b_0190a3c2-7b1e-7c3d-8e4f-5a6b7c8d9e0f'),
      ),
      jti: claim,
      iat: claim,
      nbf: claim,
      exp: claim,
      skypeid: claim,
      scp: claim,
      csi: claim,
      acsScope: fc.oneof(claim, fc.constantFrom('chat', 'chat,voip', 'voip.join', 'chat,')),
      resourceId: claim,
      resourceLocation: claim,
      rgn: claim,
      tsv: fc.oneof(claim, fc.constantFrom(1, 2, 3)),
      rev: claim,
      akv: fc.oneof(claim, fc.constantFrom('primary.1', 'secondary.99', 'tertiary.1')),
    });
    fc.assert(
      fc.property(payloadArb, (payload) => {
        const result = outcome(() => parseClaims(payload as Record<string, unknown>));
        if ('code' in result) expect(['ERR_TOKEN_MALFORMED', 'ERR_TOKEN_UNSUPPORTED_VERSION']).toContain(result.code);
        else expect([1, 2]).toContain((result.ok as { tsv: number }).tsv);
      }),
      propertyParameters(1000),
    );
  });
});
