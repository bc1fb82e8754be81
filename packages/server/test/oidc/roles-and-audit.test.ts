// Role-based access for bearer principals (built-in and custom roles, assignments managed through
// /admin/roles and /admin/roleAssignments under roles/read and roles/write) and the control-plane audit log
// (/admin/audit under audit/read): who, what, which identity, when, outcome — and never a token or a key.
import { parseConnectionString } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureKey,
  type JwksFixture,
  serviceAccountClaims,
  signJwt,
  startJwksFixture,
} from '../../../oidc/test/jwks-fixture.js';
import { startTlsServer, type TlsServer, tlsRequest } from './oidc-helpers.js';

const AUDIENCE = 'tessera';
const key = fixtureKey('k1', 'ES256');
let issuer: JwksFixture;
let tessera: TlsServer;

const primary = () => ({ accessKey: tessera.primaryKey });
const verifier = () => ({ accessKey: parseConnectionString(tessera.server.verifierConnectionString).accessKey });
/** A bearer token for a service account `name` of the fixture issuer. */
const bearer = (name: string) => ({
  bearer: signJwt(key, serviceAccountClaims(issuer.issuer, 'ops', name, AUDIENCE)),
});
const subjectOf = (name: string) => `system:serviceaccount:ops:${name}`;

async function assign(role: string, name: string): Promise<string> {
  const { status, json } = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
    role,
    issuer: issuer.issuer,
    principalType: 'subject',
    principalId: subjectOf(name),
  });
  expect(status, JSON.stringify(json)).toBe(201);
  return String(json.id);
}

beforeAll(async () => {
  issuer = await startJwksFixture([key]);
  tessera = await startTlsServer({
    trustedIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: [AUDIENCE] }],
  });
});

afterAll(async () => {
  await tessera?.close();
  await issuer?.close();
});

