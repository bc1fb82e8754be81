import type { KeyObject } from 'node:crypto';
import { TesseraError } from '@tessera/core';
import type { SigningKeyRecord, Store } from '../store/store.js';
import type { SecretBox } from './secret-box.js';
import { generateSigningKey, importPrivateKey, importPublicJwk, TOKEN_ALG, type PublicJwk } from './signing-key.js';
import type { SigningWorker } from './signing-worker.js';
import { createTokenSigner, type TokenSigner } from './token-signer.js';

/** A signing key as the admin API shows it (never the private key). */
export interface SigningKeyInfo {
  readonly kid: string;
  readonly alg: string;
  /** `pending` (published, not yet signing), `active` (signing) or `retired` (published until `dropsAt`). */
  readonly state: 'pending' | 'active' | 'retired';
  readonly createdAt: string;
  readonly activatesAt: string;
  readonly retiredAt: string | undefined;
  /** When the key leaves JWKS: its retirement plus the longest token lifetime and the clock skew. */
  readonly dropsAt: string | undefined;
}

/** The server's token signing keys: which one signs now, what JWKS publishes, and rotation. */
export interface SigningKeyRing {
  /** The key that signs at this instant (switches by itself when a rotated-in key activates). */
  signer(): TokenSigner;
  /** Every key not yet dropped, pending and retired ones included. */
  jwks(): readonly PublicJwk[];
  /** Public keys by kid, for introspection. */
  publicKeys(): ReadonlyMap<string, KeyObject>;
  /** Reads the keys back from the store (after a change by this or another process). */
  reload(): Promise<void>;
  /** Adds a new ES256 key that signs from `activateAfterMs` from now on; the current one retires then. */
  rotate(activateAfterMs: number): Promise<SigningKeyInfo>;
  /** The keys, oldest first. */
  list(): SigningKeyInfo[];
}

/** Options of {@link createSigningKeyRing}. */
export interface SigningKeyRingOptions {
  readonly store: Store;
  readonly box: SecretBox;
  readonly clock: () => number;
  /** Signing worker threads, when signatures are computed there. */
  readonly worker: SigningWorker | undefined;
  /** How long a retired key stays in JWKS: the longest token lifetime plus the clock skew, ms. */
  readonly retentionMs: number;
  /** Wraps each signer (e.g. to measure it). */
  readonly wrapSigner?: ((signer: TokenSigner) => TokenSigner) | undefined;
}

/** A new signing key record sealed under `box`, signing from `activatesAt`. */
export function newSigningKeyRecord(box: SecretBox, now: number, activatesAt: number): SigningKeyRecord {
  const key = generateSigningKey();
  return {
    kid: key.kid,
    alg: TOKEN_ALG,
    privateKey: box.seal(key.privateKeyPem),
    publicJwk: JSON.stringify(key.publicJwk),
    createdAt: now,
    status: 'active',
    activatesAt,
    retiredAt: undefined,
  };
}

/** Whether `key` signs at `now`: activated and not yet retired. */
function signsAt(key: SigningKeyRecord, now: number): boolean {
  return key.activatesAt <= now && (key.retiredAt === undefined || key.retiredAt > now);
}

/**
 * Loads the store's signing keys and keeps one signer per key that signs now or will (pending). The signer in use is
 * re-chosen only when the clock passes the next activation or retirement, so the issue path pays one comparison.
 */
export async function createSigningKeyRing(options: SigningKeyRingOptions): Promise<SigningKeyRing> {
  const { store, box, clock } = options;
  let records: SigningKeyRecord[] = [];
  let signers = new Map<string, TokenSigner>();
  let jwks: PublicJwk[] = [];
  let publicKeys = new Map<string, KeyObject>();
  let current: TokenSigner | undefined;
  let nextChangeAt = Number.POSITIVE_INFINITY;

  const choose = (now: number): TokenSigner => {
    // The newest key signing now; when none does (clocks apart), the newest already activated.
    const usable = records.filter((r) => signers.has(r.kid));
    const candidates = usable.filter((r) => signsAt(r, now));
    const activated = usable.filter((r) => r.activatesAt <= now);
    const pick = (candidates.length > 0 ? candidates : activated).reduce<SigningKeyRecord | undefined>(
      (best, r) => (best === undefined || r.activatesAt >= best.activatesAt ? r : best),
      undefined,
    );
    const signer = pick === undefined ? undefined : signers.get(pick.kid);
    if (signer === undefined) throw new TesseraError('ERR_INTERNAL', 'No signing key is active.');
    nextChangeAt = Math.min(
      Number.POSITIVE_INFINITY,
      ...records.flatMap((r) => [r.activatesAt, r.retiredAt ?? Number.POSITIVE_INFINITY]).filter((t) => t > now),
    );
    current = signer;
    return signer;
  };

  const reload = async (): Promise<void> => {
    const next = await store.listSigningKeys();
    const nextSigners = new Map<string, TokenSigner>();
    const now = clock();
    for (const record of next) {
      // Retired keys whose time is over never sign again: no need to decrypt them.
      if (record.retiredAt !== undefined && record.retiredAt <= now && record.status === 'retired') continue;
      const existing = signers.get(record.kid);
      if (existing !== undefined) {
        nextSigners.set(record.kid, existing);
        continue;
      }
      const pem = box.open(record.privateKey);
      options.worker?.register(record.kid, pem);
      const signer = createTokenSigner(record.kid, importPrivateKey(pem), options.worker);
      nextSigners.set(record.kid, options.wrapSigner?.(signer) ?? signer);
    }
    if (nextSigners.size === 0) throw new TesseraError('ERR_CONFIG_INVALID', 'The store has no active signing key.');
    const nextJwks = next.map((r) => JSON.parse(r.publicJwk) as PublicJwk);
    records = next;
    signers = nextSigners;
    jwks = nextJwks;
    publicKeys = new Map(nextJwks.map((j) => [j.kid, publicKeys.get(j.kid) ?? importPublicJwk(j)]));
    choose(now);
  };
  await reload();

  const info = (r: SigningKeyRecord, now: number): SigningKeyInfo => ({
    kid: r.kid,
    alg: r.alg,
    state: r.activatesAt > now ? 'pending' : signsAt(r, now) ? 'active' : 'retired',
    createdAt: new Date(r.createdAt).toISOString(),
    activatesAt: new Date(r.activatesAt).toISOString(),
    retiredAt: r.retiredAt === undefined ? undefined : new Date(r.retiredAt).toISOString(),
    dropsAt: r.retiredAt === undefined ? undefined : new Date(r.retiredAt + options.retentionMs).toISOString(),
  });

  return {
    signer() {
      const now = clock();
      if (current !== undefined && now < nextChangeAt) return current;
      return choose(now);
    },
    jwks: () => jwks,
    publicKeys: () => publicKeys,
    reload,
    async rotate(activateAfterMs) {
      const now = clock();
      const record = newSigningKeyRecord(box, now, now + activateAfterMs);
      await store.addSigningKey(record);
      await reload();
      const stored = records.find((r) => r.kid === record.kid);
      if (stored === undefined) throw new TesseraError('ERR_INTERNAL', 'The new signing key was not stored.');
      return info(stored, clock());
    },
    list() {
      const now = clock();
      return records.map((r) => info(r, now));
    },
  };
}
