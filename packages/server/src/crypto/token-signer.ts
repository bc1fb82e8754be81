import { sign, verify, type KeyObject } from 'node:crypto';
import { assembleJwt, encodeJwtSegment, textToBase64Url, toLowS } from '@tessera/core';
import { TOKEN_ALG } from './signing-key.js';
import type { SigningWorker } from './signing-worker.js';

/** Signs a token payload into a compact JWT with the active key; the ES256 signature is always low-S (s ≤ n/2). */
export interface TokenSigner {
  readonly kid: string;
  /** `payloadJson` is the claims as JSON text: core's `encodeClaimsJson`, or `JSON.stringify` of `buildClaims`. */
  sign(payloadJson: string): Promise<string>;
}

/**
 * Creates a signer around an imported key. Without a worker, signing uses the callback form of `crypto.sign`,
 * which runs on libuv's thread pool: measured on these machines it doubles issue throughput over inline signing
 * (measured: docs/algorithm-choice.md, bench/README.md), because the event loop is the bottleneck. With a {@link SigningWorker} (the server's
 * default), signatures are handed to worker threads through shared memory, with no message per token.
 */
export function createTokenSigner(kid: string, key: KeyObject, worker?: SigningWorker): TokenSigner {
  // The header segment is the same for every token of this key: encoded once (a test holds the result to core's
  // encodeSigningInput).
  const headerSegment = encodeJwtSegment({ alg: TOKEN_ALG, typ: 'JWT', kid });
  return {
    kid,
    sign(payloadJson) {
      const input = `${headerSegment}.${textToBase64Url(payloadJson)}`;
      if (worker !== undefined) return worker.sign(kid, input).then((signature) => assembleJwt(input, signature));
      return new Promise((resolve, reject) => {
        sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, (error, signature) => {
          if (error) reject(error);
          else resolve(assembleJwt(input, toLowS(signature))); // contract version 2: low-S only
        });
      });
    },
  };
}

/** Verifies an ES256 signature (raw P1363) over a signing input. */
export function verifyTokenSignature(signingInput: string, signature: Uint8Array, key: KeyObject): boolean {
  return verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature);
}
