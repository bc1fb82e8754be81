import {
  type AuthorizeContext,
  type AuthorizeResult,
  type Capability,
  type TokenClaims,
  TesseraError,
  authorize,
  checkTokenTimes,
  type SplitJwt,
  base64UrlToBytesStrict,
  checkSignatureForm,
  normalizeEndpoint,
  parseClaims,
  parseConnectionString,
  revocationCode,
  scopesOf,
  splitJwt,
} from '@tessera/core';
import { TokenCache } from './cache/token-cache.js';
import { type FetchLike, type ServerMetadata, fetchServerMetadata } from './discovery.js';
import { verifierError } from './errors.js';
import { KeySet } from './jwks/key-set.js';
import type { VerifierLogger } from './logger.js';
import { RevocationFeed, type RevocationFeedStatus } from './revocation/revocation-feed.js';
import { RevocationStateStore } from './revocation/revocation-state.js';
import { type RequestSigner, createRequestSigner } from './revocation/sign-request.js';
import type { SignatureVerifier, VerificationKey } from './signature/signature-verifier.js';
import { webCryptoSignatureVerifier } from './signature/webcrypto-signature-verifier.js';
import type { VerifiedToken } from './verified-token.js';

/** What to do when the revocation feed has been silent for longer than `maxStalenessMs`. */
export type StalenessPolicy = 'fail-closed' | 'fail-open';

/** Options of the revocation feed consumer. */
export interface RevocationOptions {
  /**
   * How long the feed may be silent (no event, no heartbeat) before the revocation state counts as stale.
   * Must exceed the server's heartbeat interval. Default 30 000.
   */
  maxStalenessMs?: number;
  /**
   * `fail-closed` (default): while stale, `verify` rejects every token with `ERR_REVOCATION_STALE` (HTTP 503).
   * `fail-open`: while stale, tokens are judged against the last known state, and a warning is logged.
   */
  onStale?: StalenessPolicy;
  /** First reconnection delay, doubled per failed attempt with jitter. Default 250. */
  initialReconnectDelayMs?: number;
  /** Longest reconnection delay. Default 10 000. */
  maxReconnectDelayMs?: number;
}

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /**
   * The identity server, as in the connection string (`http(s)://host[:port]/`). Optional when
   * `connectionString` is given; when both are, this one is used (e.g. an internal address).
   */
  endpoint?: string;
  /**
   * `endpoint=…;accesskey=…` whose key signs the revocation feed request. The read-only verifier key
   * (`verifierConnectionString`) is recommended in production: it can read the feed, JWKS and introspection but
   * never mint tokens or manage identities. A full-control key works too.
   */
  connectionString?: string;
  /** Overrides the issuer from `/.well-known/openid-configuration`. */
  issuer?: string;
  /** Overrides `tessera_audience` from `/.well-known/openid-configuration`. */
  audience?: string;
  /** Now, Unix milliseconds. Default `Date.now`. Must be wall-clock time when the feed is on (it dates HMAC requests). */
  clock?: () => number;
  /** Tolerated clock skew for `exp`/`nbf`, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** The `fetch` used for discovery, JWKS and the feed. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** How signatures are checked. Default WebCrypto; `nodeSignatureVerifier()` from `@tessera/verifier/node` is faster. */
  signatureVerifier?: SignatureVerifier;
  /** The verified-token cache; `false` disables it. Default `{ maxEntries: 10_000 }`. */
  cache?: false | { maxEntries?: number };
  /** JWKS refresh: `minRefetchIntervalMs` (unknown kid, default 5 000) and `maxAgeMs` (background, default 1 h). */
  jwks?: { minRefetchIntervalMs?: number; maxAgeMs?: number };
  /**
   * Revocation feed settings; `false` turns revocation checking off (tokens are then only checked offline, as
   * ACS verifiers do: a revoked token stays valid until it expires). Without `connectionString` you must say so.
   */
  revocation?: false | RevocationOptions;
  /** Source of randomness for reconnection jitter. Default `Math.random`. */
  random?: () => number;
  logger?: VerifierLogger;
}

