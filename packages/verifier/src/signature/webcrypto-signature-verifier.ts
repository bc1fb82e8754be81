import type { EcPublicJwk, SignatureVerifier, VerificationKey } from './signature-verifier.js';

const ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const encoder = new TextEncoder();

/**
 * The runtime-neutral signature check: `crypto.subtle.verify` over a JWK-imported P-256 key. Works on Node 20+,
 * Deno, Bun, browsers and edge workers.
 */
export function webCryptoSignatureVerifier(subtle: SubtleCrypto = globalThis.crypto.subtle): SignatureVerifier {
  return {
    async importKey(jwk: EcPublicJwk): Promise<VerificationKey> {
      const key = await subtle.importKey(
        'jwk',
        { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, ext: true },
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      );
      return {
        verify(signature: Uint8Array, signingInput: string): Promise<boolean> {
          return subtle.verify(ALGORITHM, key, signature as Uint8Array<ArrayBuffer>, encoder.encode(signingInput));
        },
      };
    },
  };
}
