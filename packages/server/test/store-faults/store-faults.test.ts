// Faults of the store (issue #16): PostgreSQL behind a proxy the test controls drops, freezes and comes back while
// clients keep creating identities and reading them. Before the fix a frozen database left creates unanswered for
// 60 s and more, every failed call logged an error line, and the LISTEN connection's failures were ERR_INTERNAL.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '@tessera/server';
import {
  acsRequest,
  identityPath,
  PREVIEW,
  type RawResponse,
  type Target,
  targetOf,
  tempDir,
  waitFor,
  type WireErrorBody,
} from '../e2e/helpers.js';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import { startTcpFaultProxy, type TcpFaultProxy } from './tcp-fault-proxy.js';

/** The run's PostgreSQL (the suite's own, or `TESSERA_TEST_PG_URL`). */
const PG_URL = testPostgresUrl();
const STORE_TIMEOUT_MS = 1000;
/** What a request may take past the store bound: HTTP, HMAC, signing, a loaded 2-core machine. */
const MARGIN_MS = 1000;

const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await admin.end();
});

/** One answered (or hung) request of the load. */
interface Outcome {
  readonly op: 'create' | 'get' | 'revoke';
  readonly ms: number;
  readonly status: number | 'hung' | 'network';
  readonly retryAfter: string | undefined;
  readonly code: string | undefined;
  readonly id: string | undefined;
}

/** Log lines the server writes, parsed. */
function captureLog(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  let rest = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      rest += chunk.toString('utf8');
      const parts = rest.split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) if (part !== '') lines.push(JSON.parse(part) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

async function timed(
  op: Outcome['op'],
  send: () => Promise<RawResponse>,
  hangAfterMs: number,
): Promise<Outcome & { json: unknown }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), hangAfterMs);
  });
  const answer = await Promise.race([send().catch(() => 'network' as const), hung]);
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (answer === 'hung' || answer === 'network') {
    return { op, ms, status: answer, retryAfter: undefined, code: undefined, id: undefined, json: undefined };
  }
  const retry = answer.headers['retry-after'];
  return {
    op,
    ms,
    status: answer.status,
    retryAfter: typeof retry === 'string' ? retry : undefined,
    code: (answer.json as WireErrorBody | undefined)?.error?.innererror?.code,
    id: undefined,
    json: answer.json,
  };
}

/** Clients that create identities and read back ones they made, until stopped. */
function startLoad(target: Target, workers: number) {
  const outcomes: Outcome[] = [];
  const created: string[] = [];
  let running = true;
  const hangAfterMs = STORE_TIMEOUT_MS + MARGIN_MS + 5000;
  const worker = async (n: number) => {
    for (let i = 0; running; i++) {
      const known = created[(n * 7919 + i) % Math.max(1, created.length)];
      if (i % 3 === 2 && known !== undefined) {
        const op = i % 6 === 5 ? 'revoke' : 'get';
        const outcome = await timed(
          op,
          () =>
            op === 'get'
              ? acsRequest(target, 'GET', identityPath(known, '', PREVIEW))
              : acsRequest(target, 'POST', identityPath(known, '/:revokeAccessTokens', '2025-06-30')),
          hangAfterMs,
        );
        const { json: _body, ...answered } = outcome;
        outcomes.push(answered);
      } else {
        const outcome = await timed(
          'create',
          () => acsRequest(target, 'POST', '/identities?api-version=2025-06-30', { json: {} }),
          hangAfterMs,
        );
        const id = outcome.status === 201 ? (outcome.json as { identity: { id: string } }).identity.id : undefined;
        if (id !== undefined) created.push(id);
        const { json: _created, ...answered } = outcome;
        outcomes.push({ ...answered, id });
      }
      // A little pacing so the 2-core machine serves the load and the test alike.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, n) => worker(n)));
  return {
    outcomes,
    created,
    async stop() {
      running = false;
      await done;
    },
  };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function startBehindProxy(): Promise<{
  server: RunningServer;
  proxy: TcpFaultProxy;
  schema: string;
  log: ReturnType<typeof captureLog>;
}> {
  const pgUrl = new URL(PG_URL);
  const proxy = await startTcpFaultProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  cleanups.push(() => proxy.close());
  const schema = `tessera_faults_${randomBytes(5).toString('hex')}`;
  cleanups.push(async () => void (await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)));
  const viaProxy = new URL(PG_URL);
  viaProxy.port = String(proxy.port);
  viaProxy.searchParams.set('schema', schema);
  const dir = tempDir('tessera-faults-');
  cleanups.push(async () => dir.cleanup());
  const log = captureLog();
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: dir.path,
    store: viaProxy.toString(),
    storeTimeoutMs: STORE_TIMEOUT_MS,
    rateLimit: 'off',
    pollMs: 200,
    logLevel: 'info',
    logDestination: log.stream,
  });
  cleanups.push(() => server.close());
  return { server, proxy, schema, log };
}

