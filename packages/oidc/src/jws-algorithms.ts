/** JWS algorithms a trusted issuer's tokens may use: asymmetric only, so `none` and `HS*` are never accepted. */
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

/** True when `value` is one of {@link JWS_ALGORITHMS}. */
export function isJwsAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && (JWS_ALGORITHMS as readonly string[]).includes(value);
}
