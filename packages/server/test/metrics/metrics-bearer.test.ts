// GET /metrics on the main port (--metrics-api) for an Entra ID / OIDC principal: only with the metrics/read data
// action (the built-in metrics-reader role), over HTTPS, from a real OpenID provider's client-credentials token.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startTestProvider,
  startTlsServer,
  type TestProvider,
  type TlsServer,
  tlsRequest,
} from '../oidc/oidc-helpers.js';

let provider: TestProvider;
let tessera: TlsServer;

beforeAll(async () => {
  provider = await startTestProvider();
  tessera = await startTlsServer({ trustedIssuers: [{ issuer: provider.issuer }], metricsApi: true });
});
afterAll(async () => {
  await tessera?.close();
  await provider?.close();
});

function scrape(bearer: string): Promise<{ status: number; text: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL('/metrics', tessera.url),
      { headers: { authorization: `Bearer ${bearer}` }, ca: tessera.ca },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, type: res.headers['content-type'] }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function assign(role: string, clientId: string): Promise<void> {
  const { status } = await tlsRequest(
    tessera,
    'POST',
    '/admin/roleAssignments',
    { accessKey: tessera.primaryKey },
    {
      role,
      issuer: provider.issuer,
      principalType: 'appId',
      principalId: clientId,
    },
  );
  expect(status).toBe(201);
}

describe('metrics for bearer principals', () => {
  it('refuses a principal without metrics/read (no role, or a role without it) and serves one with metrics-reader', async () => {
    const ec = provider.clients.ecApp;
    const none = await scrape((await provider.clientToken(ec)).token);
    expect(none.status).toBe(403);
    expect(none.text).not.toContain('tessera_requests_total');

    await assign('identity-administrator', provider.clients.admin.clientId);
    const admin = await scrape((await provider.clientToken(provider.clients.admin)).token);
    expect(admin.status).toBe(403);
    expect(JSON.parse(admin.text).error.innererror.code).toBe('ERR_FORBIDDEN');
    expect(admin.text).toContain("'metrics/read'");

    await assign('metrics-reader', ec.clientId);
    const reader = await scrape((await provider.clientToken(ec)).token);
    expect(reader.status).toBe(200);
    expect(reader.type).toMatch(/^text\/plain/);
    expect(reader.text).toContain('tessera_requests_total{operation="metrics.scrape",status="403"} 2');
  });
});
