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
