// A throwaway PostgreSQL database per bench section (the store uses the `public` schema of the database in
// its URL, so a fresh database is the clean equivalent of a fresh SQLite data dir). Dropped afterwards.
import pg from 'pg';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Creates `tessera_bench_<pid>_<n>` next to the database of `adminUrl`; returns its URL and a drop(). */
let counter = 0;
export async function createBenchDatabase(adminUrl = DEFAULT_PG_URL) {
  const name = `tessera_bench_${process.pid}_${counter++}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
