import { checkTokenTimes, decodeJwt, TesseraError } from '@tessera/core';
import { createJwksCache, type JwksCache, type JwksCacheOptions } from './create-jwks-cache.js';
import { isJwsAlgorithm, JWS_ALGORITHMS, type JwsAlgorithm } from './jws-algorithms.js';
import { keyFitsAlgorithm } from './key-fits-algorithm.js';
import { verifyJwsSignature } from './verify-jws-signature.js';

/** An identity provider whose tokens are accepted. */
export interface OidcIssuer {
  /** Exactly the `iss` its tokens carry, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`. */
  readonly issuer: string;
  /** Accepted `aud` values (an API's resource id for access tokens, the client id for ID tokens); one must match. */
  readonly audiences: readonly string[] | ReadonlySet<string>;
  /** Accepted algorithms; default all of {@link JWS_ALGORITHMS}. */
  readonly algorithms?: readonly JwsAlgorithm[] | ReadonlySet<JwsAlgorithm> | undefined;
  /** JWKS URL; when given, discovery is skipped. */
  readonly jwksUri?: string | undefined;
  /** Discovery document; default `<issuer>/.well-known/openid-configuration`. */
  readonly discoveryUrl?: string | undefined;
  /** Leeway for `exp`, `nbf` and `iat` with this issuer, seconds; default the verifier's. */
  readonly clockToleranceSeconds?: number | undefined;
}

/** Options of {@link createOidcVerifier}. */
export interface OidcVerifierOptions<I extends OidcIssuer = OidcIssuer>
  extends Pick<
    JwksCacheOptions,
    'clock' | 'fetch' | 'maxAgeMs' | 'refreshCooldownMs' | 'timeoutMs' | 'maxDocumentBytes' | 'onError'
  > {
  /** The trusted issuers; a token's `iss` is matched against them before anything is fetched. */
  readonly issuers: readonly I[];
  /** Leeway for `exp`, `nbf` and `iat`, seconds (default 60): clocks of identity providers drift. */
  readonly clockToleranceSeconds?: number | undefined;
  /** Longer tokens are refused unread (default {@link MAX_OIDC_TOKEN_LENGTH}). */
  readonly maxTokenLength?: number | undefined;
}

/** A token whose signature, issuer, audience, times and subject have been checked. */
export interface VerifiedOidcToken<I extends OidcIssuer = OidcIssuer> {
  /** The `iss` claim. */
  readonly issuer: string;
  /** The configured issuer it matched (carries whatever policy the caller attached to it). */
  readonly trustedIssuer: I;
  /** The `sub` claim. */
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
  /** `exp`, Unix seconds. */
  readonly expiresAt: number;
}

/** Verifies JWTs (OIDC ID tokens or JWT access tokens) of trusted issuers. */
export interface OidcVerifier<I extends OidcIssuer = OidcIssuer> {
  /** Throws a `TesseraError`: `ERR_TOKEN_*` (the token is not acceptable) or `ERR_ISSUER_UNAVAILABLE` (try later). */
  verify(token: string): Promise<VerifiedOidcToken<I>>;
  /** The trusted issuers, in the order given. */
  readonly issuers: readonly I[];
}

/** Longest token accepted by default (Entra tokens with many group claims run to several kilobytes). */
export const MAX_OIDC_TOKEN_LENGTH = 16_384;

const MAX_SUBJECT_LENGTH = 1024;

function fail(code: 'ERR_TOKEN_MALFORMED' | 'ERR_TOKEN_BAD_SIGNATURE', message: string) {
  return new TesseraError(code, message);
}

function invalidConfig(target: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', message, { target });
}

function optionalTime(claims: Readonly<Record<string, unknown>>, name: 'nbf' | 'iat'): number {
  const value = claims[name];
  if (value === undefined) return Number.NEGATIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw fail('ERR_TOKEN_MALFORMED', `The token's '${name}' is not a number.`);
  return value;
}

interface Entry<I> {
  readonly trusted: I;
  readonly audiences: ReadonlySet<string>;
  readonly algorithms: ReadonlySet<JwsAlgorithm>;
  readonly leewaySeconds: number;
  readonly keys: JwksCache;
}

/**
 * Creates a verifier for the tokens of any OpenID Connect provider: the signature with the issuer's JWKS
 * (node:crypto; RSA, RSA-PSS, ECDSA, EdDSA; never `none` or HMAC; a key only for its own algorithm), the exact
 * `iss`, `aud`, `exp`, `nbf` and `iat` with leeway, and a `sub`. Throws `ERR_CONFIG_INVALID` for unusable issuers.
 */
