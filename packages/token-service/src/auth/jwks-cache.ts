import { type KeyObject, createPublicKey } from 'node:crypto';
import { TokenServiceError } from '../errors/token-service-error.js';

/** Options of {@link createJwksCache}. */
export interface JwksCacheOptions {
  /** The issuer, for discovery (`<issuer>/.well-known/openid-configuration`) and error messages. */
  readonly issuer: string;
  /** Skip discovery and read keys from here. */
  readonly jwksUri?: string | undefined;
  readonly fetch: typeof fetch;
  readonly clock: () => number;
  /** Keys are re-read after this long. Default 10 minutes. */
  readonly maxAgeMs?: number;
  /** An unknown `kid` triggers a re-read at most this often (a flood of made-up kids cannot hammer the IdP). Default 30 s. */
  readonly minRefetchMs?: number;
  /** Each HTTP call is aborted after this long. Default 5 s. */
  readonly timeoutMs?: number;
}

/** One usable public key of the issuer. */
export interface IssuerKey {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

/** The issuer's signing keys, fetched lazily and refreshed when a token names a key not seen yet. */
export interface JwksCache {
  /** Keys that may have signed a token with this `kid` (all keys when the token names none). */
  keysFor(kid: string | undefined): Promise<readonly IssuerKey[]>;
}

const MAX_DOCUMENT_BYTES = 512 * 1024;

function unavailable(issuer: string, what: string): TokenServiceError {
  return new TokenServiceError('ERR_ISSUER_UNAVAILABLE', `Could not read ${what} of the identity provider ${issuer}.`, {
    retryAfterSeconds: 5,
  });
}

async function getJson(url: string, options: JwksCacheOptions, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const response = await options.fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    if (!response.ok) throw new Error(String(response.status));
    text = await response.text();
  } catch {
    throw unavailable(options.issuer, what);
  }
  if (text.length > MAX_DOCUMENT_BYTES) throw unavailable(options.issuer, what);
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw unavailable(options.issuer, what);
}

function importKeys(document: Record<string, unknown>): IssuerKey[] {
  const keys = Array.isArray(document.keys) ? document.keys : [];
  const out: IssuerKey[] = [];
  for (const jwk of keys) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const j = jwk as Record<string, unknown>;
    if (j.use !== undefined && j.use !== 'sig') continue;
    if (j.d !== undefined) continue; // never accept a private key as a public one
    try {
      const key = createPublicKey({ key: j as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      out.push({
        kid: typeof j.kid === 'string' ? j.kid : undefined,
        alg: typeof j.alg === 'string' ? j.alg : undefined,
        key,
      });
    } catch {
      // unusable key types (e.g. encryption-only) are skipped
    }
  }
  return out;
}

/** Creates a {@link JwksCache} for one issuer. */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const maxAge = options.maxAgeMs ?? 600_000;
  const minRefetch = options.minRefetchMs ?? 30_000;
  let jwksUri = options.jwksUri;
  let keys: IssuerKey[] | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<IssuerKey[]> | undefined;

  const load = (): Promise<IssuerKey[]> => {
    inFlight ??= (async () => {
      try {
        if (jwksUri === undefined) {
          const base = options.issuer.endsWith('/') ? options.issuer : `${options.issuer}/`;
          const discovery = await getJson(
            new URL('.well-known/openid-configuration', base).href,
            options,
            'the discovery document',
          );
          if (discovery.issuer !== options.issuer || typeof discovery.jwks_uri !== 'string') {
            throw unavailable(options.issuer, 'a matching discovery document');
          }
          jwksUri = discovery.jwks_uri;
        }
        const loaded = importKeys(await getJson(jwksUri, options, 'the JWKS'));
        keys = loaded;
        fetchedAt = options.clock();
        return loaded;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const select = (all: readonly IssuerKey[], kid: string | undefined) =>
    kid === undefined ? all : all.filter((k) => k.kid === kid);

  return {
    async keysFor(kid) {
      const now = options.clock();
      let current = keys;
      if (current === undefined || now - fetchedAt > maxAge) {
        try {
          current = await load();
        } catch (error) {
          if (current === undefined) throw error; // stale keys beat no keys while the IdP is briefly down
        }
      }
      const found = select(current, kid);
      if (found.length > 0 || now - fetchedAt < minRefetch) return found;
      return select(await load(), kid);
    },
  };
}