/** The verifier's health, for readiness probes and metrics. */
export interface VerifierStatus extends RevocationFeedStatus {
  /** `feed` when following the revocation feed, `off` when `revocation: false`. */
  readonly revocation: 'feed' | 'off';
  readonly policy: StalenessPolicy;
  /** True when the revocation state is older than `maxStalenessMs` (never, with revocation off). */
  readonly stale: boolean;
  readonly cacheSize: number;
  readonly jwksFetches: number;
}

/** A token verifier for a data-plane service. */
export interface Verifier {
  /**
   * Verifies a user access token offline (signature against the JWKS, issuer, audience, times) and against the
   * revocation state. Resolves with the token's identity, scopes, expiry and resource; rejects with a
   * `TesseraError` whose code is one of `ERR_TOKEN_*`, `ERR_REVOCATION_STALE` or `ERR_STORE_UNAVAILABLE`.
   */
  verify(token: string): Promise<VerifiedToken>;
  /** Core's `authorize` for a verified token: may it do `capability`? */
  authorize(token: VerifiedToken, capability: Capability, context?: AuthorizeContext): AuthorizeResult;
  /** Resolves when discovery and the JWKS are loaded and (with the feed on) the first snapshot applied. */
  ready(): Promise<void>;
  status(): VerifierStatus;
  /** Stops the revocation feed. */
  close(): Promise<void>;
}

const EMPTY = new Uint8Array(0);

interface CachedResult {
  readonly verified: VerifiedToken;
  readonly claims: TokenClaims;
  /** Resolved once and handed out on every hit (no allocation per hit). */
  readonly promise: Promise<VerifiedToken>;
  /** The revocation-state version this token was last judged at. */
  stamp: number;
}

/**
 * Whether the token's ES256 signature checks out — synchronously when the key answers synchronously. Any failure to
 * check (a throwing key, a rejected promise) counts as false.
 */
function checkSignature(key: VerificationKey, jws: SplitJwt): boolean | Promise<boolean> {
  let answer: boolean | Promise<boolean>;
  try {
    if (key.verifyJws !== undefined) {
      answer = key.verifyJws(jws.signingInput, jws.signatureSegment);
    } else {
      const signature = base64UrlToBytesStrict(jws.signatureSegment);
      if (signature === undefined || signature.length !== 64) return false;
      answer = key.verify(signature, jws.signingInput);
    }
  } catch {
    return false;
  }
  return answer === true || answer === false
    ? answer
    : answer.then(
        (ok) => ok === true,
        () => false,
      );
}

