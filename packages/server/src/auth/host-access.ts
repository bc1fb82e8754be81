import type { KeyObject } from 'node:crypto';
import type { Registry } from '@tessera/metrics';
import type { AccessKeyName } from '../store/store.js';
import type { BearerAuthenticator } from './authenticate.js';
import type { KeyRing } from './key-ring.js';

/**
 * One access key as code mounted on the server sees it: its name, its version and the key as a `KeyObject` (usable
 * with `createHmac`, printed by `util.inspect` without its bytes). Never the base64 text.
 */
export interface HostAccessKey {
  readonly name: AccessKeyName;
  readonly version: number;
  /** `true` for the primary and secondary keys (every data action); `false` for the read-only verifier key. */
  readonly fullControl: boolean;
  readonly secret: KeyObject;
}

/** A bearer principal as the server's own role assignments see it. */
export interface HostBearerPrincipal {
  readonly issuer: string;
  readonly subject: string;
  /** The data actions of its role assignments (docs/access-control.md), e.g. `rooms/read`. */
  readonly actions: ReadonlySet<string>;
}

/**
 * What `ServerOptions.register` gets besides the Fastify app: read-only views of the server's live credentials, so
 * a mounted API (Rooms in `tessera serve`) authenticates exactly as the identity API does.
 */
export interface ServerHostAccess {
  /**
   * The access keys accepted now. Follows regeneration at once: through this server's admin API, and by another
   * process on the same PostgreSQL store (its `key.regenerated` event reloads the ring). Cheap to call per request.
   */
  accessKeys(): readonly HostAccessKey[];
  /**
   * Verifies `Authorization: Bearer <jwt>` of a trusted issuer with the server's role assignments; rejects with
   * `ERR_TOKEN_*` / `ERR_ISSUER_UNAVAILABLE`. Absent when no trusted issuer is configured.
   */
  readonly bearer: ((token: string) => Promise<HostBearerPrincipal>) | undefined;
  /** The resource id (user ids are `8:acs:<resourceId>_…`). */
  readonly resourceId: string;
  /** Host (with port) of `--public-url`, accepted as the signed host behind a proxy. */
  readonly publicHost: string | undefined;
  /** Largest accepted `x-ms-date` skew, ms (`--max-clock-skew`). */
  readonly maxClockSkewMs: number;
  readonly clock: () => number;
  /**
   * The server's metrics registry when it collects metrics (`--metrics-port`, `--metrics-api`), so a mounted plugin
   * can add its own families to the server's `/metrics`; undefined when nothing is collected.
   */
  readonly metricsRegistry?: Registry | undefined;
}

/** Options of {@link createHostAccess}. */
export interface HostAccessOptions extends Omit<ServerHostAccess, 'accessKeys' | 'bearer'> {
  readonly keys: KeyRing;
  readonly bearer: BearerAuthenticator | undefined;
}

/** Builds the {@link ServerHostAccess} of a running server over its key ring and bearer authenticator. */
export function createHostAccess(options: HostAccessOptions): ServerHostAccess {
  const { keys, bearer, ...rest } = options;
  // The ring hands out a new array on each replacement: map once per ring state, not per request.
  let seen: ReturnType<KeyRing['current']> | undefined;
  let view: readonly HostAccessKey[] = [];
  return {
    ...rest,
    accessKeys() {
      const current = keys.current();
      if (current !== seen) {
        seen = current;
        view = Object.freeze(
          current.map((k) =>
            Object.freeze({ name: k.name, version: k.version, fullControl: k.name !== 'verifier', secret: k.secret }),
          ),
        );
      }
      return view;
    },
    bearer:
      bearer === undefined
        ? undefined
        : async (token) => {
            const principal = await bearer(token);
            if (principal.kind !== 'bearer') throw new TypeError('the bearer authenticator returned an access key');
            return { issuer: principal.issuer, subject: principal.subject, actions: principal.actions };
          },
  };
}
