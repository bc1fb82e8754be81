// Tessera's own routes through buildApp(...).inject() on the memory store: the operator's identity listing, the
// revocation snapshot, signing keys, the audit log, custom roles, rate limits and request ids.
import { decodeJwt } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InjectedApp, type InjectedResponse, injectApp } from './inject-app.js';

let t: InjectedApp;
beforeAll(async () => {
  t = await injectApp({ server: { rateLimit: 'issue=3/30' } });
});
afterAll(async () => {
  await t.close();
  expect(t.errors).toStrictEqual([]);
});

const V = '2023-10-01';
const inner = (res: InjectedResponse) => (res.json as { error?: { innererror?: { code: string } } }).error?.innererror;

async function createId(customId?: string): Promise<string> {
  const version = customId === undefined ? V : '2025-03-02-preview';
  const res = await t.acs('POST', `/identities?api-version=${version}`, {
    json: customId === undefined ? {} : { customId },
  });
  expect(res.status, res.text).toBe(201);
  return (res.json as { identity: { id: string } }).identity.id;
}

describe('GET /admin/identities', () => {
  it('pages live identities in id order with a nextLink, filters by customId, leaves deleted ones out', async () => {
    const ids = [await createId(), await createId(), await createId('listed-by-custom-id'), await createId()];
    const gone = ids[3] ?? '';
    expect((await t.acs('DELETE', `/identities/${encodeURIComponent(gone)}?api-version=${V}`)).status).toBe(204);
    const raw = (id: string) => id.split('_')[1] ?? '';
    const seen: string[] = [];
    let next: string | undefined = '/admin/identities?maxPageSize=2';
    while (next !== undefined) {
      const res = await t.acs('GET', next);
      expect(res.status, res.text).toBe(200);
      const page = res.json as { value: Array<{ id: string }>; nextLink?: string };
      expect(page.value.length).toBeLessThanOrEqual(2);
      seen.push(...page.value.map((identity) => identity.id));
      next = page.nextLink;
    }
    const live = ids.slice(0, 3);
    expect(seen).toStrictEqual([...live].sort((a, b) => (raw(a) < raw(b) ? -1 : 1)));
    const byCustomId = await t.acs('GET', '/admin/identities?customId=listed-by-custom-id');
    expect(byCustomId.json).toMatchObject({ value: [{ id: ids[2], customId: 'listed-by-custom-id' }] });
  });

  it.each(['0', '1001', 'x', '1.5'])('maxPageSize=%s → 400 ValidationError on maxPageSize', async (size) => {
    const res = await t.acs('GET', `/admin/identities?maxPageSize=${size}`);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'ValidationError', target: 'maxPageSize' } });
  });
});

describe('GET /revocations/snapshot', () => {
  it('lists revoked and deleted identities with their epochs and the key versions, to the verifier key', async () => {
    const revoked = await createId();
    const deleted = await createId();
    await t.acs('POST', `/identities/${encodeURIComponent(revoked)}/:revokeAccessTokens?api-version=${V}`);
    await t.acs('DELETE', `/identities/${encodeURIComponent(deleted)}?api-version=${V}`);
    const res = await t.acs('GET', '/revocations/snapshot', { accessKey: t.key('verifier') });
    expect(res.status, res.text).toBe(200);
    const snapshot = res.json as {
      seq: number;
      identities: Array<{ id: string; epoch: number; deleted: boolean }>;
      keys: { primary: number; secondary: number };
    };
    expect(snapshot.identities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: revoked, epoch: 1, deleted: false }),
        expect.objectContaining({ id: deleted, epoch: 1, deleted: true }),
      ]),
    );
    expect(snapshot.seq).toBe((await t.store.revocationSnapshot()).seq);
    expect(snapshot.keys).toStrictEqual({ primary: 1, secondary: 1 });
  });
});

