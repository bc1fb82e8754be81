import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/index.js';
import { createSharedRateLimiter, type CounterSync } from '../../src/limits/shared-rate-limiter.js';
import { call } from '../cluster/cluster-helpers.js';

describe('rate limits per credential and operation (one process)', () => {
  let server: RunningServer;
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-limits-'));

  beforeAll(async () => {
    server = await startServer({ port: 0, dataDir, logLevel: 'silent', rateLimit: 'create=2/2,issue=3/30' });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('over the limit answers 429 TooManyRequests with Retry-After in seconds and the ACS error body', async () => {
    const id = (
      (await call(server.connectionString, 'POST', '/identities?api-version=2023-10-01')).json.identity as {
        id: string;
      }
    ).id;
    const path = `/identities/${encodeURIComponent(id)}/:issueAccessToken?api-version=2023-10-01`;
    for (let i = 0; i < 3; i++)
      expect((await call(server.connectionString, 'POST', path, { scopes: ['chat'] })).status).toBe(200);
    const url = new URL(path, server.url);
    const { signedHeaders } = await import('../cluster/cluster-helpers.js');
    const body = JSON.stringify({ scopes: ['chat'] });
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...signedHeaders(server.connectionString, 'POST', url, body), 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    const json = (await res.json()) as { error: { code: string; innererror: { code: string } } };
    expect(json.error.code).toBe('TooManyRequests');
    expect(json.error.innererror.code).toBe('ERR_RATE_LIMITED');
  });

  it('limits are per operation: issuing is limited while deleting is not', async () => {
    const id = (
      (await call(server.connectionString, 'POST', '/identities?api-version=2023-10-01')).json.identity as {
        id: string;
      }
    ).id;
    expect(
      (await call(server.connectionString, 'DELETE', `/identities/${encodeURIComponent(id)}?api-version=2023-10-01`))
        .status,
    ).toBe(204);
  });

  it("the official SDK's retry policy honours Retry-After and recovers", async () => {
    const client = new CommunicationIdentityClient(server.connectionString, { allowInsecureConnection: true });
    // Drain the create bucket (2 per 2 s), then one more create must come back 429, wait Retry-After, and succeed.
    await new Promise((r) => setTimeout(r, 2100));
    await client.createUser();
    await client.createUser();
    const started = Date.now();
    const user = await client.createUser();
    expect(user.communicationUserId).toMatch(/^8:acs:/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('shared counters (cluster) decide locally and sync', () => {
  it('admits at most the limit across two processes sharing counters, within one sync of overshoot', async () => {
    // Two limiters share a counter table through `sync`; PostgreSQL plays that role in production
    // (postgres-rate-counters.ts, proven end to end in the cluster test).
    const table = new Map<string, number>();
    const sync: CounterSync = async (deltas) =>
      deltas.map((d) => {
        const key = `${d.credential}|${d.operation}|${d.windowStart}`;
        const total = (table.get(key) ?? 0) + d.count;
        table.set(key, total);
        return { ...d, total };
      });
    const now = () => 1_000_000;
    const policy = { create: { limit: 20, windowSeconds: 30 } };
    const a = createSharedRateLimiter({ policy, clock: now, sync, syncMs: 10_000, onError: () => {} });
    const b = createSharedRateLimiter({ policy, clock: now, sync, syncMs: 10_000, onError: () => {} });
    let admitted = 0;
    for (let i = 0; i < 30; i++) {
      for (const limiter of [a, b]) {
        try {
          await limiter.take('key:primary', 'create');
          admitted++;
        } catch {
          // refused
        }
      }
      if (i % 3 === 2) {
        await a.sync();
        await b.sync();
      }
    }
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(24);
    await a.close();
    await b.close();
  });
});
