import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { isTesseraError } from '@tessera/core';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../test/support/test-postgres-url.js';
import { createPostgresStore, postgresEventChannel } from '../src/store/postgres-store.js';
import type { RevocationEvent, Store } from '../src/store/store.js';
import { describeStoreConformance } from './store-conformance.js';

/** The run's PostgreSQL (TESSERA_TEST_PG_URL, or the suite's own). Unreachable means these tests fail: they never skip. */
const DATABASE_URL = testPostgresUrl();
const T0 = Date.UTC(2025, 0, 1);

let adminPool: pg.Pool | undefined;
function admin(): pg.Pool {
  adminPool ??= new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  return adminPool;
}

const schemas = new Set<string>();
/** A fresh, unique schema name; dropped by {@link dropSchema} (and, as a safety net, after the file). */
function newSchema(): string {
  const schema = `tessera_t_${process.pid}_${randomBytes(5).toString('hex')}`;
  schemas.add(schema);
  return schema;
}
async function dropSchema(schema: string): Promise<void> {
  await admin().query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  schemas.delete(schema);
}

afterAll(async () => {
  for (const schema of [...schemas]) await dropSchema(schema);
  await adminPool?.end();
});

function storeOn(schema: string, max = 4): Store {
  return createPostgresStore({ connectionString: DATABASE_URL, schema, pool: { max } });
}

it('the run’s PostgreSQL is reachable (these tests fail rather than skip without it)', async () => {
  const result = await admin().query<{ one: number }>('SELECT 1 AS one');
  expect(result.rows[0]?.one).toBe(1);
});

describeStoreConformance('PostgreSQL', async () => {
  // Fails (and so fails the test) when PostgreSQL is down: the schema is created up front.
  const schema = newSchema();
  await admin().query(`CREATE SCHEMA "${schema}"`);
  return {
    store: storeOn(schema),
    open: async () => storeOn(schema),
    cleanup: () => dropSchema(schema),
  };
});