/**
 * Creates a verifier for the tokens of one Tessera identity server. It reads the server's metadata and keys,
 * follows its revocation feed, and caches verified tokens (bounded, revocation checked on every hit).
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const clock = options.clock ?? Date.now;
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const logger = options.logger;
  let endpoint: string | undefined;
  let accessKey: string | undefined;
  if (options.connectionString !== undefined) {
    const cs = parseConnectionString(options.connectionString);
    endpoint = cs.endpoint;
    accessKey = cs.accessKey;
  }
  if (options.endpoint !== undefined) endpoint = normalizeEndpoint(options.endpoint);
  if (endpoint === undefined) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Verifier needs an endpoint (or a connectionString).', {
      target: 'endpoint',
    });
  }
  const revocationOptions = options.revocation === false ? undefined : (options.revocation ?? {});
  if (revocationOptions !== undefined && accessKey === undefined) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      "Verifier needs a connectionString for the revocation feed; pass 'revocation: false' to check tokens offline only.",
      { target: 'connectionString' },
    );
  }
  const leewaySeconds = options.clockSkewSeconds ?? 60;
  const leewayMs = leewaySeconds * 1000;
  const maxStalenessMs = revocationOptions?.maxStalenessMs ?? 30_000;
  const policy: StalenessPolicy = revocationOptions?.onStale ?? 'fail-closed';
  const baseUrl = endpoint;

  let meta: ServerMetadata | undefined;
  let metaPromise: Promise<ServerMetadata> | undefined;
  function ensureMeta(): Promise<ServerMetadata> {
    if (meta !== undefined) return Promise.resolve(meta);
    if (metaPromise === undefined) {
      const given = options.issuer !== undefined && options.audience !== undefined;
      const p: Promise<ServerMetadata> = given
        ? Promise.resolve({
            issuer: options.issuer as string,
            audience: options.audience as string,
            jwksUri: new URL('.well-known/jwks.json', baseUrl).href,
            revocationFeedUrl: new URL('revocations', baseUrl).href,
          })
        : fetchServerMetadata({
            endpoint: baseUrl,
            fetch: fetchImpl,
            issuer: options.issuer,
            audience: options.audience,
          });
      metaPromise = p.then(
        (m) => {
          meta = m;
          return m;
        },
        (error: unknown) => {
          metaPromise = undefined;
          throw error;
        },
      );
    }
    return metaPromise;
  }

  const cache = options.cache === false ? undefined : new TokenCache<CachedResult>(options.cache?.maxEntries ?? 10_000);
  const keys = new KeySet({
    jwksUri: async () => (await ensureMeta()).jwksUri,
    fetch: fetchImpl,
    signatureVerifier: options.signatureVerifier ?? webCryptoSignatureVerifier(),
    clock,
    minRefetchIntervalMs: options.jwks?.minRefetchIntervalMs ?? 5_000,
    maxAgeMs: options.jwks?.maxAgeMs ?? 3_600_000,
    onKeysRemoved: () => cache?.clear(),
    onBackgroundError: () => logger?.warn('tessera verifier: JWKS refresh failed; keeping the cached keys'),
  });

  const state = new RevocationStateStore();
  let feed: RevocationFeed | undefined;
  if (revocationOptions !== undefined && accessKey !== undefined) {
    const key = accessKey;
    let signer: Promise<RequestSigner> | undefined;
    feed = new RevocationFeed({
      url: async () => (await ensureMeta()).revocationFeedUrl,
      signer: () => {
        signer ??= createRequestSigner(key);
        return signer;
      },
      fetch: fetchImpl,
      state,
      clock,
      random: options.random ?? Math.random,
      initialDelayMs: revocationOptions.initialReconnectDelayMs ?? 250,
      maxDelayMs: revocationOptions.maxReconnectDelayMs ?? 10_000,
      idleTimeoutMs: maxStalenessMs,
      logger,
    });
    feed.start();
  }
  const createdAt = clock();
  let warnedStale = false;

  function isStale(now: number): boolean {
    if (feed === undefined) return false;
    const last = feed.lastEventAt;
    return last === undefined || now - last > maxStalenessMs;
  }

  // The per-request revocation judgement: a Map lookup plus core's revocationCode (no throw, no allocation).
  function revocationFailure(claims: TokenClaims, now: number): TesseraError | undefined {
    if (feed === undefined) return undefined;
    if (isStale(now)) {
      if (policy === 'fail-closed') return verifierError('ERR_REVOCATION_STALE');
      if (!warnedStale) {
        warnedStale = true;
        logger?.warn('tessera verifier: revocation state is stale; failing open', { maxStalenessMs });
      }
    } else {
      warnedStale = false;
    }
    const code = revocationCode(claims, state.identity(claims.sub), state.accessKeys);
    return code === undefined ? undefined : verifierError(code);
  }

  // A cache miss. Synchronous while discovery, the key and a synchronous signature check (node:crypto) allow it —
  // no promise chain per token — and asynchronous otherwise (first requests, unknown kid, WebCrypto).
  function verifyFresh(token: string, now: number): Promise<VerifiedToken> {
    const jws = splitJwt(token);
    if (jws.header.alg !== 'ES256') throw verifierError('ERR_TOKEN_MALFORMED', { detail: 'alg must be ES256' });
    const kid = jws.header.kid;
    if (kid === undefined || kid === '') throw verifierError('ERR_TOKEN_MALFORMED', { detail: 'no kid in header' });
    const m = meta;
    const key = m === undefined ? undefined : keys.peek(kid);
    if (m === undefined || key === undefined) return verifyFreshAsync(token, jws, kid, now);
    const ok = checkSignature(key, jws);
    if (ok === true || ok === false) return accept(token, jws, ok, m, now);
    return ok.then((answer) => accept(token, jws, answer, m, now));
  }

  async function verifyFreshAsync(token: string, jws: SplitJwt, kid: string, now: number): Promise<VerifiedToken> {
    const m = await ensureMeta();
    const key = await keys.get(kid);
    return accept(token, jws, await checkSignature(key, jws), m, now);
  }

  // After the signature check: the claims, times and revocation; caches and returns the result.
  function accept(
    token: string,
    jws: SplitJwt,
    signatureOk: boolean,
    m: ServerMetadata,
    now: number,
  ): Promise<VerifiedToken> {
    if (!signatureOk) {
      if (base64UrlToBytesStrict(jws.signatureSegment) === undefined) {
        throw verifierError('ERR_TOKEN_MALFORMED', { detail: 'signature is not base64url' });
      }
      throw verifierError('ERR_TOKEN_BAD_SIGNATURE');
    }
    const claims = parseClaims(jws.payload);
    // Token contract version 2: one valid form per token, the low-S one (the high-S twin verifies as well).
    checkSignatureForm(claims.tsv, base64UrlToBytesStrict(jws.signatureSegment) ?? EMPTY);
    if (claims.iss !== m.issuer) throw verifierError('ERR_TOKEN_WRONG_ISSUER');
    if (claims.aud !== m.audience) throw verifierError('ERR_TOKEN_WRONG_AUDIENCE');
    checkTokenTimes(claims, { nowMs: now, leewaySeconds });
    if (feed !== undefined && !feed.synced && policy === 'fail-closed') {
      return feed
        .whenSynced(Math.max(0, createdAt + maxStalenessMs - clock()))
        .then(() => judge(token, claims, clock()));
    }
    return judge(token, claims, now);
  }

  function judge(token: string, claims: TokenClaims, now: number): Promise<VerifiedToken> {
    const stamp = state.version;
    const failure = revocationFailure(claims, now);
    if (failure !== undefined) throw failure;
    const verified: VerifiedToken = Object.freeze({
      identity: claims.sub,
      scopes: scopesOf(claims),
      expiresAt: claims.exp * 1000,
      issuedAt: claims.iat * 1000,
      resource: claims.resourceId,
      resourceLocation: claims.resourceLocation,
      tokenId: claims.jti,
      claims,
    });
    const promise = Promise.resolve(verified);
    cache?.set(token, { verified, claims, promise, stamp }, claims.exp * 1000 + leewayMs);
    return promise; // the same promise every later cache hit hands out
  }

  // A cache hit: expiry was checked by the cache; staleness and revocation are judged on every hit, but the
  // revocation judgement is skipped while the state has not changed since this token was last judged.
  function verifyCached(entry: CachedResult, now: number): Promise<VerifiedToken> {
    if (feed !== undefined) {
      if (entry.stamp !== state.version || isStale(now)) {
        const stamp = state.version;
        const failure = revocationFailure(entry.claims, now);
        if (failure !== undefined) return Promise.reject(failure);
        entry.stamp = stamp;
      }
    }
    return entry.promise;
  }

  function verify(token: string): Promise<VerifiedToken> {
    const now = clock();
    if (cache !== undefined && typeof token === 'string') {
      const hit = cache.get(token, now);
      if (hit !== undefined) return verifyCached(hit.value, now);
    }
    try {
      return verifyFresh(token, now);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // Warm up in the background so the first request does not pay for discovery and the JWKS.
  ensureMeta()
    .then(() => keys.load())
    .catch(() => logger?.warn('tessera verifier: identity server not reachable yet; will retry on demand'));

  return {
    verify,
    authorize: (token, capability, context) => authorize(token, capability, context),
    async ready() {
      await ensureMeta();
      if (!keys.loaded) await keys.load();
      if (feed !== undefined && !feed.synced) {
        await feed.whenSynced(Math.max(0, createdAt + maxStalenessMs - clock()));
        if (!feed.synced) throw verifierError('ERR_REVOCATION_STALE');
      }
    },
    status(): VerifierStatus {
      const now = clock();
      const fs: RevocationFeedStatus = feed?.status(now) ?? {
        connected: false,
        lastEventAt: undefined,
        staleMs: 0,
        seq: undefined,
        synced: false,
        connections: 0,
      };
      return {
        ...fs,
        revocation: feed === undefined ? 'off' : 'feed',
        policy,
        stale: isStale(now),
        cacheSize: cache?.size ?? 0,
        jwksFetches: keys.fetchCount,
      };
    },
    async close() {
      await feed?.close();
    },
  };
}
