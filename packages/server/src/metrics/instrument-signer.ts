import { childSpan, type HistogramCell, type RequestTracing } from '@tessera/metrics';
import type { TokenSigner } from '../crypto/token-signer.js';

/** One signature in this many is timed: the issue path stays at one histogram observation per request. */
export const SIGNING_SAMPLE_EVERY = 16;

/** Signing latency buckets, seconds: 50 µs to 1 s (an ES256 signature takes ~60 µs; the queue adds the rest). */
export const SIGNING_BUCKETS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1,
];

/**
 * Times every {@link SIGNING_SAMPLE_EVERY}th signature, from hand-off to the finished token (queue wait included),
 * into `histogram`; with tracing on, each signature is a `sign` child span.
 */
export function instrumentSigner(
  signer: TokenSigner,
  options: { readonly histogram: HistogramCell; readonly tracing?: RequestTracing | undefined },
): TokenSigner {
  const { histogram } = options;
  const tracer = options.tracing?.enabled === true ? options.tracing.tracer : undefined;
  let count = 0;
  const timed = (payloadJson: string): Promise<string> => {
    if (++count % SIGNING_SAMPLE_EVERY !== 0) return signer.sign(payloadJson);
    const started = performance.now();
    return signer.sign(payloadJson).then((token) => {
      histogram.observe((performance.now() - started) / 1000);
      return token;
    });
  };
  return {
    kid: signer.kid,
    sign: tracer === undefined ? timed : (payloadJson) => childSpan(tracer, 'sign', () => timed(payloadJson)),
  };
}
