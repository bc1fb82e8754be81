import { createPublicKey, verify } from 'node:crypto';
import { base64UrlDecodedLength, isBase64UrlCandidate } from '@tessera/core';
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
          return verify('sha256', signingInputBytes(signingInput), options, signature);
        },
        verifyJws(signingInput: string, signatureSegment: string): boolean {
          const signature = signatureBytes(signatureSegment);
          return signature !== undefined && verify('sha256', signingInputBytes(signingInput), options, signature);
        },
      };
    },
  };
}

// `verify` is synchronous, so one scratch buffer serves every call: no allocation per token, which on a busy
// thread also keeps the young generation from sweeping OpenSSL's tables out of the CPU caches (bench/verify.mjs).
// Sized so that any input up to SCRATCH_CHARS fits as UTF-8 (≤ 3 bytes per UTF-16 unit): then the bytes written
// equal the length exactly when the input is ASCII. The signature is decoded after that room.
const SCRATCH_CHARS = 8192;
const SIGNATURE_AT = 3 * SCRATCH_CHARS;
const scratch = Buffer.allocUnsafeSlow(SIGNATURE_AT + 64);
const signatureView = scratch.subarray(SIGNATURE_AT, SIGNATURE_AT + 64);

/**
 * An ES256 signature segment (86 base64url characters) decoded into the scratch buffer, or undefined. Strict, with
 * core's checks around Buffer's forgiving decoder (see isBase64UrlCandidate).
 */
function signatureBytes(segment: string): Buffer | undefined {
  if (segment.length !== 86 || !isBase64UrlCandidate(segment)) return undefined;
  const written = scratch.write(segment, SIGNATURE_AT, 'base64url');
  return written === base64UrlDecodedLength(segment) ? signatureView : undefined;
}

/** The signing input's bytes. It is ASCII (base64url and '.'); anything else cannot verify and is passed as UTF-8. */
function signingInputBytes(signingInput: string): Buffer {
  if (signingInput.length > SCRATCH_CHARS) return Buffer.from(signingInput, 'utf8');
  const written = scratch.write(signingInput, 0, 'utf8');
  return written === signingInput.length ? scratch.subarray(0, written) : Buffer.from(signingInput, 'utf8');
}

/** `createVerifier` with the node:crypto fast path (override with `options.signatureVerifier`). */
export function createNodeVerifier(options: VerifierOptions): Verifier {
  return createVerifier({ signatureVerifier: nodeSignatureVerifier(), ...options });
}

export { nodeSignatureVerifier as default };
