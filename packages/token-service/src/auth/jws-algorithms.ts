import { constants, type KeyObject, verify } from 'node:crypto';

/** JWS algorithms accepted for app tokens. `none` and the HMAC family are never accepted. */
export const JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** One accepted JWS algorithm. */
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

/** True when `value` is an accepted {@link JwsAlgorithm}. */
export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && (JWS_ALGORITHMS as readonly string[]).includes(value);
}

const CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/**
 * True when `key` is the right type for `alg` (RSA ≥ 2048 bits for RS/PS, the matching curve for ES, Ed25519/Ed448
 * for EdDSA): a key is only ever used with the algorithm family it belongs to, so no algorithm confusion.
 */
export function keyFitsAlgorithm(key: KeyObject, alg: JwsAlgorithm): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    return (
      (type === 'rsa' || (type === 'rsa-pss' && alg.startsWith('PS'))) &&
      (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
    );
  }
  if (alg.startsWith('ES')) return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === CURVES[alg];
  return type === 'ed25519' || type === 'ed448';
}

/** Verifies a JWS signature over `signingInput` with node:crypto. */
export function verifyJwsSignature(
  alg: JwsAlgorithm,
  key: KeyObject,
  signingInput: string,
  signature: Uint8Array,
): boolean {
  const data = Buffer.from(signingInput, 'ascii');
  const bits = alg === 'EdDSA' ? 0 : Number(alg.slice(2));
  const hash = `sha${bits}`;
  try {
    if (alg === 'EdDSA') return verify(null, data, key, signature);
    if (alg.startsWith('RS')) return verify(hash, data, key, signature);
    if (alg.startsWith('PS')) {
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: bits / 8 }, signature);
    }
    return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}
