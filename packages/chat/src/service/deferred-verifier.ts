import { TesseraError } from '@tessera/core';
import type { Verifier, VerifierStatus } from '@tessera/verifier';

/** A {@link Verifier} whose real verifier is attached later, and the attach call. */
export interface DeferredVerifier extends Verifier {
  /** Hands over the real verifier; every call from now on goes to it. */
  attach(verifier: Verifier): void;
}

/**
 * A verifier that can be mounted before the identity server it verifies for is listening (`tessera serve` knows
 * its own endpoint, and so its JWKS and revocation feed, only once it listens). Until `attach`, `verify` answers
 * `ERR_STORE_UNAVAILABLE` (503, retry) rather than guessing.
 */
export function createDeferredVerifier(): DeferredVerifier {
  let inner: Verifier | undefined;
  const notYet = () => new TesseraError('ERR_STORE_UNAVAILABLE', 'The identity server keys are not loaded yet.');
  return {
    attach(verifier) {
      inner = verifier;
    },
    verify(token) {
      return inner === undefined ? Promise.reject(notYet()) : inner.verify(token);
    },
    authorize(token, capability, context) {
      if (inner === undefined) throw notYet();
      return inner.authorize(token, capability, context);
    },
    async ready() {
      if (inner === undefined) throw notYet();
      await inner.ready();
    },
    status(): VerifierStatus {
      if (inner !== undefined) return inner.status();
      return {
        connected: false,
        lastEventAt: undefined,
        staleMs: 0,
        seq: undefined,
        synced: false,
        connections: 0,
        revocation: 'feed',
        policy: 'fail-closed',
        stale: true,
        cacheSize: 0,
        jwksFetches: 0,
      };
    },
    async close() {
      await inner?.close();
    },
  };
}
