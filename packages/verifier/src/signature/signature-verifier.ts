/** A P-256 public key as published in the identity server's JWKS. */
export interface EcPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
}

/** A public key ready to check ES256 signatures. */
export interface VerificationKey {
  /**
   * True when `signature` (raw IEEE P1363 r||s, 64 bytes) signs the ASCII `signingInput`. May answer synchronously
   * (node:crypto) or asynchronously (WebCrypto).
   */
  verify(signature: Uint8Array, signingInput: string): boolean | Promise<boolean>;
  /**
   * Optional, for speed: the same check on the signature still base64url-encoded (the token's third segment), so an
   * implementation can decode it where it checks it, without allocating. False when the segment does not decode
   * strictly to 64 bytes.
   */
  verifyJws?(signingInput: string, signatureSegment: string): boolean | Promise<boolean>;
}

/**
 * How the verifier checks signatures. The default uses WebCrypto and runs anywhere; `@tessera/verifier/node`
 * offers a synchronous node:crypto one that is faster on Node.
 */
export interface SignatureVerifier {
  importKey(jwk: EcPublicJwk): Promise<VerificationKey>;
}
