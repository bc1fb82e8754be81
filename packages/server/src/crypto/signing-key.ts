import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { bytesToBase64Url } from '@tessera/core';

/** The algorithm Tessera signs user access tokens with (chosen by measurement: see docs/algorithm-choice.md). */
export const TOKEN_ALG = 'ES256';

/** A public EC JWK as published in JWKS. */
export interface PublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

/** A freshly generated signing key: PKCS#8 PEM private key plus its public JWK. */
export interface GeneratedSigningKey {
  readonly kid: string;
  readonly privateKeyPem: string;
  readonly publicJwk: PublicJwk;
}

/** The RFC 7638 thumbprint of an EC public key, used as its `kid`. */
export function jwkThumbprint(jwk: { crv: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y });
  return bytesToBase64Url(createHash('sha256').update(canonical).digest());
}

/** Generates a P-256 signing key. */
export function generateSigningKey(): GeneratedSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = jwk.x ?? '';
  const y = jwk.y ?? '';
  const kid = jwkThumbprint({ crv: 'P-256', x, y });
  return {
    kid,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicJwk: { kty: 'EC', crv: 'P-256', x, y, kid, alg: 'ES256', use: 'sig' },
  };
}

/** Imports a PEM private key once, for the hot path. */
export function importPrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** Imports a public JWK once, for introspection. */
export function importPublicJwk(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
}
