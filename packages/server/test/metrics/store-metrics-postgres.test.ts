// Store metrics on PostgreSQL, through a TCP proxy the test can cut: query latency and errors by store method, and
// tessera_store_up going to 0 while the database is unreachable and back to 1 when it returns.
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { acsRequest, startTestServer, type TestServer } from '../e2e/helpers.js';
import { sampleValue } from './exposition.js';

const DATABASE_URL = testPostgresUrl();
const schema = `tessera_metrics_${randomBytes(5).toString('hex')}`;
const upstream = new URL(DATABASE_URL);
let proxy: Server | undefined;
let proxyPort = 0;
const sockets = new Set<Socket>();
let ts: TestServer;

function openProxy(port: number): Promise<number> {
  const server = createServer((client) => {
    const db = connect(Number(upstream.port || 5432), upstream.hostname);
    for (const s of [client, db]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(db).pipe(client);
  });
  proxy = server;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function cutProxy(): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((resolve) => (proxy === undefined ? resolve() : proxy.close(() => resolve())));
}

async function scrape(): Promise<string> {
  return (await fetch(ts.server.metricsUrl ?? '')).text();
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  proxyPort = await openProxy(0);
  const url = new URL(DATABASE_URL);
  url.hostname = '127.0.0.1';
  url.port = String(proxyPort);
  url.searchParams.set('schema', schema);
  ts = await startTestServer({ store: url.toString(), metricsPort: 0 });
});

afterAll(async () => {
  await ts?.close();
  await cutProxy();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

describe('store metrics on PostgreSQL', () => {
  it('time and count store calls by method, and report the store down while it is unreachable, then up again', async () => {
    const target = { url: ts.url, accessKey: ts.primaryKey };
    expect((await acsRequest(target, 'POST', '/identities?api-version=2023-10-01')).status).toBe(201);
    let text = await scrape();
    expect(sampleValue(text, 'tessera_store_up')).toBe(1);
    expect(sampleValue(text, 'tessera_store_query_duration_seconds_count', { query: 'createIdentity' })).toBe(1);
    expect(sampleValue(text, 'tessera_store_errors_total', { query: 'createIdentity' })).toBe(0);

    await cutProxy();
    const failed = await acsRequest(target, 'POST', '/identities?api-version=2023-10-01');
    expect(failed.status).toBeGreaterThanOrEqual(500);
    text = await scrape();
    expect(sampleValue(text, 'tessera_store_up')).toBe(0);
    expect(sampleValue(text, 'tessera_store_errors_total', { query: 'createIdentity' })).toBe(1);
    expect(
      sampleValue(text, 'tessera_requests_total', { operation: 'identity.create', status: String(failed.status) }),
    ).toBe(1);

    await openProxy(proxyPort);
    await until('the store to be up again', async () => sampleValue(await scrape(), 'tessera_store_up') === 1);
  });
});
