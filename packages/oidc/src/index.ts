export { JWS_ALGORITHMS, isJwsAlgorithm, type JwsAlgorithm } from './jws-algorithms.js';
export { isAllowedIssuerUrl } from './is-allowed-issuer-url.js';
export { createJwksCache, type JwksCache, type JwksCacheOptions } from './create-jwks-cache.js';
export type { IssuerKey } from './import-jwks.js';
export {
  createOidcVerifier,
  MAX_OIDC_TOKEN_LENGTH,
  type OidcIssuer,
  type OidcVerifier,
  type OidcVerifierOptions,
  type VerifiedOidcToken,
} from './create-oidc-verifier.js';
