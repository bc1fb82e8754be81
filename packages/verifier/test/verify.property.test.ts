// Issue #16, property test (fast-check, seeded: TESSERA_TEST_SEED replays a failure, the seed is in its message): the
// verifier's JWT decoding and checks answer any token — random strings, JWT-shaped junk, real tokens with one
// character changed — with a TesseraError carrying an ERR_TOKEN_* code, never another exception and never success.
import { ERROR_CODES, TesseraError } from '@tessera/core';
import { createVerifier } from '@tessera/verifier';
import { nodeSignatureVerifier } from '@tessera/verifier/node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters } from '../../../test/support/property-seed.js';
import { ENDPOINT, FakeIdentityServer, mint, T0 } from './helpers/fake-identity-server.js';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verify (property)', () => {
  it.each([
    ['WebCrypto', {}],
    ['node:crypto', { signatureVerifier: nodeSignatureVerifier() }],
  ] as const)(
    'any token is refused with an ERR_TOKEN_* code (%s)',
    async (_n, extra) => {
      const server = new FakeIdentityServer();
      const verifier = createVerifier({
        endpoint: ENDPOINT,
        revocation: false,
        clock: () => T0,
        fetch: server.fetch,
        cache: false,
        ...extra,
      });
      await verifier.ready();
      const genuine = mint({ key: server.key });
      const kid = server.key.kid;
      const tokenArb = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc
          .tuple(
            fc.record(
              {
                alg: fc.oneof(fc.constant('ES256'), fc.jsonValue()),
                kid: fc.oneof(fc.constant(kid), fc.jsonValue()),
                crit: fc.jsonValue(),
              },
              { requiredKeys: [] },
            ),
            fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())),
            fc.stringMatching(/^[A-Za-z0-9_-]{0,90}$/),
          )
          .map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${s}`),
        // The genuine token with one character replaced: any change must fail (the untouched one is excluded).
        fc
          .tuple(fc.nat({ max: genuine.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
          .map(([at, c]) => `${genuine.slice(0, at)}${c}${genuine.slice(at + 1)}`)
          .filter((t) => t !== genuine),
      );
      try {
        await expect(verifier.verify(genuine)).resolves.toBeDefined();
        await fc.assert(
          fc.asyncProperty(tokenArb, async (token) => {
            const error = await verifier.verify(token).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(error, 'a forged token was accepted').toBeInstanceOf(TesseraError);
            const code = (error as TesseraError).code;
            expect(Object.keys(ERROR_CODES)).toContain(code);
            expect(code).toMatch(/^ERR_TOKEN_/);
          }),
          propertyParameters(500),
        );
      } finally {
        await verifier.close();
      }
    },
    120_000,
  );
});
