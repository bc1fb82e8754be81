import { createSecretKey, randomBytes } from 'node:crypto';
import { createKeyRing, type KeyRing, type LiveAccessKey } from '../auth/key-ring.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { AccessKeyName, AccessKeyRecord, Store } from '../store/store.js';

/** A new random access key: 64 bytes, base64 (as ACS keys are). */
export function newAccessKeyBase64(): string {
  return randomBytes(64).toString('base64');
}

/** Opens sealed access key records into live keys (HMAC key objects imported once). */
export function decodeAccessKeys(records: readonly AccessKeyRecord[], box: SecretBox): LiveAccessKey[] {
  return records.map((r) => {
    const base64 = box.open(r.secret);
    return { name: r.name, version: r.version, base64, secret: createSecretKey(Buffer.from(base64, 'base64')) };
  });
}

/** Dependencies of {@link createAccessKeyService}. */
export interface AccessKeyServiceDeps {
  readonly store: Store;
  readonly box: SecretBox;
  readonly clock: () => number;
  /** Called once a regenerated key is stored and live here (metrics). */
  readonly onRegenerated?: ((name: AccessKeyName) => void) | undefined;
  /** Tells other processes and feed followers that something changed (the revocation feed's notify). */
  readonly notify: () => void;
}

/** The resource's access keys: the live ring, reloading and regeneration. */
export interface AccessKeyService {
  /** The live keys HMAC authentication reads. */
  readonly keys: KeyRing;
  /** Reads the keys from the store again (another process regenerated one). */
  reload(): Promise<void>;
  /** Replaces one key with a new random one, stores it sealed, and makes it live here at once. */
  regenerate(name: AccessKeyName): Promise<void>;
}

/** Opens the access key service on the keys the store holds now. */
export async function createAccessKeyService(deps: AccessKeyServiceDeps): Promise<AccessKeyService> {
  const { store, box, clock } = deps;
  const keys = createKeyRing(decodeAccessKeys(await store.listAccessKeys(), box));
  const reload = async () => keys.replace(decodeAccessKeys(await store.listAccessKeys(), box));
  return {
    keys,
    reload,
    async regenerate(name) {
      await store.regenerateAccessKey(name, box.seal(newAccessKeyBase64()), clock());
      deps.onRegenerated?.(name);
      await reload();
      deps.notify();
    },
  };
}
