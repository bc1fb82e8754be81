import { constants, type KeyObject, verify } from 'node:crypto';
import type { JwsAlgorithm } from './jws-algorithms.js';

/** What {@link verifyJwsSignature} checks. */
export interface JwsSignatureInput {
  readonly alg: JwsAlgorithm;
  /** A public key that fits `alg` (see `keyFitsAlgorithm`). */
  readonly key: KeyObject;
  /** `base64url(header).base64url(payload)`. */
  readonly signingInput: string;
  /** The raw signature (IEEE P1363 `r || s` for ECDSA, as JWS has it). */
  readonly signature: Uint8Array;
}

/** True when the signature verifies with node:crypto; false (never a throw) for anything unusable. */
export function verifyJwsSignature(input: JwsSignatureInput): boolean {
  const { alg, key, signature } = input;
  const data = Buffer.from(input.signingInput, 'ascii');
  try {
    if (alg === 'EdDSA') return verify(null, data, key, signature);
    const hash = `sha${alg.slice(2)}`;
    if (alg.startsWith('RS')) return verify(hash, data, key, signature);
    if (alg.startsWith('PS')) {
      // RFC 7518 §3.5: the salt is as long as the hash.
      return verify(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
