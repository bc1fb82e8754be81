import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { TesseraError } from '@tessera/core';
import type { TrustedIssuer } from './oidc-trusted-issuers.js';

/** A public key of an issuer, imported once. */
export interface IssuerKey {
  readonly kid: string | undefined;
  /** `RSA`, `EC` or `OKP`. */
  readonly kty: string;
  /** EC / OKP curve. */
  readonly crv: string | undefined;
  /** The JWK's `alg`, when it pins one. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

/** The signing keys of one trusted issuer, fetched lazily and refreshed when a token names an unknown `kid`. */
export interface IssuerKeySet {
  /** Keys that may have signed a token with this `kid` (all keys when the token has none). */
  keysFor(kid: string | undefined): Promise<readonly IssuerKey[]>;
}

/** Options of {@link createIssuerKeySet}. */
export interface IssuerKeySetOptions {
  readonly clock: () => number;
  /** Least time between two fetches caused by unknown kids, so random kids cannot hammer the provider. */
  readonly refreshCooldownMs?: number | undefined;
  /** Keys are re-fetched in the background of the next use after this long (default 1 h). */
  readonly maxAgeMs?: number | undefined;
  /** Per-request timeout (default 5 s). */
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** Reports fetch failures (never with a token). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

const MAX_DOCUMENT_BYTES = 1024 * 1024;

function unavailable(issuer: string): TesseraError {
  // 401 with a token code: the caller cannot be authenticated right now. The message says why without secrets.
  return new TesseraError(
    'ERR_TOKEN_UNKNOWN_KEY',
    `The signing keys of the trusted issuer '${issuer}' could not be fetched; try again later.`,
  );
}

async function getJson(fetchFn: typeof fetch, url: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const response = await fetchFn(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`GET ${url} answered a document that is too large`);
  const json: unknown = JSON.parse(text);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`GET ${url}: not an object`);
  return json as Record<string, unknown>;
}

/** Imports the usable signature keys of a JWKS document; skips encryption keys, short RSA keys and the unknown. */
export function importJwks(document: Record<string, unknown>): IssuerKey[] {
  const keys = Array.isArray(document.keys) ? document.keys : [];
  const out: IssuerKey[] = [];
  for (const candidate of keys) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const jwk = candidate as Record<string, unknown>;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (typeof jwk.kty !== 'string' || !['RSA', 'EC', 'OKP'].includes(jwk.kty)) continue;
    // Public members only: a JWKS that (wrongly) carries `d` must not turn into a private key here.
    const pub: JsonWebKey =
      jwk.kty === 'RSA'
        ? { kty: 'RSA', n: String(jwk.n), e: String(jwk.e) }
        : jwk.kty === 'EC'
          ? { kty: 'EC', crv: String(jwk.crv), x: String(jwk.x), y: String(jwk.y) }
          : { kty: 'OKP', crv: String(jwk.crv), x: String(jwk.x) };
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pub, format: 'jwk' });
    } catch {
      continue;
    }
    if (jwk.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) continue;
    out.push({
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      kty: jwk.kty,
      crv: typeof jwk.crv === 'string' ? jwk.crv : undefined,
      alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
      key,
    });
  }
  return out;
}

/** Creates the key set of one issuer (discovery → `jwks_uri` → keys), caching keys and the discovered URL. */
export function createIssuerKeySet(issuer: TrustedIssuer, options: IssuerKeySetOptions): IssuerKeySet {
  const fetchFn = options.fetch ?? fetch;
  const cooldownMs = options.refreshCooldownMs ?? 10_000;
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const timeoutMs = options.timeoutMs ?? 5000;
  let jwksUri = issuer.jwksUri;
  let keys: IssuerKey[] | undefined;
  let fetchedAt = 0;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    lastAttempt = options.clock();
    if (jwksUri === undefined) {
      const discoveryUrl = issuer.discoveryUrl ?? `${issuer.issuer}/.well-known/openid-configuration`;
      const discovery = await getJson(fetchFn, discoveryUrl, timeoutMs);
      // OpenID Connect Discovery §4.3: the document's issuer must be exactly the one configured.
      if (discovery.issuer !== issuer.issuer) {
        throw new Error(`the discovery document of '${issuer.issuer}' names another issuer`);
      }
      if (typeof discovery.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
      jwksUri = discovery.jwks_uri;
    }
    try {
      keys = importJwks(await getJson(fetchFn, jwksUri, timeoutMs));
    } catch (error) {
      // The provider may have moved its JWKS: discover again next time.
      jwksUri = issuer.jwksUri;
      throw error;
    }
    fetchedAt = options.clock();
  };

  const refresh = (): Promise<void> => {
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  };

  const pick = (kid: string | undefined): IssuerKey[] =>
    (keys ?? []).filter((k) => kid === undefined || k.kid === undefined || k.kid === kid);

  return {
    async keysFor(kid) {
      if (keys === undefined) {
        try {
          await refresh();
        } catch (error) {
          options.onError?.(error);
          throw unavailable(issuer.issuer);
        }
      } else if (options.clock() - fetchedAt > maxAgeMs) {
        void refresh().catch((error: unknown) => options.onError?.(error));
      }
      let found = pick(kid);
      if (found.length === 0 && kid !== undefined && options.clock() - lastAttempt >= cooldownMs) {
        // A kid we have not seen: the provider may have rolled its keys over.
        try {
          await refresh();
        } catch (error) {
          options.onError?.(error);
        }
        found = pick(kid);
      }
      return found;
    },
  };
}
