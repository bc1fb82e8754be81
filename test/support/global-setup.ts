// vitest global setup: one PostgreSQL for the whole run. `TESSERA_TEST_PG_URL` names a server to use instead
// (nothing is started then); otherwise a fresh cluster of the suite's own starts here, once, on a free port,
// and is stopped and removed when the run ends. Tests read the URL with testPostgresUrl().
import type { TestProject } from 'vitest/node';
import { startTestPostgres } from './postgres-server.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.TESSERA_TEST_PG_URL;
  if (given !== undefined && given !== '') {
    project.provide('tesseraTestPgUrl', given);
    return async () => {};
  }
  const server = await startTestPostgres();
  project.provide('tesseraTestPgUrl', server.url);
  return () => server.stop();
}
