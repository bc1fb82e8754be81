import { base64ToBytes, fromUtf8 } from '@tessera/core';
import { TokenServiceError } from '../errors/token-service-error.js';
import { type JwksCache, createJwksCache } from './jwks-cache.js';
import {
  JWS_ALGORITHMS,
  type JwsAlgorithm,
  isJwsAlgorithm,
  keyFitsAlgorithm,
  verifyJwsSignature,
} from './jws-algorithms.js';

/** An identity provider whose tokens the token service accepts. */
export interface TrustedIssuer {
  /** Exactly the `iss` its tokens carry (e.g. `https://login.example.com/realms/app`). */
  readonly issuer: string;
  /** Accepted `aud` values: your API's resource id for access tokens, or the client id for ID tokens. */
  readonly audience: string | readonly string[];
  /** JWKS location; default: from `<issuer>/.well-known/openid-configuration`. */
  readonly jwksUri?: string;
  /** Accepted algorithms. Default: RS256, RS384, RS512, PS256…, ES256, ES384, ES512, EdDSA. */
  readonly algorithms?: readonly JwsAlgorithm[];
}

/** The verified content of an app token. */
export interface VerifiedAppToken {
  readonly issuer: string;
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Options of {@link createOidcVerifier}. */
export interface OidcVerifierOptions {
  readonly issuers: readonly TrustedIssuer[];
  /** Allowed clock difference with the IdP for `exp`/`nbf`/`iat`, seconds. Default 60. */
  readonly clockToleranceSeconds?: number;
  readonly clock?: () => number;
  readonly fetch?: typeof fetch;
}

/** Verifies app tokens (OIDC ID tokens or JWT access tokens) of the trusted issuers. */
export interface OidcVerifier {
  verify(token: string): Promise<VerifiedAppToken>;
}

/** Longest app token accepted. */
export const MAX_APP_TOKEN_LENGTH = 16_384;

function malformed(what: string): TokenServiceError {
  return new TokenServiceError('ERR_TOKEN_MALFORMED', `The app token is malformed: ${what}.`);
}

function decodePart(part: string, name: string): Record<string, unknown> {
  const bytes = base64ToBytes(part);
  const text = bytes === undefined ? undefined : fromUtf8(bytes);
  if (text === undefined) throw malformed(`${name} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`${name} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${name} is not an object`);
  return value as Record<string, unknown>;
}

/**
 * Creates a verifier for app tokens from any OIDC provider: signature with the issuer's JWKS (node:crypto; RSA,
 * RSA-PSS, ECDSA, EdDSA; never `none` or HMAC), exact `iss`, `aud`, `exp`, `nbf`, `iat` and a `sub`. The issuer
 * is matched against the trusted list before anything is fetched, so a token cannot make the service call out.
 */
export function createOidcVerifier(options: OidcVerifierOptions): OidcVerifier {
  const clock = options.clock ?? Date.now;
  const tolerance = (options.clockToleranceSeconds ?? 60) * 1000;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const byIssuer = new Map<string, { trusted: TrustedIssuer; jwks: JwksCache }>();
  for (const trusted of options.issuers) {
    byIssuer.set(trusted.issuer, {
      trusted,
      jwks: createJwksCache({ issuer: trusted.issuer, jwksUri: trusted.jwksUri, fetch: fetchImpl, clock }),
    });
  }

  return {
    async verify(token) {
      if (token.length > MAX_APP_TOKEN_LENGTH) throw malformed('too long');
      const parts = token.split('.');
      if (parts.length !== 3) throw malformed('expected a signed JWT (three dot-separated parts)');
      const [h = '', p = '', s = ''] = parts;
      const header = decodePart(h, 'header');
      const payload = decodePart(p, 'payload');
      const signature = base64ToBytes(s);
      if (signature === undefined || signature.length === 0) throw malformed('the signature is not base64url');
      if (header.crit !== undefined) throw malformed("the 'crit' header is not supported");

      const iss = payload.iss;
      const entry = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
      if (entry === undefined) {
        throw new TokenServiceError(
          'ERR_TOKEN_WRONG_ISSUER',
          'The app token was issued by an identity provider this service does not trust.',
        );
      }
      const allowed = entry.trusted.algorithms ?? JWS_ALGORITHMS;
      const alg = header.alg;
      if (!isJwsAlgorithm(alg) || !allowed.includes(alg)) {
        throw new TokenServiceError(
          'ERR_TOKEN_BAD_SIGNATURE',
          `The app token's algorithm is not accepted (allowed: ${allowed.join(', ')}).`,
        );
      }
      const kid = typeof header.kid === 'string' ? header.kid : undefined;
      const candidates = (await entry.jwks.keysFor(kid)).filter(
        (k) => (k.alg === undefined || k.alg === alg) && keyFitsAlgorithm(k.key, alg),
      );
      if (candidates.length === 0) {
        throw new TokenServiceError(
          'ERR_TOKEN_UNKNOWN_KEY',
          "The app token was signed by a key that is not in its issuer's JWKS.",
        );
      }
      if (!candidates.some((k) => verifyJwsSignature(alg, k.key, `${h}.${p}`, signature))) {
        throw new TokenServiceError('ERR_TOKEN_BAD_SIGNATURE', "The app token's signature does not verify.");
      }

      const audiences = typeof entry.trusted.audience === 'string' ? [entry.trusted.audience] : entry.trusted.audience;
      const aud = payload.aud;
      const tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
      if (!tokenAudiences.some((a) => typeof a === 'string' && audiences.includes(a))) {
        throw new TokenServiceError('ERR_TOKEN_WRONG_AUDIENCE', 'The app token is meant for another audience.');
      }
      const now = clock();
      if (typeof payload.exp !== 'number') throw malformed("it has no 'exp'");
      if (payload.exp * 1000 + tolerance <= now)
        throw new TokenServiceError('ERR_TOKEN_EXPIRED', 'The app token has expired.');
      if (typeof payload.nbf === 'number' && payload.nbf * 1000 - tolerance > now) {
        throw new TokenServiceError('ERR_TOKEN_NOT_YET_VALID', 'The app token is not valid yet (nbf).');
      }
      if (typeof payload.iat === 'number' && payload.iat * 1000 - tolerance > now) {
        throw new TokenServiceError('ERR_TOKEN_NOT_YET_VALID', 'The app token was issued in the future (iat).');
      }
      const sub = payload.sub;
      if (typeof sub !== 'string' || sub === '' || sub.length > 1024) throw malformed("it has no usable 'sub'");
      return { issuer: entry.trusted.issuer, subject: sub, claims: payload };
    },
  };
}
