// State bounded by the token lifetime (issue 16; docs/state-and-retention.md). One million guest sessions over a
// simulated two days, through the store directly with an injected clock: each session creates an identity, issues
// a token (the store's part of an issue: lastTokenIssuedAt) and deletes the identity when the session ends. The
// state pruner runs every simulated minute, as `tessera serve` runs it every 60 s. Every simulated two hours the
// revocation snapshot (entries, bytes of JSON a verifier downloads), the event log, the identities table and the
// database file are printed: after the first retention window (1440 min + 15 min skew) they stay flat.
// Usage: node bench/bounded-state.mjs [--sessions 1000000] [--days 2] [--session-minutes 60]
//        [--store postgres://…]   (default: SQLite in a temp dir, synchronous=normal; PostgreSQL: a schema of its
//        own, dropped at the end, with a plain VACUUM every simulated hour standing in for autovacuum)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { formatRawId, uuidV7 } from '@tessera/core';
import { createSqliteStore, revocationRetentionMs, startStatePruner } from '@tessera/server';
import { table } from './lib/table.mjs';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '2' },
    'session-minutes': { type: 'string', default: '60' },
    store: { type: 'string' },
  },
});
const sessions = Number(values.sessions);
const days = Number(values.days);
const sessionMs = Number(values['session-minutes']) * 60_000;
const MINUTE = 60_000;
const minutes = Math.round((days * 86_400_000) / MINUTE);
const perMinute = sessions / minutes;
const SKEW_MS = 900_000; // --max-clock-skew default
const retentionMs = revocationRetentionMs(SKEW_MS);

const T0 = Date.UTC(2026, 0, 1);
let now = T0;
const clock = () => now;

const dir = mkdtempSync(join(tmpdir(), 'tessera-bounded-'));
let store;
let sizeOf;
let pgSchema;
if (values.store?.startsWith('postgres')) {
  const { createPostgresStore } = await import('../packages/server/dist/store/postgres-store.js');
  const pg = (await import('pg')).default;
  pgSchema = `tessera_bench_bounded_${randomBytes(4).toString('hex')}`;
  store = createPostgresStore({ connectionString: values.store, schema: pgSchema, pool: { max: 4 } });
  const admin = new pg.Pool({ connectionString: values.store, max: 1 });
  sizeOf = async () => {
    const r = await admin.query(
      `SELECT
         (SELECT count(*) FROM "${pgSchema}".identities) AS identities,
         (SELECT count(*) FROM "${pgSchema}".events) AS events,
         (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = $1 AND c.relkind = 'r') AS bytes`,
      [pgSchema],
    );
    const row = r.rows[0];
    return { identities: Number(row.identities), events: Number(row.events), bytes: Number(row.bytes) };
  };
  // Autovacuum returns deleted rows' space for reuse over real time; two simulated days pass here in minutes, so
  // the bench does what autovacuum would, a plain VACUUM (no lock on readers or writers), every simulated hour.
  sizeOf.vacuum = async () => {
    for (const table of ['identities', 'events', 'audit']) await admin.query(`VACUUM "${pgSchema}".${table}`);
  };
  sizeOf.close = async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
    await admin.end();
  };
} else {
  const path = join(dir, 'tessera.db');
  store = createSqliteStore({ path, synchronous: 'normal' });
  const reader = new Database(path, { readonly: true });
  sizeOf = async () => {
    const count = (t) => reader.prepare(`SELECT count(*) AS n FROM ${t}`).get().n;
    const fileBytes = (p) => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    return {
      identities: count('identities'),
      events: count('events'),
      bytes: fileBytes(path) + fileBytes(`${path}-wal`),
    };
  };
  sizeOf.close = async () => reader.close();
}

await store.migrate();
const resourceId = '0c4d5e6f-0000-4000-8000-000000000001';
await store.initResource(
  { resourceId, location: 'europe', createdAt: T0 },
  ['primary', 'secondary', 'verifier'].map((name) => ({ name, version: 1, secret: `sealed:${name}`, updatedAt: T0 })),
  {
    kid: 'bench',
    alg: 'ES256',
    privateKey: 'sealed',
    publicJwk: '{}',
    createdAt: T0,
    status: 'active',
    activatesAt: T0,
    retiredAt: undefined,
  },
);
const pruner = startStatePruner({
  store,
  clock,
  retentionMs,
  auditRetentionMs: 90 * 86_400_000,
  intervalMs: 0,
  onError: (error) => {
    throw error;
  },
});

const rows = [];
const sample = async () => {
  const snapshot = await store.revocationSnapshot();
  const size = await sizeOf();
  const row = {
    'sim. hours': Math.round((now - T0) / 3_600_000),
    sessions: created,
    'snapshot entries': snapshot.identities.length,
    'snapshot KB': Math.round(Buffer.byteLength(JSON.stringify(snapshot)) / 1024),
    'events rows': size.events,
    'identities rows': size.identities,
    'store MB': Math.round(size.bytes / 1024 / 102.4) / 10,
  };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
};

// Sessions end in the order they began: a queue of [endsAt, id].
const live = [];
let head = 0;
let created = 0;
const started = performance.now();
await sample();
for (let minute = 1; minute <= minutes; minute++) {
  now = T0 + minute * MINUTE;
  const due = Math.round(perMinute * minute) - created;
  const ids = [];
  for (let i = 0; i < due; i++) ids.push(formatRawId(resourceId, uuidV7(now + i, randomBytes(10))));
  await Promise.all(ids.map((id) => store.createIdentity({ id, createdAt: now })));
  await store.recordTokensIssued(ids.map((id) => ({ id, at: now })));
  for (const id of ids) live.push([now + sessionMs, id]);
  created += due;
  while (head < live.length && live[head][0] <= now) {
    await store.deleteIdentity(live[head][1], now);
    live[head] = undefined;
    head++;
  }
  if (head > 100_000) {
    live.splice(0, head);
    head = 0;
  }
  await pruner.runOnce();
  if (minute % 60 === 0) await sizeOf.vacuum?.();
  if (minute % 120 === 0) await sample();
}
const seconds = (performance.now() - started) / 1000;
await pruner.close();
await store.close();
await sizeOf.close();
rmSync(dir, { recursive: true, force: true });

console.log(
  `\n${created} guest sessions (${values['session-minutes']} min each) over ${days} simulated days in ${seconds.toFixed(0)} s; ` +
    `retention ${retentionMs / 60_000} min; store ${values.store === undefined ? 'SQLite' : 'PostgreSQL'}\n`,
);
console.log(
  table(
    Object.keys(rows[0]),
    rows.map((row) => Object.values(row)),
  ),
);
