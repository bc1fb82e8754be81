import { verifierError } from '../errors.js';
import type { FetchLike } from '../discovery.js';
import type { EcPublicJwk, SignatureVerifier, VerificationKey } from '../signature/signature-verifier.js';

/** Options of {@link KeySet}. */
export interface KeySetOptions {
  /** Resolves the JWKS URL (after discovery). */
  jwksUri: () => Promise<string>;
  fetch: FetchLike;
  signatureVerifier: SignatureVerifier;
  clock: () => number;
  /** Least time between two fetches caused by an unknown `kid`. */
  minRefetchIntervalMs: number;
  /** Keys older than this are refreshed in the background on the next lookup (so removed keys stop working). */
  maxAgeMs: number;
  /** Told when a background refresh fails (the cached keys stay in use). */
  onBackgroundError?: (error: unknown) => void;
  /** Called with the kids that disappeared from the JWKS on a refetch. */
  onKeysRemoved?: (kids: readonly string[]) => void;
}

function isEcJwk(value: unknown): value is EcPublicJwk {
  if (typeof value !== 'object' || value === null) return false;
  const k = value as Record<string, unknown>;
  return (
    k.kty === 'EC' &&
    k.crv === 'P-256' &&
    typeof k.x === 'string' &&
    typeof k.y === 'string' &&
    typeof k.kid === 'string' &&
    (k.alg === undefined || k.alg === 'ES256') &&
    (k.use === undefined || k.use === 'sig')
  );
}

/**
 * The identity server's signing keys, fetched once and cached. A token with an unknown `kid` triggers a refetch
 * (at most one per `minRefetchIntervalMs`, concurrent callers share it), so a signing-key rollover needs no restart.
 */
export class KeySet {
  readonly #options: KeySetOptions;
  #keys = new Map<string, VerificationKey>();
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #fetches = 0;
  #loaded = false;

  constructor(options: KeySetOptions) {
    this.#options = options;
  }

  /** True once a JWKS has been fetched and read successfully. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** How many times the JWKS has been fetched. */
  get fetchCount(): number {
    return this.#fetches;
  }

  /** The key for `kid` if cached (starting a background refresh when the keys are older than `maxAgeMs`). */
  peek(kid: string): VerificationKey | undefined {
    const cached = this.#keys.get(kid);
    if (
      cached !== undefined &&
      this.#inflight === undefined &&
      this.#options.clock() - this.#lastFetchAt >= this.#options.maxAgeMs
    ) {
      this.load().catch((error: unknown) => this.#options.onBackgroundError?.(error));
    }
    return cached;
  }

  /**
   * The key for `kid`, refetching the JWKS when it is unknown and the rate limit allows. Throws
   * `ERR_TOKEN_UNKNOWN_KEY` when the server does not publish it, `ERR_STORE_UNAVAILABLE` when it cannot be asked.
   */
  async get(kid: string): Promise<VerificationKey> {
    const cached = this.peek(kid);
    if (cached !== undefined) return cached;
    if (
      this.#inflight === undefined &&
      this.#options.clock() - this.#lastFetchAt >= this.#options.minRefetchIntervalMs
    ) {
      this.#inflight = this.#refresh().finally(() => {
        this.#inflight = undefined;
      });
    }
    if (this.#inflight !== undefined) await this.#inflight;
    const key = this.#keys.get(kid);
    if (key === undefined) throw verifierError('ERR_TOKEN_UNKNOWN_KEY');
    return key;
  }

  /** Fetches the JWKS now (once; concurrent callers share it). */
  load(): Promise<void> {
    if (this.#inflight === undefined) {
      this.#inflight = this.#refresh().finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  async #refresh(): Promise<void> {
    this.#lastFetchAt = this.#options.clock();
    this.#fetches++;
    let body: unknown;
    try {
      const res = await this.#options.fetch(await this.#options.jwksUri(), { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`JWKS answered HTTP ${res.status}`);
      body = await res.json();
    } catch (cause) {
      throw verifierError('ERR_STORE_UNAVAILABLE', { detail: 'JWKS unavailable', cause });
    }
    const list = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) throw verifierError('ERR_STORE_UNAVAILABLE', { detail: 'JWKS has no keys array' });
    const next = new Map<string, VerificationKey>();
    for (const jwk of list) {
      if (!isEcJwk(jwk)) continue;
      const existing = this.#keys.get(jwk.kid);
      if (existing !== undefined) {
        next.set(jwk.kid, existing);
        continue;
      }
      try {
        next.set(jwk.kid, await this.#options.signatureVerifier.importKey(jwk));
      } catch {
        // A key the runtime cannot import is skipped; tokens signed with it fail as ERR_TOKEN_UNKNOWN_KEY.
      }
    }
    const removed = [...this.#keys.keys()].filter((kid) => !next.has(kid));
    this.#keys = next;
    this.#loaded = true;
    if (removed.length > 0) this.#options.onKeysRemoved?.(removed);
  }
}
