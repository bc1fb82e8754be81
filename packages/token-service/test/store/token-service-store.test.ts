import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTesseraError } from '@tessera/core';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { openPostgresTokenServiceStore } from '../../src/store/postgres-token-service-store.js';
import { openTokenServiceStore } from '../../src/store/token-service-store.js';
import { describeTokenServiceStoreConformance } from './token-service-store-conformance.js';

const PG_URL = testPostgresUrl();
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
afterAll(() => admin.end());

describeTokenServiceStoreConformance('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ts-store-'));
  const path = join(dir, 'token-service.db');
  return {
    store: openTokenServiceStore(path),
    other: async () => openTokenServiceStore(path),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describeTokenServiceStoreConformance('PostgreSQL', async () => {
  const schema = `tessera_ts_${randomBytes(5).toString('hex')}`;
  const open = () => openPostgresTokenServiceStore({ connectionString: PG_URL, schema, max: 4 });
  return {
    store: await open(),
    other: open,
    cleanup: async () => void (await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
  };
});

it('instances opening one PostgreSQL schema at once create it once', async () => {
  const schema = `tessera_ts_${randomBytes(5).toString('hex')}`;
  try {
    const stores = await Promise.all(
      [1, 2, 3].map(() => openPostgresTokenServiceStore({ connectionString: PG_URL, schema, max: 2 })),
    );
    const versions = await admin.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations`);
    expect(versions.rows.map((r) => r.version)).toStrictEqual([1]);
    await Promise.all(stores.map((s) => s.close()));
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
});

it('an unreachable PostgreSQL is ERR_STORE_UNAVAILABLE, and the error never shows the URL or password', async () => {
  const password = `pw-${randomBytes(6).toString('hex')}`;
  const error = await openPostgresTokenServiceStore({
    connectionString: `postgres://tessera:${password}@127.0.0.1:1/test`,
    timeoutMs: 2000,
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTesseraError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
  expect(JSON.stringify(error)).not.toContain(password);
  expect(String((error as Error).stack)).not.toContain(password);
});
