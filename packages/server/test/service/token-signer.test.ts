import { generateKeyPairSync } from 'node:crypto';
import {
  buildClaims,
  decodeJwt,
  encodeClaimsJson,
  encodeSigningInput,
  formatRawId,
  isHighS,
  parseClaims,
} from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createTokenSigner, verifyTokenSignature } from '../../src/crypto/token-signer.js';

// The signer encodes its header once and signs the payload JSON the issue path writes (core's encodeClaimsJson); the
// token contract is core's encodeSigningInput over buildClaims. They must produce the same bytes, including for
// non-ASCII claims.
describe('token signer (issue hot path)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rawId = formatRawId('6c3f5a8e-1b2d-4c3e-9f70-0a1b2c3d4e5f', '0190a3c2-7b1e-7c3d-8e4f-5a6b7c8d9e0f');
  for (const issuer of ['urn:tessera:test', 'https://tëssera.example/ドメイン 🎉']) {
    it(`signs exactly core's signing input, verifiably (issuer ${JSON.stringify(issuer)})`, async () => {
      const options = {
        issuer,
        audience: 'urn:tessera:user-access',
        rawId,
        scopes: ['chat', 'voip'],
        nowMs: 1_795_000_000_000,
        lifetimeMinutes: 60,
        tokenId: 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9',
        resourceLocation: 'unitedstates',
        region: 'amer',
        revocationEpoch: 2,
        accessKey: { name: 'primary', version: 3 },
      } as const;
      const claims = buildClaims({ ...options, scopes: [...options.scopes] });
      const signer = createTokenSigner('kid-1', privateKey);
      const token = await signer.sign(encodeClaimsJson({ ...options, scopes: [...options.scopes] }).json);
      const decoded = decodeJwt(token);
      expect(decoded.signingInput).toBe(encodeSigningInput({ alg: 'ES256', typ: 'JWT', kid: 'kid-1' }, claims));
      expect(decoded.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'kid-1' });
      expect(parseClaims(decoded.payload)).toEqual(claims);
      expect(verifyTokenSignature(decoded.signingInput, decoded.signature, publicKey)).toBe(true);
    });
  }

  // Issue #16: node:crypto signs high-S about half the time; without normalisation some of 64 would be high.
  it('emits low-S signatures only (token contract version 2), each verifying', async () => {
    const signer = createTokenSigner('kid-1', privateKey);
    for (let i = 0; i < 64; i++) {
      const decoded = decodeJwt(await signer.sign(JSON.stringify({ n: i })));
      expect(isHighS(decoded.signature)).toBe(false);
      expect(verifyTokenSignature(decoded.signingInput, decoded.signature, publicKey)).toBe(true);
    }
  });
});
