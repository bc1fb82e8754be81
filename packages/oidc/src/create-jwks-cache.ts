import { TesseraError } from '@tessera/core';
import { fetchJsonDocument } from './fetch-json-document.js';
import { importJwks, type IssuerKey } from './import-jwks.js';
import { isAllowedIssuerUrl } from './is-allowed-issuer-url.js';

/** Options of {@link createJwksCache}. */
export interface JwksCacheOptions {
  /** The issuer: discovery must name exactly this one, and errors name it. */
  readonly issuer: string;
  /** Read keys from here and skip discovery (e.g. Kubernetes `…/openid/v1/jwks`). */
  readonly jwksUri?: string | undefined;
  /** Where `jwks_uri` is discovered; default `<issuer>/.well-known/openid-configuration`. */
  readonly discoveryUrl?: string | undefined;
  /** Unix milliseconds; default `Date.now`. */
  readonly clock?: (() => number) | undefined;
  /** Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch | undefined;
  /** Keys older than this are re-read in the background of the next use (default 10 minutes). */
  readonly maxAgeMs?: number | undefined;
  /**
   * Least time between two fetches caused by an unknown `kid` or a failed read (default 10 s), so made-up kids or
   * an identity provider that is down cannot make every request call out.
   */
  readonly refreshCooldownMs?: number | undefined;
  /** Each HTTP request is aborted after this long (default 5 s). */
  readonly timeoutMs?: number | undefined;
  /** Larger discovery or JWKS documents are refused (default 512 KiB). */
  readonly maxDocumentBytes?: number | undefined;
  /** Reports why a read failed (never with a token). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** The signing keys of one issuer, read lazily and re-read when a token names a key not seen yet. */
export interface JwksCache {
  /**
   * Keys that may have signed a token with this `kid` (every key when the token names none); empty when the
   * issuer does not publish it. Throws `ERR_ISSUER_UNAVAILABLE` (with `details.retryAfterSeconds`) when the keys
   * cannot be read and none are cached.
   */
  keysFor(kid: string | undefined): Promise<readonly IssuerKey[]>;
}

/** Default {@link JwksCacheOptions.maxAgeMs}. */
const DEFAULT_MAX_AGE_MS = 600_000;
const DEFAULT_COOLDOWN_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_DOCUMENT_BYTES = 512 * 1024;

function checkUrl(name: string, value: string | undefined): void {
  if (value !== undefined && !isAllowedIssuerUrl(value)) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      `The ${name} of a trusted issuer must be an https:// URL (http:// only on localhost / 127.0.0.1 / [::1]).`,
      { target: name },
    );
  }
}

/**
 * Creates the key cache of one issuer: discovery (whose `issuer` must equal the configured one, OpenID Connect
 * Discovery §4.3) → `jwks_uri` → keys, cached, with concurrent reads shared. Throws `ERR_CONFIG_INVALID` when a
 * URL it would fetch is not https (or http on loopback).
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const clock = options.clock ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const cooldownMs = options.refreshCooldownMs ?? DEFAULT_COOLDOWN_MS;
  const fetchOptions = {
    fetch: fetchFn,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxBytes: options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
  };
  const discoveryUrl = options.discoveryUrl ?? `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  checkUrl('jwksUri', options.jwksUri);
  if (options.jwksUri === undefined) checkUrl('discoveryUrl', discoveryUrl);

  let jwksUri = options.jwksUri;
  let keys: IssuerKey[] | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    lastAttempt = clock();
    if (jwksUri === undefined) {
      const discovery = await fetchJsonDocument(discoveryUrl, fetchOptions);
      if (discovery.issuer !== options.issuer) {
        throw new Error(`the discovery document of '${options.issuer}' names another issuer`);
      }
      if (typeof discovery.jwks_uri !== 'string') throw new Error('the discovery document has no jwks_uri');
      jwksUri = discovery.jwks_uri;
    }
    try {
      keys = importJwks(await fetchJsonDocument(jwksUri, fetchOptions));
    } catch (error) {
      // The provider may have moved its JWKS: discover again next time.
      jwksUri = options.jwksUri;
      throw error;
    }
    fetchedAt = clock();
  };

  const refresh = (): Promise<void> => {
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const coolingDown = (): boolean => clock() - lastAttempt < cooldownMs;

  const unavailable = (cause: unknown): TesseraError => {
    const waitMs = lastAttempt + cooldownMs - clock();
    return new TesseraError(
      'ERR_ISSUER_UNAVAILABLE',
      `The signing keys of the trusted issuer '${options.issuer}' could not be fetched; try again later.`,
      { details: { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }, cause },
    );
  };

  const refreshOrFail = async (): Promise<void> => {
    try {
      await refresh();
    } catch (error) {
      options.onError?.(error);
      throw unavailable(error);
    }
  };

  const pick = (kid: string | undefined): IssuerKey[] =>
    (keys ?? []).filter((k) => kid === undefined || k.kid === undefined || k.kid === kid);

  return {
    async keysFor(kid) {
      if (keys === undefined) {
        // Nothing cached: read now, unless a read just failed (then answer 503 without calling out again).
        if (inFlight === undefined && coolingDown()) throw unavailable(undefined);
        await refreshOrFail();
      } else if (clock() - fetchedAt > maxAgeMs && !coolingDown()) {
        // Stale keys beat no keys: answer with them and re-read in the background.
        void refresh().catch((error: unknown) => options.onError?.(error));
      }
      let found = pick(kid);
      if (found.length === 0 && kid !== undefined && !coolingDown()) {
        // A kid not seen yet: the provider may have rolled its keys over.
        await refreshOrFail();
        found = pick(kid);
      }
      return found;
    },
  };
}