describe('a PostgreSQL that freezes, drops and comes back, under load', () => {
  it('answers every request within the store bound with 2xx or 503 + Retry-After, loses no acknowledged write, recovers by itself, and logs each outage once', async () => {
    const { server, proxy, schema, log } = await startBehindProxy();
    const target = targetOf(server.connectionString);
    const load = startLoad(target, 8);

    await sleep(1500);
    proxy.setMode('freeze');
    await sleep(3500);
    proxy.setMode('pass');
    // Recovery with no help: creates succeed again.
    await waitFor(() => load.outcomes.slice(-8).some((o) => o.op === 'create' && o.status === 201), 15_000);
    const freezeSeen = load.outcomes.length;
    await sleep(1000);
    proxy.setMode('drop');
    await sleep(2500);
    proxy.setMode('pass');
    await waitFor(
      () => load.outcomes.slice(freezeSeen).filter((o) => o.op === 'create' && o.status === 201).length > 50,
      15_000,
    );
    await sleep(500);
    await load.stop();

    const { outcomes } = load;
    const unavailable = outcomes.filter((o) => o.status === 503);
    // The faults really happened, and the load went on around them.
    expect(unavailable.length).toBeGreaterThan(8);
    expect(outcomes.filter((o) => o.status === 201).length).toBeGreaterThan(100);

    // Only 2xx, or 503 ERR_STORE_UNAVAILABLE with Retry-After: never a hang, a dropped connection or a 500.
    const strays = outcomes.filter(
      (o) =>
        !(typeof o.status === 'number' && o.status >= 200 && o.status < 300) &&
        !(o.status === 503 && o.code === 'ERR_STORE_UNAVAILABLE' && o.retryAfter !== undefined),
    );
    expect(strays).toStrictEqual([]);
    for (const o of unavailable) expect(Number(o.retryAfter)).toBeGreaterThanOrEqual(1);

    // No request outlived the bound (plus a margin for HTTP and a loaded machine).
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    expect(slowest).toBeLessThan(STORE_TIMEOUT_MS + MARGIN_MS);

    // Every 201'd identity is in the database.
    const ids = load.created;
    const stored = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".identities WHERE id = ANY($1::text[])`,
      [ids],
    );
    expect(Number(stored.rows[0]?.n)).toBe(ids.length);

    // The log names each outage once and its end once; no per-request error lines, no ERR_INTERNAL.
    const messages = log.lines.filter((l) => l.msg !== 'request');
    expect(messages.filter((l) => l.msg === 'store unavailable')).toHaveLength(2);
    expect(messages.filter((l) => l.msg === 'store available again')).toHaveLength(2);
    expect(messages.filter((l) => l.msg === 'request failed')).toStrictEqual([]);
    expect(messages.filter((l) => l.code === 'ERR_INTERNAL')).toStrictEqual([]);
    for (const line of messages.filter((l) => l.msg === 'store unavailable')) {
      expect(line.code).toBe('ERR_STORE_UNAVAILABLE');
      expect(JSON.stringify(line)).not.toContain('postgres://');
    }
  }, 90_000);
});
