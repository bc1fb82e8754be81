import { constants, verify } from 'node:crypto';
import { base64ToBytes, fromUtf8, TesseraError, type TesseraErrorCode } from '@tessera/core';
import { createIssuerKeySet, type IssuerKey, type IssuerKeySet } from './oidc-jwks.js';
import type { JwsAlgorithm, TrustedIssuer } from './oidc-trusted-issuers.js';

/** A token from a trusted issuer whose signature, issuer, audience and times have been checked. */
export interface VerifiedExternalToken {
  readonly issuer: TrustedIssuer;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `exp`, Unix seconds. */
  readonly expiresAt: number;
}

/** Verifies JWTs from the configured trusted issuers (RS*, PS*, ES*, EdDSA with node:crypto). */
export interface ExternalTokenVerifier {
  /** Throws a 401 `ERR_TOKEN_*` error whose message never contains the token. */
  verify(token: string): Promise<VerifiedExternalToken>;
  /** Issuer configurations, in configuration order. */
  readonly issuers: readonly TrustedIssuer[];
}

/** Options of {@link createExternalTokenVerifier}. */
export interface ExternalTokenVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  readonly clock: () => number;
  readonly fetch?: typeof fetch | undefined;
  /** Least time between unknown-kid refreshes per issuer (default 10 s). */
  readonly refreshCooldownMs?: number | undefined;
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** Longest bearer token accepted (Entra tokens with many group claims run to several kilobytes). */
export const MAX_EXTERNAL_TOKEN_LENGTH = 16_384;

function fail(code: TesseraErrorCode, message: string): TesseraError {
  return new TesseraError(code, message);
}

function decodePart(part: string, name: string): Record<string, unknown> {
  const bytes = base64ToBytes(part);
  const text = bytes === undefined ? undefined : fromUtf8(bytes);
  let value: unknown;
  try {
    value = text === undefined ? undefined : JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail('ERR_TOKEN_MALFORMED', `The bearer token is malformed: its ${name} is not a base64url JSON object.`);
  }
  return value as Record<string, unknown>;
}

const HASH: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };
const EC_CURVE: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Whether a key may verify a given algorithm (kty, curve and a pinned `alg` must agree). */
function keyFits(key: IssuerKey, alg: JwsAlgorithm): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false;
  if (alg.startsWith('RS') || alg.startsWith('PS')) return key.kty === 'RSA';
  if (alg.startsWith('ES')) return key.kty === 'EC' && key.crv === EC_CURVE[alg];
  return key.kty === 'OKP' && (key.crv === 'Ed25519' || key.crv === 'Ed448');
}

/** Verifies a JWS signature with node:crypto. */
export function verifyJwsSignature(alg: JwsAlgorithm, key: IssuerKey, input: Buffer, signature: Uint8Array): boolean {
  try {
    if (alg === 'EdDSA') return verify(null, input, key.key, signature);
    const hash = HASH[alg.slice(2)] ?? 'sha256';
    if (alg.startsWith('RS')) return verify(hash, input, key.key, signature);
    if (alg.startsWith('PS')) {
      return verify(
        hash,
        input,
        { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    return verify(hash, input, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

function audienceMatches(aud: unknown, accepted: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return accepted.has(aud);
  return Array.isArray(aud) && aud.some((a) => typeof a === 'string' && accepted.has(a));
}

/** Creates the verifier; keys of each issuer are fetched on first use. */
export function createExternalTokenVerifier(options: ExternalTokenVerifierOptions): ExternalTokenVerifier {
  const byIssuer = new Map<string, { issuer: TrustedIssuer; keys: IssuerKeySet }>();
  for (const issuer of options.issuers) {
    byIssuer.set(issuer.issuer, {
      issuer,
      keys: createIssuerKeySet(issuer, {
        clock: options.clock,
        fetch: options.fetch,
        refreshCooldownMs: options.refreshCooldownMs,
        onError: options.onError,
      }),
    });
  }

  return {
    issuers: options.issuers,
    async verify(token) {
      if (token.length === 0 || token.length > MAX_EXTERNAL_TOKEN_LENGTH) {
        throw fail('ERR_TOKEN_MALFORMED', 'The bearer token is empty or too long.');
      }
      const parts = token.split('.');
      if (parts.length !== 3) {
        throw fail('ERR_TOKEN_MALFORMED', 'The bearer token is not a JWT (three dot-separated parts).');
      }
      const [h = '', p = '', s = ''] = parts;
      const header = decodePart(h, 'header');
      const claims = decodePart(p, 'payload');
      const signature = base64ToBytes(s);
      if (signature === undefined || signature.length === 0) {
        throw fail('ERR_TOKEN_MALFORMED', 'The bearer token is malformed: its signature is not base64url.');
      }
      if (header.crit !== undefined) {
        throw fail('ERR_TOKEN_MALFORMED', "The bearer token has a 'crit' header, which is not supported.");
      }
      const entry = typeof claims.iss === 'string' ? byIssuer.get(claims.iss) : undefined;
      if (entry === undefined) throw fail('ERR_TOKEN_WRONG_ISSUER', "The bearer token's issuer is not trusted.");
      const { issuer } = entry;
      const alg = header.alg;
      if (typeof alg !== 'string' || !issuer.algorithms.has(alg as JwsAlgorithm)) {
        throw fail('ERR_TOKEN_BAD_SIGNATURE', "The bearer token's algorithm is not accepted for its issuer.");
      }
      const kid = typeof header.kid === 'string' ? header.kid : undefined;
      const candidates = (await entry.keys.keysFor(kid)).filter((k) => keyFits(k, alg as JwsAlgorithm));
      if (candidates.length === 0) {
        throw fail('ERR_TOKEN_UNKNOWN_KEY', 'The bearer token was signed by a key its issuer does not publish.');
      }
      const input = Buffer.from(`${h}.${p}`);
      if (!candidates.some((key) => verifyJwsSignature(alg as JwsAlgorithm, key, input, signature))) {
        throw fail('ERR_TOKEN_BAD_SIGNATURE', "The bearer token's signature is invalid.");
      }
      if (!audienceMatches(claims.aud, issuer.audiences)) {
        throw fail('ERR_TOKEN_WRONG_AUDIENCE', "The bearer token's audience is not accepted by this server.");
      }
      const now = options.clock();
      const exp = claims.exp;
      if (typeof exp !== 'number' || !Number.isFinite(exp)) {
        throw fail('ERR_TOKEN_MALFORMED', "The bearer token has no numeric 'exp'.");
      }
      if (now >= exp * 1000 + issuer.clockToleranceMs) throw fail('ERR_TOKEN_EXPIRED', 'The bearer token has expired.');
      const nbf = claims.nbf;
      if (nbf !== undefined && (typeof nbf !== 'number' || now < nbf * 1000 - issuer.clockToleranceMs)) {
        throw fail('ERR_TOKEN_NOT_YET_VALID', 'The bearer token is not valid yet.');
      }
      return { issuer, claims, expiresAt: Math.floor(exp) };
    },
  };
}