describe('roles', () => {
  it('lists the built-in roles by data action', async () => {
    const { status, json } = await tlsRequest(tessera, 'GET', '/admin/roles', primary());
    expect(status).toBe(200);
    const roles = new Map(
      (json.value as Array<{ name: string; actions: string[]; builtIn: boolean }>).map((r) => [r.name, r]),
    );
    expect(roles.get('identity-administrator')?.actions).toStrictEqual([
      'identities/create',
      'identities/read',
      'identities/delete',
      'tokens/issue',
      'tokens/revoke',
      'tokens/exchange',
    ]);
    expect(roles.get('token-issuer')?.actions).toStrictEqual(['identities/read', 'tokens/issue']);
    expect(roles.get('reader')?.actions).toStrictEqual(['identities/read']);
    expect(roles.get('verifier')?.actions).toStrictEqual(['tokens/introspect', 'revocations/read', 'rooms/decide']);
    expect(roles.get('rooms-administrator')?.actions).toStrictEqual(['rooms/read', 'rooms/write', 'rooms/decide']);
    expect(roles.get('rooms-reader')?.actions).toStrictEqual(['rooms/read']);
    expect(roles.get('owner')?.actions).toEqual(expect.arrayContaining(['rooms/read', 'rooms/write', 'rooms/decide']));
    expect(roles.get('key-administrator')?.actions).toStrictEqual(['keys/read', 'keys/write']);
    expect(roles.get('auditor')?.actions).toStrictEqual(['audit/read', 'roles/read']);
    for (const role of roles.values()) expect(role.builtIn).toBe(true);
  });

  it('a custom role grants exactly its actions, cannot be removed while assigned, and goes away cleanly', async () => {
    const defined = await tlsRequest(tessera, 'PUT', '/admin/roles/revoker', primary(), {
      actions: ['identities/create', 'tokens/revoke'],
      description: 'create and revoke, never issue',
    });
    expect(defined.status).toBe(200);
    expect(defined.json).toMatchObject({
      name: 'revoker',
      actions: ['identities/create', 'tokens/revoke'],
      builtIn: false,
    });
    const id = await assign('revoker', 'janitor');

    const created = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', bearer('janitor'));
    expect(created.status).toBe(201);
    const identityId = encodeURIComponent(String((created.json.identity as { id: string }).id));
    const revoked = await tlsRequest(
      tessera,
      'POST',
      `/identities/${identityId}/:revokeAccessTokens?api-version=2023-10-01`,
      bearer('janitor'),
    );
    expect(revoked.status).toBe(204);
    const issue = await tlsRequest(
      tessera,
      'POST',
      `/identities/${identityId}/:issueAccessToken?api-version=2023-10-01`,
      bearer('janitor'),
      { scopes: ['chat'] },
    );
    expect(issue.status).toBe(403);
    expect(issue.json).toMatchObject({ error: { code: 'Forbidden', innererror: { code: 'ERR_FORBIDDEN' } } });
    expect(String((issue.json.error as { message: string }).message)).toContain("'tokens/issue'");

    // Redefining a custom role changes what its holders may do at once.
    await tlsRequest(tessera, 'PUT', '/admin/roles/revoker', primary(), { actions: ['tokens/revoke', 'tokens/issue'] });
    const issuedNow = await tlsRequest(
      tessera,
      'POST',
      `/identities/${identityId}/:issueAccessToken?api-version=2023-10-01`,
      bearer('janitor'),
      { scopes: ['chat'] },
    );
    expect(issuedNow.status).toBe(200);

    const busy = await tlsRequest(tessera, 'DELETE', '/admin/roles/revoker', primary());
    expect(busy.status).toBe(400);
    expect(String((busy.json.error as { message: string }).message)).toContain('still assigned');
    expect((await tlsRequest(tessera, 'DELETE', `/admin/roleAssignments/${id}`, primary())).status).toBe(204);
    expect((await tlsRequest(tessera, 'DELETE', '/admin/roles/revoker', primary())).status).toBe(204);
    expect((await tlsRequest(tessera, 'DELETE', '/admin/roles/revoker', primary())).status).toBe(404);
    const after = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', bearer('janitor'));
    expect(after.status).toBe(403);
  });

  it('validates definitions and assignments, naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/admin/roles/reader', { actions: ['identities/read'] }, 'name'],
      ['PUT', '/admin/roles/Bad_Name', { actions: ['identities/read'] }, 'name'],
      ['PUT', '/admin/roles/ok-name', { actions: ['identities/fly'] }, 'actions'],
      ['PUT', '/admin/roles/ok-name', { actions: [] }, 'actions'],
      [
        'POST',
        '/admin/roleAssignments',
        { role: 'nope', issuer: issuer.issuer, principalType: 'subject', principalId: 'x' },
        'role',
      ],
      [
        'POST',
        '/admin/roleAssignments',
        { role: 'reader', issuer: `${issuer.issuer}/`, principalType: 'subject', principalId: 'x' },
        'issuer',
      ],
      [
        'POST',
        '/admin/roleAssignments',
        { role: 'reader', issuer: issuer.issuer, principalType: 'user', principalId: 'x' },
        'principalType',
      ],
      [
        'POST',
        '/admin/roleAssignments',
        { role: 'reader', issuer: issuer.issuer, principalType: 'subject' },
        'principalId',
      ],
    ];
    for (const [method, path, body, target] of cases) {
      const { status, json } = await tlsRequest(tessera, method, path, primary(), body);
      expect(status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect((json.error as { target: string }).target).toBe(target);
    }
    const untrusted = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
      role: 'reader',
      issuer: `${issuer.issuer}/`,
      principalType: 'subject',
      principalId: 'x',
    });
    expect(String((untrusted.json.error as { message: string }).message)).toContain(issuer.issuer);
    expect((await tlsRequest(tessera, 'DELETE', '/admin/roleAssignments/no-such-id', primary())).status).toBe(404);
  });

  it('assigning twice is idempotent: the same assignment, 200 instead of 201', async () => {
    const body = { role: 'reader', issuer: issuer.issuer, principalType: 'subject', principalId: subjectOf('twice') };
    const first = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), body);
    const second = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), body);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.json.id).toBe(first.json.id);
    const list = await tlsRequest(tessera, 'GET', '/admin/roleAssignments', primary());
    expect((list.json.value as Array<{ id: string }>).filter((a) => a.id === first.json.id)).toHaveLength(1);
    await tlsRequest(tessera, 'DELETE', `/admin/roleAssignments/${String(first.json.id)}`, primary());
  });

  it('role management needs roles/read and roles/write: the verifier key and an auditor are refused writes', async () => {
    const denied = await tlsRequest(tessera, 'GET', '/admin/roleAssignments', verifier());
    expect(denied.status).toBe(403);
    expect(String((denied.json.error as { message: string }).message)).toContain("'roles/read'");

    await assign('auditor', 'auditor');
    expect((await tlsRequest(tessera, 'GET', '/admin/roleAssignments', bearer('auditor'))).status).toBe(200);
    const write = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', bearer('auditor'), {
      role: 'owner',
      issuer: issuer.issuer,
      principalType: 'subject',
      principalId: subjectOf('auditor'),
    });
    expect(write.status).toBe(403);
    expect(String((write.json.error as { message: string }).message)).toContain("'roles/write'");

    // A role administrator (a bearer principal) manages assignments; it is recorded as the creator.
    await assign('role-administrator', 'iam');
    const byBearer = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', bearer('iam'), {
      role: 'reader',
      issuer: issuer.issuer,
      principalType: 'subject',
      principalId: subjectOf('new-reader'),
    });
    expect(byBearer.status).toBe(201);
    expect(byBearer.json.createdBy).toBe(`bearer:${issuer.issuer}#${subjectOf('iam')}`);
  });

  it('a group or app-role claim can carry the assignment', async () => {
    const groupToken = {
      bearer: signJwt(key, {
        ...serviceAccountClaims(issuer.issuer, 'ops', 'grouped', AUDIENCE),
        groups: ['g-1', 'G-admins'],
      }),
    };
    expect((await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', groupToken)).status).toBe(403);
    const { json } = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
      role: 'identity-administrator',
      issuer: issuer.issuer,
      principalType: 'group',
      principalId: 'G-admins',
    });
    expect((await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', groupToken)).status).toBe(201);
    await tlsRequest(tessera, 'DELETE', `/admin/roleAssignments/${String(json.id)}`, primary());
    const roleToken = {
      bearer: signJwt(key, { ...serviceAccountClaims(issuer.issuer, 'ops', 'app', AUDIENCE), roles: ['Tessera.Read'] }),
    };
    await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
      role: 'reader',
      issuer: issuer.issuer,
      principalType: 'appRole',
      principalId: 'Tessera.Read',
    });
    const created = await tlsRequest(tessera, 'POST', '/identities?api-version=2025-03-02-preview', primary());
    const id = encodeURIComponent(String((created.json.identity as { id: string }).id));
    expect(
      (await tlsRequest(tessera, 'GET', `/identities/${id}?api-version=2025-03-02-preview`, roleToken)).status,
    ).toBe(200);
  });
});

