import { createPublicKey, verify } from 'node:crypto';
import { type Verifier, type VerifierOptions, createVerifier } from './create-verifier.js';
import type { EcPublicJwk, SignatureVerifier, VerificationKey } from './signature/signature-verifier.js';

/**
 * Node-only signature check with node:crypto's synchronous `verify` (no threadpool hop per token, unlike
 * WebCrypto). Import from `@tessera/verifier/node`; the main entry stays runtime-neutral.
 */
export function nodeSignatureVerifier(): SignatureVerifier {
  return {
    async importKey(jwk: EcPublicJwk): Promise<VerificationKey> {
      const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
      const options = { key, dsaEncoding: 'ieee-p1363' } as const;
      return {
        verify(signature: Uint8Array, signingInput: string): boolean {
          return verify('sha256', Buffer.from(signingInput, 'latin1'), options, signature);
        },
      };
    },
  };
}

/** `createVerifier` with the node:crypto fast path (override with `options.signatureVerifier`). */
export function createNodeVerifier(options: VerifierOptions): Verifier {
  return createVerifier({ signatureVerifier: nodeSignatureVerifier(), ...options });
}

export { nodeSignatureVerifier as default };
