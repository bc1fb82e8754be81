import type { ResolvedServerOptions } from '../config/server-options.js';
import type { SigningKeyRing } from '../crypto/signing-key-ring.js';
import { createRevocationFeed, type RevocationFeed } from '../http/revocation-feed.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { AccessKeyService } from '../service/access-key-service.js';
import { createIdentityCache } from '../service/identity-cache.js';
import { createIdentityService, type IdentityService } from '../service/identity-service.js';
import type { ResourceContext } from '../service/resource-context.js';
import { createTouchBuffer, type TouchBuffer } from '../service/touch-buffer.js';
import type { Store } from '../store/store.js';

/** Options of {@link createServices}. */
export interface CreateServicesOptions {
  readonly options: ResolvedServerOptions;
  readonly store: Store;
  readonly clock: () => number;
  readonly resource: ResourceContext;
  readonly signingKeys: SigningKeyRing;
  readonly accessKeys: AccessKeyService;
  readonly metrics: ServerMetrics | undefined;
  readonly onError: (error: unknown) => void;
}

/** What {@link createServices} hands on. */
export interface Services {
  readonly service: IdentityService;
  readonly feed: RevocationFeed;
  /** Buffers `lastTokenIssuedAt` writes; closed (flushed) on shutdown. */
  readonly touches: TouchBuffer;
}

/**
 * Start-up step: the identity service and the revocation feed that follows the store's events (invalidating the
 * identity cache, reloading access keys regenerated elsewhere).
 */
export async function createServices(start: CreateServicesOptions): Promise<Services> {
  const { store, clock, metrics, onError, accessKeys } = start;
  const touches = createTouchBuffer(store, 1000, onError);
  const cache = createIdentityCache(100_000);
  const feed = await createRevocationFeed({
    store,
    heartbeatMs: start.options.heartbeatMs,
    clock,
    onError,
    onEvent: (event) => {
      metrics?.revocationPropagated((clock() - event.at) / 1000);
      if (event.type === 'key.regenerated') void accessKeys.reload().catch(onError);
      else cache.invalidate(event.identityId);
    },
  });
  const service = createIdentityService({
    store,
    resource: start.resource,
    signer: start.signingKeys.signer,
    publicKeys: start.signingKeys.publicKeys,
    keys: accessKeys.keys,
    touches,
    cache,
    clock,
    onRevocationEvent: () => feed.notify(),
    events: metrics?.events,
  });
  return { service, feed, touches };
}
