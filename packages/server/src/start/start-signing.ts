import type { ResolvedServerOptions } from '../config/server-options.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { createSigningKeyRing, type SigningKeyRing } from '../crypto/signing-key-ring.js';
import { createSigningWorker, type SigningWorker } from '../crypto/signing-worker.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import type { Store } from '../store/store.js';

/** Options of {@link startSigning}. */
export interface StartSigningOptions {
  readonly options: ResolvedServerOptions;
  readonly store: Store;
  readonly box: SecretBox;
  readonly clock: () => number;
  /** How long retired signing keys stay published (state-pruner.ts `revocationRetentionMs`). */
  readonly retentionMs: number;
  readonly metrics: ServerMetrics | undefined;
}

/** Start-up step: the signing threads (unless `--signing threadpool`) and the signing key ring loaded from the store. */
export async function startSigning(
  start: StartSigningOptions,
): Promise<{ worker: SigningWorker | undefined; ring: SigningKeyRing }> {
  const { options, metrics } = start;
  const worker =
    options.signing === 'threadpool' ? undefined : createSigningWorker({ threads: options.signingThreads });
  const ring = await createSigningKeyRing({
    store: start.store,
    box: start.box,
    clock: start.clock,
    worker,
    retentionMs: start.retentionMs,
    wrapSigner: metrics === undefined ? undefined : (signer) => metrics.instrumentSigner(signer),
  });
  return { worker, ring };
}
