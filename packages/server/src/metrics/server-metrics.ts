import type { RateLimitPolicy } from '@tessera/core';
import {
  type CounterCell,
  counterFamily,
  createMetricsRegistry,
  createRequestMetrics,
  createRequestTracing,
  type Registry,
  type RequestMetrics,
  type RequestTracing,
  histogramFamily,
} from '@tessera/metrics';
import { Gauge } from 'prom-client';
import type { TokenSigner } from '../crypto/token-signer.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { Store } from '../store/store.js';
import { instrumentRateLimiter } from './rate-limit-metrics.js';
import { instrumentSigner, SIGNING_BUCKETS, SIGNING_SAMPLE_EVERY } from './instrument-signer.js';
import { instrumentStore } from './instrument-store.js';

/** What the identity service reports as it works (identities, tokens, revocations); see {@link ServerMetrics}. */
export interface ServiceEvents {
  tokenIssued(scopes: readonly string[]): void;
  identityCreated(): void;
  identityDeleted(): void;
  tokensRevoked(): void;
}

/** Read at each scrape (gauges); set once the parts exist. */
export interface ScrapeSources {
  readonly feedSubscribers: () => number;
  /** Signatures handed to the signing threads and not yet finished (undefined: thread-pool signing). */
  readonly signingQueue: () => number | undefined;
}

/** The identity server's metrics: the shared registry plus the server's own counters and wrappers. */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  readonly tracing: RequestTracing;
  readonly events: ServiceEvents;
  /** One revocation event broadcast `lagSeconds` after it was committed. */
  revocationPropagated(lagSeconds: number): void;
  keyRegenerated(name: string): void;
  sources(sources: ScrapeSources): void;
  instrumentRateLimiter(limiter: RateLimiter): RateLimiter;
  instrumentStore(store: Store): Store;
  instrumentSigner(signer: TokenSigner): TokenSigner;
}

/** Creates the identity server's metrics (`tessera_*`, plus the process's `process_*` and `nodejs_*`). */
export function createServerMetrics(options: {
  readonly policy: RateLimitPolicy;
  readonly clock: () => number;
  readonly tracing?: RequestTracing;
}): ServerMetrics {
  const registry = createMetricsRegistry();
  const registers = [registry];
  const tracing = options.tracing ?? createRequestTracing({ name: '@tessera/server' });
  const tokens = counterFamily(registry, {
    name: 'tessera_tokens_issued_total',
    help: 'User access tokens issued, by scope set (sorted, comma-separated).',
    labelNames: ['scopes'],
  });
  const created = counterFamily(registry, {
    name: 'tessera_identities_created_total',
    help: 'Identities created.',
  }).cell();
  const deleted = counterFamily(registry, {
    name: 'tessera_identities_deleted_total',
    help: 'Identities deleted.',
  }).cell();
  const revoked = counterFamily(registry, {
    name: 'tessera_token_revocations_total',
    help: "Revocations of an identity's tokens (revokeAccessTokens).",
  }).cell();
  const regenerated = counterFamily(registry, {
    name: 'tessera_access_key_regenerations_total',
    help: 'Access keys regenerated (each revokes the tokens minted under the old key), by key.',
    labelNames: ['key'],
  });
  const lag = histogramFamily(registry, {
    name: 'tessera_revocation_propagation_seconds',
    help: 'Time from a revocation event being committed to its broadcast on the revocation feed.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60],
  }).cell();
  const signing = histogramFamily(registry, {
    name: 'tessera_signing_duration_seconds',
    help: `Token signing latency including the wait for a signing thread (one signature in ${SIGNING_SAMPLE_EVERY} timed).`,
    buckets: SIGNING_BUCKETS,
  }).cell();
  let sources: ScrapeSources | undefined;
  new Gauge({
    name: 'tessera_revocation_feed_subscribers',
    help: 'Verifiers connected to the revocation feed.',
    registers,
    collect() {
      this.set(sources?.feedSubscribers() ?? 0);
    },
  });
  new Gauge({
    name: 'tessera_signing_queue_depth',
    help: 'Signatures handed to the signing threads and not yet finished.',
    registers,
    collect() {
      const depth = sources?.signingQueue();
      if (depth !== undefined) this.set(depth);
    },
  });

  // The scope set of a token, from the array the route parsed: joined as given, then sorted once per distinct set.
  // The last set is kept too: most tokens of a deployment ask for the same scopes, and then nothing is joined.
  const byScopes = new Map<string, CounterCell>();
  let lastScopes: readonly string[] = [];
  let lastCounter: CounterCell | undefined;
  const sameAsLast = (scopes: readonly string[]) => {
    if (scopes.length !== lastScopes.length) return false;
    for (let i = 0; i < scopes.length; i++) if (scopes[i] !== lastScopes[i]) return false;
    return true;
  };
  const tokenCounter = (scopes: readonly string[]): CounterCell => {
    if (lastCounter !== undefined && sameAsLast(scopes)) return lastCounter;
    const given = scopes.join(',');
    let counter = byScopes.get(given);
    if (counter === undefined) {
      counter = tokens.cell([...new Set(scopes)].sort().join(',') || 'none');
      if (byScopes.size < 1000) byScopes.set(given, counter);
    }
    lastScopes = [...scopes];
    lastCounter = counter;
    return counter;
  };

  return {
    registry,
    requests: createRequestMetrics(registry, { prefix: 'tessera_' }),
    tracing,
    events: {
      tokenIssued: (scopes) => tokenCounter(scopes).inc(),
      identityCreated: () => created.inc(),
      identityDeleted: () => deleted.inc(),
      tokensRevoked: () => revoked.inc(),
    },
    revocationPropagated: (seconds) => lag.observe(Math.max(0, seconds)),
    keyRegenerated: (name) => regenerated.cell(name).inc(),
    sources(given) {
      sources = given;
    },
    instrumentRateLimiter: (limiter) =>
      instrumentRateLimiter(limiter, { registry, policy: options.policy, clock: options.clock }),
    instrumentStore: (store) => instrumentStore(store, { registry, tracing }),
    instrumentSigner: (signer) => instrumentSigner(signer, { histogram: signing, tracing }),
  };
}
