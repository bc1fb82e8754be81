import type { KeyObject } from 'node:crypto';
import type { JwsAlgorithm } from './jws-algorithms.js';

const EC_CURVES: Readonly<Record<string, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/**
 * True when `key` belongs to the family of `alg` (RSA ≥ 2048 bits for RS/PS, the matching curve for ES,
 * Ed25519/Ed448 for EdDSA): a key is only ever used with its own algorithm, so there is no algorithm confusion.
 */
export function keyFitsAlgorithm(key: KeyObject, alg: JwsAlgorithm): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    return (
      (type === 'rsa' || (type === 'rsa-pss' && alg.startsWith('PS'))) &&
      (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
    );
  }
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
  return type === 'ed25519' || type === 'ed448';
}
