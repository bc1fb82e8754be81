// Order statistics of latency samples, shared by the bench scripts.

/** The `p`-th percentile (nearest rank) of `samples`; undefined when there are none. */
export function percentile(samples, p) {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
