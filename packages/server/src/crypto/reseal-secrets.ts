import type { ResealedSecret, Store } from '../store/store.js';
import type { SecretBox } from './secret-box.js';

/** What {@link resealSecrets} did. */
export interface ResealReport {
  /** Secrets in the store (access keys and signing keys). */
  readonly total: number;
  /** Secrets found under a previous master key and re-sealed under the current one. */
  readonly resealed: number;
}

/**
 * Master key rotation: re-seals every stored secret that is not yet under `box`'s current master key. Each write is
 * a compare-and-set, so it is safe beside running servers and safe to run again after a crash midway.
 */
export async function resealSecrets(store: Store, box: SecretBox): Promise<ResealReport> {
  const accessKeys = await store.listAccessKeys();
  const signingKeys = await store.listSigningKeys();
  const stale: ResealedSecret[] = [];
  for (const key of accessKeys) {
    if (!box.isCurrent(key.secret)) {
      stale.push({ kind: 'accessKey', name: key.name, from: key.secret, to: box.seal(box.open(key.secret)) });
    }
  }
  for (const key of signingKeys) {
    if (!box.isCurrent(key.privateKey)) {
      stale.push({ kind: 'signingKey', name: key.kid, from: key.privateKey, to: box.seal(box.open(key.privateKey)) });
    }
  }
  const resealed = stale.length === 0 ? 0 : await store.resealSecrets(stale);
  return { total: accessKeys.length + signingKeys.length, resealed };
}