describe('audit log', () => {
  it('records every control-plane call — who, what, which identity, outcome — and never a token or key', async () => {
    const since = Date.now();
    const tokens: string[] = [];
    const created = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', primary(), {
      createTokenWithScopes: ['chat'],
    });
    tokens.push(String((created.json.accessToken as { token: string }).token));
    const identityId = String((created.json.identity as { id: string }).id);
    const path = `/identities/${encodeURIComponent(identityId)}`;
    const issued = await tlsRequest(tessera, 'POST', `${path}/:issueAccessToken?api-version=2023-10-01`, primary(), {
      scopes: ['voip'],
    });
    tokens.push(String(issued.json.token));
    await tlsRequest(tessera, 'POST', '/tokens/:introspect', primary(), { token: issued.json.token });
    const denied = await tlsRequest(tessera, 'DELETE', `${path}?api-version=2023-10-01`, verifier());
    expect(denied.status).toBe(403);
    const forged = await tlsRequest(tessera, 'DELETE', `${path}?api-version=2023-10-01`, {
      accessKey: Buffer.alloc(64, 7).toString('base64'),
    });
    expect(forged.status).toBe(401);
    const bearerToken = bearer('nobody');
    tokens.push(bearerToken.bearer);
    await tlsRequest(tessera, 'POST', `${path}/:revokeAccessTokens?api-version=2023-10-01`, bearerToken);
    await tlsRequest(tessera, 'POST', `${path}/:revokeAccessTokens?api-version=2023-10-01`, primary());
    const keys = await tlsRequest(tessera, 'GET', '/admin/keys', primary());
    const regenerated = await tlsRequest(tessera, 'POST', '/admin/keys/:regenerate', primary(), { key: 'secondary' });
    await tlsRequest(tessera, 'DELETE', `${path}?api-version=2023-10-01`, primary());

    const audit = await tlsRequest(
      tessera,
      'GET',
      `/admin/audit?identity=${encodeURIComponent(identityId)}&since=${since}`,
      primary(),
    );
    expect(audit.status).toBe(200);
    const entries = (audit.json.value as Array<Record<string, unknown>>).map((e) => ({
      actor: e.actor,
      operation: e.operation,
      outcome: e.outcome,
      status: e.status,
      code: e.code,
    }));
    // Newest first.
    expect(entries).toStrictEqual([
      { actor: 'key:primary', operation: 'identity.delete', outcome: 'success', status: 204, code: undefined },
      { actor: 'key:primary', operation: 'identity.revokeTokens', outcome: 'success', status: 204, code: undefined },
      {
        actor: `bearer:${issuer.issuer}#${subjectOf('nobody')}`,
        operation: 'identity.revokeTokens',
        outcome: 'failure',
        status: 403,
        code: 'ERR_FORBIDDEN',
      },
      { actor: 'key:verifier', operation: 'identity.delete', outcome: 'failure', status: 403, code: 'ERR_FORBIDDEN' },
      // A successful issue is not audited (hot path; it has its request log line) — a refused one is, below.
      { actor: 'key:primary', operation: 'identity.create', outcome: 'success', status: 201, code: undefined },
    ]);
    const refused = await tlsRequest(tessera, 'POST', `${path}/:issueAccessToken?api-version=2023-10-01`, verifier(), {
      scopes: ['chat'],
    });
    expect(refused.status).toBe(403);
    const all = await tlsRequest(tessera, 'GET', `/admin/audit?since=${since}`, primary());
    const ops = (all.json.value as Array<Record<string, unknown>>).map((e) => `${e.operation}:${e.status}`);
    expect(ops).toContain('identity.delete:401');
    expect(ops).toContain('admin.keys.list:200');
    expect(ops).not.toContain('token.introspect:200');
    expect(ops).not.toContain('identity.issueToken:200');
    expect(ops).toContain('identity.issueToken:403');
    const regen = (all.json.value as Array<Record<string, unknown>>).find(
      (e) => e.operation === 'admin.keys.regenerate',
    );
    expect(regen).toMatchObject({ actor: 'key:primary', detail: 'key=secondary', status: 200 });
    const unauthenticated = (all.json.value as Array<Record<string, unknown>>).find((e) => e.status === 401);
    expect(unauthenticated).toMatchObject({ actor: 'unauthenticated', code: 'ERR_AUTH_SIGNATURE_MISMATCH' });

    const text = JSON.stringify(all.json);
    const secrets = [
      ...tokens.map((t) => t.split('.')[2] ?? ''),
      ...Object.values(keys.json).map(String),
      ...Object.values(regenerated.json).map(String),
    ];
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('filters by since and limit, and pages backwards with nextBefore', async () => {
    const future = await tlsRequest(tessera, 'GET', `/admin/audit?since=${Date.now() + 60_000}`, primary());
    expect(future.json.value).toStrictEqual([]);
    const page = await tlsRequest(tessera, 'GET', '/admin/audit?limit=2', primary());
    const first = page.json.value as Array<{ seq: number }>;
    expect(first).toHaveLength(2);
    expect(page.json.nextBefore).toBe(first[1]?.seq);
    const next = await tlsRequest(
      tessera,
      'GET',
      `/admin/audit?limit=2&before=${String(page.json.nextBefore)}`,
      primary(),
    );
    const second = next.json.value as Array<{ seq: number }>;
    expect(second[0]?.seq).toBeLessThan(first[1]?.seq ?? 0);
    expect((await tlsRequest(tessera, 'GET', '/admin/audit?limit=0', primary())).status).toBe(400);
    expect((await tlsRequest(tessera, 'GET', '/admin/audit?since=yesterday', primary())).status).toBe(400);
    expect((await tlsRequest(tessera, 'GET', '/admin/audit', verifier())).status).toBe(403);
  });

  it('survives a restart: entries are in the store, flushed on close', async () => {
    const server = await startTlsServer();
    const dataDir = server.dataDir;
    const key = { accessKey: server.primaryKey };
    const created = await tlsRequest(server, 'POST', '/identities?api-version=2023-10-01', key);
    const identityId = String((created.json.identity as { id: string }).id);
    await server.server.close();
    const again = await startTlsServer({ dataDir });
    try {
      const audit = await tlsRequest(again, 'GET', `/admin/audit?identity=${encodeURIComponent(identityId)}`, key);
      expect(audit.json.value).toMatchObject([{ operation: 'identity.create', identityId, actor: 'key:primary' }]);
    } finally {
      await again.close();
      await server.close();
    }
  });
});