describe('signing keys', () => {
  it('rotate → 201, the new key is in JWKS at once and signs once active (activateAfterSeconds 0)', async () => {
    const before = await t.acs('GET', '/admin/signing-keys');
    expect(before.status).toBe(200);
    const rotated = await t.acs('POST', '/admin/signing-keys/:rotate', { json: { activateAfterSeconds: 0 } });
    expect(rotated.status, rotated.text).toBe(201);
    const { key } = rotated.json as { key: { kid: string } };
    const jwks = (await t.raw('GET', '/.well-known/jwks.json')).json as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((jwk) => jwk.kid)).toContain(key.kid);
    const id = await createId();
    const issued = await t.acs('POST', `/identities/${encodeURIComponent(id)}/:issueAccessToken?api-version=${V}`, {
      json: { scopes: ['chat'] },
    });
    expect(decodeJwt((issued.json as { token: string }).token).header.kid).toBe(key.kid);
  });

  it.each([-1, 1.5, '10', 10_000_000])('activateAfterSeconds %j → 400 on activateAfterSeconds', async (value) => {
    const res = await t.acs('POST', '/admin/signing-keys/:rotate', { json: { activateAfterSeconds: value } });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'ValidationError', target: 'activateAfterSeconds' } });
  });

  it('the verifier key may not rotate (403)', async () => {
    const res = await t.acs('POST', '/admin/signing-keys/:rotate', { json: {}, accessKey: t.key('verifier') });
    expect(res.status).toBe(403);
  });
});

describe('audit log and custom roles', () => {
  it('control-plane calls are audited with actor and operation, newest first', async () => {
    const id = await createId();
    await t.acs('DELETE', `/identities/${encodeURIComponent(id)}?api-version=${V}`, { requestId: 'audit-delete' });
    await t.flush();
    const res = await t.acs('GET', '/admin/audit?maxPageSize=50');
    expect(res.status, res.text).toBe(200);
    const text = res.text;
    expect(text).toContain('audit-delete');
    expect(text).toContain('identity.delete');
    expect(text).not.toContain(t.key('primary'));
  });

  it('a custom role is defined, listed and deleted; an assignment to an untrusted issuer → 400', async () => {
    const put = await t.acs('PUT', '/admin/roles/inject-reader', {
      json: { description: 'reads identities', actions: ['identities/read'] },
    });
    expect(put.status, put.text).toBeLessThan(300);
    expect((await t.acs('GET', '/admin/roles')).text).toContain('inject-reader');
    const assign = await t.acs('POST', '/admin/roleAssignments', {
      json: {
        role: 'inject-reader',
        issuer: 'https://login.example/tenant/v2.0',
        principalType: 'objectId',
        principalId: 'x',
      },
    });
    expect(assign.status).toBe(400);
    expect((await t.acs('DELETE', '/admin/roles/inject-reader')).status).toBe(204);
    expect((await t.acs('DELETE', '/admin/roles/inject-reader')).status).toBe(404);
  });
});

describe('rate limits and request ids', () => {
  it('issue over its limit (3 per 30 s here) → 429 with Retry-After; other operations are not counted with it', async () => {
    const id = await createId();
    const issue = () =>
      t.acs('POST', `/identities/${encodeURIComponent(id)}/:issueAccessToken?api-version=${V}`, {
        json: { scopes: ['chat'] },
        accessKey: t.key('secondary'),
      });
    for (let i = 0; i < 3; i++) expect((await issue()).status).toBe(200);
    const limited = await issue();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(inner(limited)?.code).toMatch(/^ERR_RATE/);
    expect((await t.acs('POST', `/identities?api-version=${V}`, { accessKey: t.key('secondary') })).status).toBe(201);
  });

  it('x-ms-client-request-id is echoed on success and on error; without one the server makes one', async () => {
    const ok = await t.acs('POST', `/identities?api-version=${V}`, { requestId: 'req-ok' });
    expect(ok.headers['x-ms-client-request-id']).toBe('req-ok');
    const bad = await t.acs('POST', `/identities?api-version=${V}`, { requestId: 'req-bad', omit: ['x-ms-date'] });
    expect(bad.status).toBe(401);
    expect(bad.headers['x-ms-client-request-id']).toBe('req-bad');
    const none = await t.raw('GET', '/healthz');
    expect(none.headers['x-ms-client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