describe('PostgreSQL store specifics', () => {
  it('migrations from 3 processes-worth of pools starting at once on a new schema apply exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = newSchema();
      const stores = [storeOn(schema, 3), storeOn(schema, 3), storeOn(schema, 3)];
      try {
        // The schema does not exist yet: CREATE SCHEMA / CREATE TABLE race unless migrations are serialised.
        await Promise.all(stores.map((store) => store.migrate()));
        await Promise.all(stores.map((store) => store.migrate()));
        const versions = await admin().query<{ version: number }>(
          `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
        );
        expect(versions.rows.map((row) => row.version)).toStrictEqual([1, 2, 3, 4]);
        const starts = await Promise.all(
          stores.map((store, i) =>
            store.initResource(
              { resourceId: `res-${i}`, location: 'europe', createdAt: T0 },
              [{ name: 'primary', version: 1, secret: `enc:${i}`, updatedAt: T0 }],
              {
                kid: `kid-${i}`,
                alg: 'ES256',
                privateKey: 'enc',
                publicJwk: '{}',
                createdAt: T0,
                activatesAt: T0,
                retiredAt: undefined,
                status: 'active',
              },
            ),
          ),
        );
        expect(starts.filter((start) => start.created)).toHaveLength(1);
        expect(new Set(starts.map((start) => start.resource.resourceId)).size).toBe(1);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
        await dropSchema(schema);
      }
    }
  });

  it('an unreachable database (closed port) is ERR_STORE_UNAVAILABLE and no error shows the URL or password', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const store = createPostgresStore({
      connectionString: `postgres://tessera:${password}@127.0.0.1:1/test`,
      pool: { max: 1, connectionTimeoutMillis: 5_000 },
    });
    const operations: Array<() => Promise<unknown>> = [
      () => store.migrate(),
      () => store.ping(),
      () => store.getIdentity('01941f29-7c00-7000-8000-000000000001'),
      () => store.createIdentity({ id: '01941f29-7c00-7000-8000-000000000001', createdAt: T0 }),
      () => store.revokeIdentityTokens('01941f29-7c00-7000-8000-000000000001', T0),
      () => store.recordTokensIssued([{ id: '01941f29-7c00-7000-8000-000000000001', at: T0 }]),
      () => store.revocationSnapshot(),
    ];
    try {
      for (const operation of operations) {
        const error = await operation().then(
          () => undefined,
          (reason: unknown) => reason,
        );
        expect(isTesseraError(error, 'ERR_STORE_UNAVAILABLE')).toBe(true);
        const shown = `${inspect(error, { depth: 10, showHidden: true })} ${JSON.stringify(error)}`;
        expect(shown).not.toContain(password);
        expect(shown).not.toContain('postgres://');
      }
    } finally {
      await store.close();
    }
  });

  it('a malformed connection string is ERR_CONFIG_INVALID without echoing it', () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    let caught: unknown;
    try {
      createPostgresStore({ connectionString: `postgres://tessera:${password}@[not-a-host/test` });
    } catch (error) {
      caught = error;
    }
    expect(isTesseraError(caught, 'ERR_CONFIG_INVALID')).toBe(true);
    expect(inspect(caught, { depth: 10, showHidden: true })).not.toContain(password);
  });

  it('the schema option isolates stores and must be a plain identifier', async () => {
    const schemaA = newSchema();
    const schemaB = newSchema();
    const a = storeOn(schemaA);
    const b = storeOn(schemaB);
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      await a.createIdentity({ id: '01941f29-7c00-7000-8000-000000000001', customId: 'same', createdAt: T0 });
      expect(await b.getIdentity('01941f29-7c00-7000-8000-000000000001')).toBeUndefined();
      const inB = await b.createIdentity({
        id: '01941f29-7c00-7000-8000-000000000002',
        customId: 'same',
        createdAt: T0,
      });
      expect(inB.created).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([dropSchema(schemaA), dropSchema(schemaB)]);
    }
    expect(() => createPostgresStore({ connectionString: DATABASE_URL, schema: 'x"; DROP TABLE y; --' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('a follower polling listEvents while 3 pools append concurrently never skips an event (seq order == commit order)', async () => {
    const schema = newSchema();
    const writers = [storeOn(schema, 6), storeOn(schema, 6), storeOn(schema, 6)];
    const follower = storeOn(schema, 1);
    const count = 240;
    const ids = Array.from({ length: count }, (_, i) => `01941f29-7c00-7000-8000-${i.toString(16).padStart(12, '0')}`);
    try {
      await Promise.all([...writers, follower].map((store) => store.migrate()));
      for (const id of ids) await follower.createIdentity({ id, createdAt: T0 });
      let writing = true;
      const written = Promise.all(
        ids.map((id, i) => (writers[i % writers.length] ?? follower).revokeIdentityTokens(id, T0 + i)),
      ).finally(() => {
        writing = false;
      });
      // A follower advances its cursor to the last seq it saw, exactly as the SSE feed does. With a plain
      // sequence, seq N+1 can become visible before N commits, and N would be skipped forever.
      const seen: RevocationEvent[] = [];
      let cursor = 0;
      let polls = 0;
      for (;;) {
        const stillWriting = writing;
        const page = await follower.listEvents(cursor, 1_000);
        polls++;
        seen.push(...page);
        cursor = page[page.length - 1]?.seq ?? cursor;
        if (!stillWriting && page.length === 0) break;
      }
      await written;
      expect(polls).toBeGreaterThan(1);
      const all = await follower.listEvents(0, 10_000);
      expect(all).toHaveLength(count);
      expect(seen.map((event) => event.seq)).toStrictEqual(all.map((event) => event.seq));
      // And the counter makes the feed gapless.
      expect(all.map((event) => event.seq)).toStrictEqual(Array.from({ length: count }, (_, i) => i + 1));
    } finally {
      await Promise.all([...writers, follower].map((store) => store.close()));
      await dropSchema(schema);
    }
  });

  it('appending an event NOTIFYs its seq on the schema channel at commit', async () => {
    const schema = newSchema();
    const store = storeOn(schema);
    const listener = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await store.migrate();
      await listener.connect();
      const notified = new Promise<string | undefined>((resolve) => {
        listener.on('notification', (message) => {
          if (message.channel === postgresEventChannel(schema)) resolve(message.payload);
        });
      });
      await listener.query(`LISTEN "${postgresEventChannel(schema)}"`);
      await store.createIdentity({ id: '01941f29-7c00-7000-8000-000000000001', createdAt: T0 });
      await store.revokeIdentityTokens('01941f29-7c00-7000-8000-000000000001', T0 + 1);
      const [event] = await store.listEvents(0, 10);
      expect(await notified).toBe(String(event?.seq));
    } finally {
      await listener.end();
      await store.close();
      await dropSchema(schema);
    }
  });
});
