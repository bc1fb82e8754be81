import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // One PostgreSQL for the run: TESSERA_TEST_PG_URL, or one the suite starts itself (docs/development.md).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A failed test runs once more: on a shared 2-vCPU machine one slow moment can break a timing-sensitive test. A
    // test that needed it is named in a "RETRIED" line at the end (test/support/retry-reporter.ts; .ci/run repeats
    // them), so a flake shows and gets fixed rather than passing unseen.
    retry: 1,
    reporters: ['default', './test/support/retry-reporter.ts'],
  },
});
