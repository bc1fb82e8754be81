// Role changes reach every process of a cluster without a restart: two servers on one PostgreSQL schema, the
// safety-net poll slowed to a minute so only the store's NOTIFY can carry the change in time.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import {
  fixtureKey,
  type JwksFixture,
  serviceAccountClaims,
  signJwt,
  startJwksFixture,
} from '../../../oidc/test/jwks-fixture.js';
import { startTlsServer, type TlsServer, tlsRequest } from './oidc-helpers.js';

const DATABASE_URL = testPostgresUrl();
const schema = `tessera_roles_${process.pid}_${randomBytes(4).toString('hex')}`;
const key = fixtureKey('k1', 'ES256');
let issuer: JwksFixture;
let a: TlsServer;
let b: TlsServer;

beforeAll(async () => {
  issuer = await startJwksFixture([key]);
  const options = {
    store: `${DATABASE_URL}?schema=${schema}`,
    // Processes of one cluster share the master key that seals the stored secrets.
    masterKey: randomBytes(32).toString('base64'),
    pollMs: 60_000,
    trustedIssuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['tessera'] }],
  };
  a = await startTlsServer(options);
  b = await startTlsServer(options);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await issuer?.close();
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

/** Polls until `check` holds; fails after `timeoutMs` (a bound, not a speed assertion). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('role assignments across processes (PostgreSQL)', () => {
  it('an assignment made through one process authorizes on the other, and its removal denies there', async () => {
    const token = { bearer: signJwt(key, serviceAccountClaims(issuer.issuer, 'ops', 'batch', 'tessera')) };
    const createOnB = () => tlsRequest(b, 'POST', '/identities?api-version=2023-10-01', token);
    expect((await createOnB()).status).toBe(403);

    const assigned = await tlsRequest(
      a,
      'POST',
      '/admin/roleAssignments',
      { accessKey: a.primaryKey },
      {
        role: 'identity-administrator',
        issuer: issuer.issuer,
        principalType: 'subject',
        principalId: 'system:serviceaccount:ops:batch',
      },
    );
    expect(assigned.status).toBe(201);
    await eventually(async () => (await createOnB()).status === 201);

    const removed = await tlsRequest(b, 'DELETE', `/admin/roleAssignments/${String(assigned.json.id)}`, {
      accessKey: b.primaryKey,
    });
    expect(removed.status).toBe(204);
    const createOnA = () => tlsRequest(a, 'POST', '/identities?api-version=2023-10-01', token);
    await eventually(async () => (await createOnA()).status === 403);
  });

  it('both processes write one audit log', async () => {
    const created = await tlsRequest(a, 'POST', '/identities?api-version=2023-10-01', { accessKey: a.primaryKey });
    const id = String((created.json.identity as { id: string }).id);
    await tlsRequest(b, 'DELETE', `/identities/${encodeURIComponent(id)}?api-version=2023-10-01`, {
      accessKey: b.primaryKey,
    });
    // Reading flushes only the reader's buffer; the other process flushes within its interval.
    await eventually(async () => {
      const audit = await tlsRequest(a, 'GET', `/admin/audit?identity=${encodeURIComponent(id)}`, {
        accessKey: a.primaryKey,
      });
      const ops = (audit.json.value as Array<{ operation: string }>).map((e) => e.operation);
      return ops.join(',') === 'identity.delete,identity.create';
    });
  });
});
