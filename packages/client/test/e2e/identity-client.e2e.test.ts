import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { decodeJwt, isTesseraError, parseConnectionString } from '@tessera/core';
import { type RunningServer, startServer } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoRefreshingTokenCredential,
  CircuitBreakerRegistry,
  ClientError,
  IdentityClient,
  TesseraClientError,
  createHmacHeaders,
} from '../../src/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dataDir: string;
let server: RunningServer;
let client: IdentityClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-client-e2e-'));
  server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent' });
  client = new IdentityClient(server.connectionString, { circuitBreakers: new CircuitBreakerRegistry() });
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<TesseraClientError | ClientError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TesseraClientError) && !(error instanceof ClientError)) {
    throw new Error(`expected a TesseraClientError or ClientError, got ${String(error)}`);
  }
  return error;
}

/** POST /tokens/:introspect, signed with our own exported HMAC signer. */
async function introspect(token: string): Promise<{ active: boolean; reason?: string; sub?: string }> {
  const url = new URL('/tokens/:introspect', server.url);
  const body = JSON.stringify({ token });
  const { accessKey } = parseConnectionString(server.connectionString);
  const signed = await createHmacHeaders({ method: 'POST', url, body, key: accessKey });
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-ms-date': signed['x-ms-date'],
      'x-ms-content-sha256': signed['x-ms-content-sha256'],
      authorization: signed.authorization,
    },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { active: boolean; reason?: string; sub?: string };
}

