import type { KeyObject } from 'node:crypto';
import type { AccessKeyName } from '../store/store.js';

/** One access key held in memory, decoded, with its version. */
export interface LiveAccessKey {
  readonly name: AccessKeyName;
  readonly version: number;
  /** The base64 text as shown to users. */
  readonly base64: string;
  /** The decoded key, imported once so HMAC does no key set-up per request. */
  readonly secret: KeyObject;
}

/** The resource's current access keys. Replaced wholesale on regeneration so readers never see half a change. */
export interface KeyRing {
  current(): readonly LiveAccessKey[];
  get(name: AccessKeyName): LiveAccessKey | undefined;
  replace(keys: readonly LiveAccessKey[]): void;
}

/** Creates a {@link KeyRing}. */
export function createKeyRing(initial: readonly LiveAccessKey[]): KeyRing {
  let keys = initial;
  return {
    current: () => keys,
    get: (name) => keys.find((k) => k.name === name),
    replace(next) {
      keys = next;
    },
  };
}