export function createOidcVerifier<I extends OidcIssuer>(options: OidcVerifierOptions<I>): OidcVerifier<I> {
  const clock = options.clock ?? Date.now;
  const defaultLeeway = options.clockToleranceSeconds ?? 60;
  const maxTokenLength = options.maxTokenLength ?? MAX_OIDC_TOKEN_LENGTH;
  const byIssuer = new Map<string, Entry<I>>();
  for (const trusted of options.issuers) {
    if (byIssuer.has(trusted.issuer)) throw invalidConfig('issuers', `The issuer '${trusted.issuer}' is listed twice.`);
    const audiences = new Set(trusted.audiences);
    if (audiences.size === 0 || [...audiences].some((a) => typeof a !== 'string' || a === '')) {
      throw invalidConfig('audiences', `The issuer '${trusted.issuer}' needs at least one non-empty audience.`);
    }
    const algorithms = new Set(trusted.algorithms ?? JWS_ALGORITHMS);
    if (algorithms.size === 0 || ![...algorithms].every(isJwsAlgorithm)) {
      throw invalidConfig(
        'algorithms',
        `The algorithms of '${trusted.issuer}' must be among ${JWS_ALGORITHMS.join(', ')}.`,
      );
    }
    const leewaySeconds = trusted.clockToleranceSeconds ?? defaultLeeway;
    if (!Number.isFinite(leewaySeconds) || leewaySeconds < 0) {
      throw invalidConfig('clockToleranceSeconds', 'The clock tolerance must be a number of seconds ≥ 0.');
    }
    const keys = createJwksCache({
      issuer: trusted.issuer,
      jwksUri: trusted.jwksUri,
      discoveryUrl: trusted.discoveryUrl,
      clock,
      fetch: options.fetch,
      maxAgeMs: options.maxAgeMs,
      refreshCooldownMs: options.refreshCooldownMs,
      timeoutMs: options.timeoutMs,
      maxDocumentBytes: options.maxDocumentBytes,
      onError: options.onError,
    });
    byIssuer.set(trusted.issuer, { trusted, audiences, algorithms, leewaySeconds, keys });
  }

  return {
    issuers: options.issuers,
    async verify(token) {
      if (token.length === 0 || token.length > maxTokenLength) {
        throw fail('ERR_TOKEN_MALFORMED', 'The token is empty or too long.');
      }
      // decodeJwt refuses any `crit` header (RFC 7515 §4.1.11: this verifier understands no extension).
      const { header, payload: claims, signingInput, signature } = decodeJwt(token, { maxLength: maxTokenLength });
      // The issuer is matched before anything is fetched, so a token cannot make the service call out.
      const entry = typeof claims.iss === 'string' ? byIssuer.get(claims.iss) : undefined;
      if (entry === undefined) throw new TesseraError('ERR_TOKEN_WRONG_ISSUER');
      const alg = header.alg;
      if (!isJwsAlgorithm(alg) || !entry.algorithms.has(alg)) {
        throw fail('ERR_TOKEN_BAD_SIGNATURE', `The token's algorithm is not accepted for its issuer.`);
      }
      const candidates = (await entry.keys.keysFor(header.kid)).filter(
        (k) => (k.alg === undefined || k.alg === alg) && keyFitsAlgorithm(k.key, alg),
      );
      if (candidates.length === 0) {
        throw new TesseraError('ERR_TOKEN_UNKNOWN_KEY', 'The token was signed by a key its issuer does not publish.');
      }
      if (!candidates.some(({ key }) => verifyJwsSignature({ alg, key, signingInput, signature }))) {
        throw fail('ERR_TOKEN_BAD_SIGNATURE', "The token's signature does not verify.");
      }
      const aud = claims.aud;
      const tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!tokenAudiences.some((a) => typeof a === 'string' && entry.audiences.has(a))) {
        throw new TesseraError('ERR_TOKEN_WRONG_AUDIENCE');
      }
      const exp = claims.exp;
      if (typeof exp !== 'number' || !Number.isFinite(exp))
        throw fail('ERR_TOKEN_MALFORMED', "The token has no numeric 'exp'.");
      // A token issued in the future is as unusable as one not valid yet.
      const nbf = Math.max(optionalTime(claims, 'nbf'), optionalTime(claims, 'iat'));
      checkTokenTimes({ exp, nbf }, { nowMs: clock(), leewaySeconds: entry.leewaySeconds });
      const sub = claims.sub;
      if (typeof sub !== 'string' || sub === '' || sub.length > MAX_SUBJECT_LENGTH) {
        throw fail('ERR_TOKEN_MALFORMED', "The token has no usable 'sub'.");
      }
      return {
        issuer: entry.trusted.issuer,
        trustedIssuer: entry.trusted,
        subject: sub,
        claims,
        expiresAt: Math.floor(exp),
      };
    },
  };
}
