// One seed for every property test of a run: `TESSERA_TEST_SEED` replays a failure, otherwise a fresh random seed.
// fast-check puts the seed and the shrink path in every failure message ("Property failed after … { seed: …, path:
// … }"), so a red run says how to replay it:  TESSERA_TEST_SEED=<seed> npx vitest run <file>
import type { Parameters } from 'fast-check';

const fromEnv = process.env.TESSERA_TEST_SEED;
const SEED = fromEnv !== undefined && /^-?\d+$/.test(fromEnv) ? Number(fromEnv) : (Math.random() * 2 ** 31) | 0;

/** The run's seed for property tests. */
export function propertySeed(): number {
  return SEED;
}

/** fast-check parameters: the run's seed and `numRuns` cases (`TESSERA_TEST_RUNS` overrides it, to search longer). */
export function propertyParameters<T>(numRuns: number): Parameters<T> {
  const runs = Number(process.env.TESSERA_TEST_RUNS);
  return { seed: SEED, numRuns: Number.isSafeInteger(runs) && runs > 0 ? runs : numRuns };
}

/**
 * A small seeded PRNG (mulberry32) for hand-written fuzz loops: `prng(propertySeed())` draws a fresh sequence each
 * run and the same one again under `TESSERA_TEST_SEED`. Put {@link replaySeed} in the failure message.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a failing seeded test prints: the seed and how to replay it. */
export function replaySeed(): string {
  return `seed ${SEED}, replay with TESSERA_TEST_SEED=${SEED}`;
}