describe('IdentityClient against the real Tessera server', () => {
  it('createUser creates an identity', async () => {
    const user = await client.createUser();
    expect(user.id).toMatch(/^8:acs:[0-9a-f-]{36}_[0-9a-f-]{36}$/);
  });

  it('pain point: no custom-id mapping — createUser with customId is idempotent and getUser reads it back', async () => {
    const a = await client.createUser({ customId: 'alice@example.com' });
    const b = await client.createUser({ customId: 'alice@example.com' });
    expect(b.id).toBe(a.id);
    expect(a.customId).toBe('alice@example.com');
    const got = await client.getUser(a.id);
    expect(got).toMatchObject({ id: a.id, customId: 'alice@example.com' });
  });

  it('the server honours Repeatability-Request-ID: the same key returns the same identity', async () => {
    const key = '0b4c2a1e-5d6f-4a7b-8c9d-0e1f2a3b4c5d';
    const a = await client.createUser({ repeatabilityRequestId: key });
    const b = await client.createUser({ repeatabilityRequestId: key });
    expect(b.id).toBe(a.id);
  });

  it('createUserAndToken returns a token whose exp equals expiresOn, plus the server Date', async () => {
    const result = await client.createUserAndToken(['chat', 'voip'], { expiresInMinutes: 60 });
    const claims = decodeJwt(result.token).payload;
    expect(claims.sub).toBe(result.user.id);
    expect((claims.exp as number) * 1000).toBe(Math.floor(result.expiresOn.getTime() / 1000) * 1000);
    expect(result.expiresOn.getTime() - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(result.serverDate).toBeInstanceOf(Date);
  });

  it('getToken issues a token with the requested scopes that the server reports active', async () => {
    const user = await client.createUser();
    const { token } = await client.getToken(user, ['chat.join'], { expiresInMinutes: 90 });
    expect(decodeJwt(token).payload).toMatchObject({ sub: user.id, acsScope: 'chat.join' });
    expect((await introspect(token)).active).toBe(true);
  });

  it('revokeTokens revokes the tokens issued so far', async () => {
    const user = await client.createUser();
    const { token } = await client.getToken(user.id, ['chat']);
    await client.revokeTokens(user.id);
    expect(await introspect(token)).toMatchObject({ active: false, reason: 'ERR_TOKEN_REVOKED' });
    const after = await client.getToken(user.id, ['chat']);
    expect((await introspect(after.token)).active).toBe(true);
  });

  it('deleteUser deletes; afterwards calls fail with a typed 404 error carrying the request id', async () => {
    const user = await client.createUser();
    await client.deleteUser(user.id);
    const error = await failure(client.getToken(user.id, ['chat']));
    expect(['ERR_IDENTITY_DELETED', 'ERR_IDENTITY_NOT_FOUND']).toContain(error.code);
    expect(error.status).toBe(404);
    expect(error.serviceCode).toMatch(/^Identity/);
    expect(error.requestId).toMatch(UUID);
    expect(error.attempts).toBe(1);
  });

  it('typed errors: validation, foreign identity, wrong key, unsupported api-version', async () => {
    const user = await client.createUser();
    const validation = await failure(client.getToken(user.id, ['chat'], { expiresInMinutes: 59 }));
    expect(validation).toMatchObject({ code: 'ERR_VALIDATION', status: 400, serviceCode: 'ValidationError' });
    expect(validation.target?.toLowerCase()).toBe('expiresinminutes');

    const foreign = '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000';
    const notOwned = await failure(client.getToken(foreign, ['chat']));
    expect(notOwned).toMatchObject({ code: 'ERR_IDENTITY_NOT_OWNED', status: 401, serviceCode: 'IdentityNotOwned' });

    const wrongKey = new IdentityClient(
      `endpoint=${server.url};accesskey=${Buffer.from('definitely not the key of this server').toString('base64')}`,
      { circuitBreakers: false },
    );
    const denied = await failure(wrongKey.createUser());
    expect(denied).toMatchObject({ code: 'ERR_AUTH_SIGNATURE_MISMATCH', status: 401, serviceCode: 'Denied' });
    expect(denied.message).not.toMatch(/Signature=/);

    const oldVersion = new IdentityClient(server.connectionString, {
      apiVersion: '1999-01-01',
      circuitBreakers: false,
    });
    const unsupported = await failure(oldVersion.createUser());
    expect(unsupported).toMatchObject({ code: 'ERR_UNSUPPORTED_API_VERSION', status: 400 });
  });

  it('listKeys and regenerateKey: the regenerated key works, the old one is refused', async () => {
    const before = await client.listKeys();
    expect(before.primaryConnectionString).toContain(before.primaryKey);
    expect(before.verifierKey).not.toBe(before.primaryKey);
    const oldSecondary = new IdentityClient(before.secondaryConnectionString, { circuitBreakers: false });
    await oldSecondary.createUser();
    const after = await client.regenerateKey('secondary');
    expect(after.secondaryKey).not.toBe(before.secondaryKey);
    expect(after.primaryKey).toBe(before.primaryKey);
    expect((await failure(oldSecondary.createUser())).status).toBe(401);
    await new IdentityClient(after.secondaryConnectionString, { circuitBreakers: false }).createUser();
    const verifierOnly = new IdentityClient(before.verifierConnectionString, { circuitBreakers: false });
    expect((await failure(verifierOnly.listKeys())).status).toBeGreaterThanOrEqual(401);
  });

  it('interoperates with the official @azure/communication-identity SDK on the same server', async () => {
    const official = new CommunicationIdentityClient(server.connectionString, { allowInsecureConnection: true });
    const user = await client.createUser();
    const viaSdk = await official.getToken({ communicationUserId: user.id }, ['chat']);
    expect(decodeJwt(viaSdk.token).payload.sub).toBe(user.id);
    const sdkUser = await official.createUser();
    const viaOurs = await client.getToken(sdkUser, ['voip']);
    expect(decodeJwt(viaOurs.token).payload.sub).toBe(sdkUser.communicationUserId);
  });

  it('AutoRefreshingTokenCredential + IdentityClient: refreshes from the server, then stops for good once the identity is deleted', async () => {
    const user = await client.createUser();
    let calls = 0;
    const credential = new AutoRefreshingTokenCredential({
      tokenRefresher: () => {
        calls++;
        return client.getToken(user.id, ['chat'], { expiresInMinutes: 60 });
      },
    });
    const first = await credential.getToken();
    expect(decodeJwt(first.token).payload.sub).toBe(user.id);
    expect(Math.abs(credential.clockSkewMs)).toBeLessThan(5_000); // same machine: the server Date agrees
    await client.deleteUser(user.id);
    const stopped = await credential.refreshNow().catch((e: unknown) => e);
    expect(isTesseraError(stopped)).toBe(true);
    expect(['ERR_IDENTITY_DELETED', 'ERR_IDENTITY_NOT_FOUND']).toContain((stopped as TesseraClientError).code);
    expect(credential.stoppedReason).toBeDefined();
    await expect(credential.getToken()).rejects.toMatchObject({ code: (stopped as TesseraClientError).code });
    expect(calls).toBe(2);
    credential.dispose();
  });
});

describe('resilience against real sockets', () => {
  it("retries a real 429 from the server's rate limiter, honouring its Retry-After", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-client-e2e-rl-'));
    const limited = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      logLevel: 'silent',
      rateLimit: 'issue=1/1',
    });
    try {
      const statuses: number[] = [];
      const counting: typeof fetch = async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      };
      const c = new IdentityClient(limited.connectionString, { fetch: counting, circuitBreakers: false });
      const user = await c.createUser();
      await c.getToken(user.id, ['chat']);
      const second = await c.getToken(user.id, ['chat']);
      expect(second.token).toContain('.');
      expect(statuses).toContain(429);
      expect(statuses.at(-1)).toBe(200);
    } finally {
      await limited.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connection refused → ERR_NETWORK after bounded retries, then the circuit opens and fails fast', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const registry = new CircuitBreakerRegistry({ failureThreshold: 3 });
    const c = new IdentityClient(`http://127.0.0.1:${address.port}/`, async () => 'token', {
      baseDelayMs: 5,
      maxAttempts: 3,
      circuitBreakers: registry,
    });
    const error = await failure(c.getToken('8:acs:x_y', ['chat']));
    expect(error).toMatchObject({ code: 'ERR_NETWORK', attempts: 3 });
    expect(String((error.cause as Error | undefined)?.message)).toMatch(/fetch failed/);
    const fast = await failure(c.getToken('8:acs:x_y', ['chat']));
    expect(fast.code).toBe('ERR_CIRCUIT_OPEN');
  });
});
