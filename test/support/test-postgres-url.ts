// The PostgreSQL every test of the run shares: `TESSERA_TEST_PG_URL` when set, otherwise the cluster that the
// vitest global setup (test/support/global-setup.ts) started for the run. Tests make their own schemas or
// databases with random names on it and drop them.
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL of the run's PostgreSQL (see {@link testPostgresUrl}). */
    tesseraTestPgUrl: string;
  }
}

/** The URL of the PostgreSQL the tests use: `postgres://user@host:port/database`, never hard-coded. */
export function testPostgresUrl(): string {
  const url = inject('tesseraTestPgUrl');
  if (typeof url !== 'string' || url === '') {
    throw new Error(
      'no PostgreSQL for the tests: run them with the repository vitest.config.ts (its global setup starts one), ' +
        'or set TESSERA_TEST_PG_URL',
    );
  }
  return url;
}
