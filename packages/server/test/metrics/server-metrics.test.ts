// GET /metrics of the identity server: what is counted, that identity ids never become label values, and who may
// read it (a separate listener, or the main port for metrics/read holders only).
import { type ClientRequest, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  identityPath,
  PREVIEW,
  rawRequest,
  signRequest,
  startTestServer,
  type Target,
  type TestServer,
} from '../e2e/helpers.js';
import { parseExposition, sampleValue } from './exposition.js';

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe('identity server metrics on a separate listener', () => {
  let ts: TestServer;
  let target: Target;
  let metricsUrl: string;
  const ids: string[] = [];

  beforeAll(async () => {
    // A frozen clock 1 s into a 30 s window: the utilisation read below does not depend on when the test runs.
    const frozen = Math.floor(Date.now() / 30_000) * 30_000 + 1000;
    ts = await startTestServer({ metricsPort: 0, rateLimit: 'issue=10/30,create=100/30', clock: () => frozen });
    target = { url: ts.url, accessKey: ts.primaryKey };
    metricsUrl = ts.server.metricsUrl ?? '';
    for (let i = 0; i < 3; i++) ids.push((await createIdentity(target)).identity.id);
  });
  afterAll(async () => {
    await ts?.close();
  });

  const issue = (id: string, scopes: string[]) =>
    acsRequest(target, 'POST', identityPath(id, '/:issueAccessToken'), { json: { scopes } });

  it('serves only GET /metrics, unauthenticated, on its own port', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(metricsUrl).port).not.toBe(new URL(ts.url).port);
    expect((await fetch(new URL('/identities', metricsUrl))).status).toBe(404);
    // Off on the main port unless --metrics-api.
    expect((await rawRequest({ baseUrl: ts.url, method: 'GET', path: '/metrics' })).status).toBe(404);
  });

  it('counts requests by operation and status, tokens by scope set, and rate-limit decisions and utilisation', async () => {
    const id = ids[0] as string;
    for (let i = 0; i < 7; i++) expect((await issue(id, ['voip', 'chat'])).status).toBe(200);
    const text = await scrape(metricsUrl);
    expect(sampleValue(text, 'tessera_requests_total', { operation: 'identity.issueToken', status: '200' })).toBe(7);
    expect(sampleValue(text, 'tessera_requests_total', { operation: 'identity.create', status: '201' })).toBe(3);
    expect(sampleValue(text, 'tessera_request_duration_seconds_count', { operation: 'identity.issueToken' })).toBe(7);
    expect(sampleValue(text, 'tessera_tokens_issued_total', { scopes: 'chat,voip' })).toBe(7);
    expect(sampleValue(text, 'tessera_identities_created_total')).toBe(3);
    expect(
      sampleValue(text, 'tessera_rate_limit_decisions_total', {
        operation: 'issue',
        credential: 'primary',
        decision: 'allowed',
      }),
    ).toBe(7);
    expect(
      sampleValue(text, 'tessera_rate_limit_utilisation_ratio', { operation: 'issue', credential: 'primary' }),
    ).toBe(0.7);
    expect(sampleValue(text, 'tessera_rate_limit_limit', { operation: 'issue', window_seconds: '30' })).toBe(10);
  });

  it('counts refusals and lets utilisation pass 1 while a credential is refused', async () => {
    const id = ids[1] as string;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await issue(id, ['chat'])).status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    const text = await scrape(metricsUrl);
    const limited = statuses.filter((s) => s === 429).length;
    expect(
      sampleValue(text, 'tessera_rate_limit_decisions_total', {
        operation: 'issue',
        credential: 'primary',
        decision: 'limited',
      }),
    ).toBe(limited);
    expect(sampleValue(text, 'tessera_requests_total', { operation: 'identity.issueToken', status: '429' })).toBe(
      limited,
    );
    expect(
      sampleValue(text, 'tessera_rate_limit_utilisation_ratio', { operation: 'issue', credential: 'primary' }),
    ).toBe(1.3);
  });

  it('counts deletions and revocations, store queries, the feed and the process', async () => {
    expect((await acsRequest(target, 'POST', identityPath(ids[2] as string, '/:revokeAccessTokens'))).status).toBe(204);
    expect((await acsRequest(target, 'DELETE', identityPath(ids[2] as string))).status).toBe(204);
    const text = await scrape(metricsUrl);
    expect(sampleValue(text, 'tessera_token_revocations_total')).toBe(1);
    expect(sampleValue(text, 'tessera_identities_deleted_total')).toBe(1);
    expect(sampleValue(text, 'tessera_store_query_duration_seconds_count', { query: 'createIdentity' })).toBe(3);
    expect(sampleValue(text, 'tessera_store_errors_total', { query: 'createIdentity' })).toBe(0);
    expect(sampleValue(text, 'tessera_store_up')).toBe(1);
    expect(sampleValue(text, 'tessera_revocation_feed_subscribers')).toBe(0);
    expect(sampleValue(text, 'tessera_revocation_propagation_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sampleValue(text, 'tessera_signing_queue_depth')).toBe(0);
    expect(sampleValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(sampleValue(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('never uses an identity id, or any request URL, as a label value', async () => {
    // Every route that carries an id, including an unknown id (404) and a malformed one (400).
    const unknown = ids[0]?.replace(/.{4}$/, 'ffff') as string;
    await acsRequest(target, 'GET', identityPath(unknown, '', PREVIEW));
    await acsRequest(target, 'GET', identityPath('8:acs:not-an-id', '', PREVIEW));
    await rawRequest({ baseUrl: ts.url, method: 'GET', path: `/nowhere/${encodeURIComponent(unknown)}` });
    await acsRequest(target, 'GET', identityPath(ids[0] as string, '', PREVIEW));
    const text = await scrape(metricsUrl);
    const values = parseExposition(text).flatMap((s) => Object.values(s.labels));
    const uuids = [...ids, unknown].map((id) => id.slice(-36));
    for (const value of values) {
      expect(value).not.toMatch(/acs:|\/identities|\/nowhere/);
      for (const uuid of uuids) expect(value).not.toContain(uuid);
    }
    for (const uuid of uuids) expect(text).not.toContain(uuid);
    expect(sampleValue(text, 'tessera_requests_total', { operation: 'identity.get', status: '404' })).toBe(1);
    expect(sampleValue(text, 'tessera_requests_total', { operation: 'identity.get', status: '200' })).toBe(1);
    expect(sampleValue(text, 'tessera_requests_total', { operation: 'GET unmatched', status: '404' })).toBe(2);
  });
});

describe('revocation feed metrics', () => {
  it('count the verifiers connected to the feed, and time each revocation from commit to broadcast', async () => {
    const ts = await startTestServer({ metricsPort: 0 });
    const subscribers: ClientRequest[] = [];
    try {
      const target = { url: ts.url, accessKey: ts.primaryKey };
      const { identity } = await createIdentity(target);
      const base = new URL(ts.url);
      const subscribe = () =>
        new Promise<void>((resolve, reject) => {
          const signed = signRequest({
            method: 'GET',
            pathAndQuery: '/revocations',
            host: base.host,
            body: '',
            accessKey: ts.verifierKey,
          });
          const req = httpRequest(
            {
              host: base.hostname,
              port: base.port,
              path: '/revocations',
              headers: {
                'x-ms-date': signed.date,
                'x-ms-content-sha256': signed.contentHash,
                authorization: signed.authorization,
              },
            },
            (res) => {
              expect(res.statusCode).toBe(200);
              res.once('data', () => resolve());
            },
          );
          req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
          req.end();
          subscribers.push(req);
        });
      await subscribe();
      await subscribe();
      let text = await scrape(ts.server.metricsUrl ?? '');
      expect(sampleValue(text, 'tessera_revocation_feed_subscribers')).toBe(2);
      const before = sampleValue(text, 'tessera_revocation_propagation_seconds_count') ?? 0;
      expect((await acsRequest(target, 'POST', identityPath(identity.id, '/:revokeAccessTokens'))).status).toBe(204);
      subscribers.pop()?.destroy();
      for (let i = 0; i < 50; i++) {
        text = await scrape(ts.server.metricsUrl ?? '');
        const settled =
          sampleValue(text, 'tessera_revocation_feed_subscribers') === 1 &&
          sampleValue(text, 'tessera_revocation_propagation_seconds_count') === before + 1;
        if (settled) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(sampleValue(text, 'tessera_revocation_feed_subscribers')).toBe(1);
      expect(sampleValue(text, 'tessera_revocation_propagation_seconds_count')).toBe(before + 1);
    } finally {
      for (const req of subscribers) req.destroy();
      await ts.close();
    }
  });
});

describe('identity server metrics on the main port (--metrics-api)', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer({ metricsApi: true });
  });
  afterAll(async () => {
    await ts?.close();
  });

  it('answers the verifier key and a full-control key, and refuses anonymous callers', async () => {
    const anonymous = await rawRequest({ baseUrl: ts.url, method: 'GET', path: '/metrics' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toContain('tessera_requests_total');
    for (const accessKey of [ts.verifierKey, ts.primaryKey]) {
      const res = await acsRequest({ url: ts.url, accessKey }, 'GET', '/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toContain('# TYPE tessera_requests_total counter');
    }
    expect(ts.server.metricsUrl).toBeUndefined();
  });
});

describe('metrics off (the default)', () => {
  it('serves no /metrics anywhere', async () => {
    const ts = await startTestServer();
    try {
      expect(ts.server.metricsUrl).toBeUndefined();
      const res = await acsRequest({ url: ts.url, accessKey: ts.primaryKey }, 'GET', '/metrics');
      expect(res.status).toBe(404);
    } finally {
      await ts.close();
    }
  });
});
