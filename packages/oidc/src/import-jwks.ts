import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** One public signing key of an issuer, imported once. */
export interface IssuerKey {
  readonly kid: string | undefined;
  /** The JWK's `alg`, when it pins one. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['n', 'e'],
  EC: ['crv', 'x', 'y'],
  OKP: ['crv', 'x'],
};

/** The public members only, so nothing else a JWK carries reaches the key import. */
function publicMembers(jwk: Record<string, unknown>): JsonWebKey | undefined {
  const kty = typeof jwk.kty === 'string' ? jwk.kty : '';
  const members = PUBLIC_MEMBERS[kty];
  if (members === undefined) return undefined;
  const pub: Record<string, string> = { kty };
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string') return undefined;
    pub[name] = value;
  }
  return pub;
}

/**
 * Imports the usable signature keys of a JWKS document. Skips encryption keys, unknown key types, malformed keys,
 * and keys that carry a private member: a provider that publishes its private key can no longer vouch for anyone.
 */
export function importJwks(document: Readonly<Record<string, unknown>>): IssuerKey[] {
  const keys = Array.isArray(document.keys) ? (document.keys as unknown[]) : [];
  const out: IssuerKey[] = [];
  for (const candidate of keys) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) continue;
    const jwk = candidate as Record<string, unknown>;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.d !== undefined) continue;
    const pub = publicMembers(jwk);
    if (pub === undefined) continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pub, format: 'jwk' });
    } catch {
      continue;
    }
    out.push({
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
      key,
    });
  }
  return out;
}
