// Entra ID / OIDC bearer authentication end to end: a real OpenID provider (oidc-provider) issues
// client-credentials JWT access tokens for https://communication.azure.com, and the official
// @azure/communication-identity client authenticates with a TokenCredential over HTTPS (`tlsDev` CA trusted
// through the pipeline's `tlsOptions`, which core-rest-pipeline hands to its https.Agent in Node).
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restErrorOf } from '../e2e/helpers.js';
import {
  fixedCredential,
  payloadOf,
  ProviderCredential,
  startTestProvider,
  startTlsServer,
  type TestClient,
  type TestProvider,
  type TlsServer,
  tlsRequest,
  movableClock,
} from './oidc-helpers.js';

let provider: TestProvider;
let foreign: TestProvider;
let tessera: TlsServer;
const clock = movableClock();
/** HMAC with the primary key. */
const primary = () => ({ accessKey: tessera.primaryKey });

/** Assigns a role through the admin API with the primary key; returns the assignment id. */
async function assign(role: string, client: TestClient, principalType = 'appId'): Promise<string> {
  const { status, json } = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
    role,
    issuer: provider.issuer,
    principalType,
    principalId: client.clientId,
  });
  expect(status, JSON.stringify(json)).toBe(201);
  return String(json.id);
}

async function unassign(id: string): Promise<void> {
  const { status } = await tlsRequest(tessera, 'DELETE', `/admin/roleAssignments/${id}`, primary());
  expect(status).toBe(204);
}

function sdkClient(credential: ProviderCredential): CommunicationIdentityClient {
  return new CommunicationIdentityClient(tessera.url, credential, { tlsOptions: { ca: tessera.ca } });
}

function credentialOf(client: TestClient): ProviderCredential {
  return new ProviderCredential(() => provider.clientToken(client));
}

beforeAll(async () => {
  provider = await startTestProvider();
  foreign = await startTestProvider();
  tessera = await startTlsServer({
    trustedIssuers: [{ issuer: provider.issuer, clockToleranceSeconds: 0 }],
    clock: clock.now,
  });
  await assign('identity-administrator', provider.clients.admin);
});

afterAll(async () => {
  await tessera?.close();
  await provider?.close();
  await foreign?.close();
});

describe('Entra ID / OIDC bearer authentication with the official SDK over HTTPS', () => {
  it('serves HTTPS with the tlsDev CA', () => {
    expect(tessera.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(tessera.ca).toContain('BEGIN CERTIFICATE');
  });

  it('a principal with identity-administrator creates users and tokens, revokes and deletes (no access key)', async () => {
    const credential = credentialOf(provider.clients.admin);
    const client = sdkClient(credential);
    const { user, token, expiresOn } = await client.createUserAndToken(['chat', 'voip']);
    expect(user.communicationUserId).toMatch(/^8:acs:/);
    expect(expiresOn.getTime()).toBeGreaterThan(Date.now());
    // Bearer-minted tokens are not tied to an access key (rotation does not revoke them).
    expect(payloadOf(token).akv).toBeUndefined();
    const issued = await client.getToken(user, ['voip'], { tokenExpiresInMinutes: 60 });
    expect(payloadOf(issued.token).acsScope).toBe('voip');
    await client.revokeTokens(user);
    await client.deleteUser(user);
    // The SDK asked for the Entra scope of the resource; the provider's token carries it as the audience.
    expect(credential.requestedScopes[0]).toStrictEqual(['https://communication.azure.com//.default']);
  });

  it('ES256-signed tokens of the same issuer authenticate too', async () => {
    const id = await assign('identity-administrator', provider.clients.ecApp);
    try {
      const user = await sdkClient(credentialOf(provider.clients.ecApp)).createUser();
      expect(user.communicationUserId).toMatch(/^8:acs:/);
    } finally {
      await unassign(id);
    }
  });

  it('another principal of the same issuer without a role is refused with 403 naming the missing data action', async () => {
    const client = sdkClient(credentialOf(provider.clients.outsider));
    const error = restErrorOf(await client.createUser().catch((e: unknown) => e));
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('Forbidden');
    expect(error.message).toContain("'identities/create'");
  });

  it('role assignments apply at once, without a restart: token-issuer may issue but not create; removal denies again', async () => {
    const admin = sdkClient(credentialOf(provider.clients.admin));
    const user = await admin.createUser();
    const outsider = sdkClient(credentialOf(provider.clients.outsider));
    expect(restErrorOf(await outsider.getToken(user, ['chat']).catch((e: unknown) => e)).statusCode).toBe(403);

    const id = await assign('token-issuer', provider.clients.outsider);
    const issued = await outsider.getToken(user, ['chat']);
    expect(payloadOf(issued.token).sub).toBe(user.communicationUserId);
    const denied = restErrorOf(await outsider.createUser().catch((e: unknown) => e));
    expect(denied.statusCode).toBe(403);
    expect(denied.message).toContain("'identities/create'");

    await unassign(id);
    const again = restErrorOf(await outsider.getToken(user, ['chat']).catch((e: unknown) => e));
    expect(again.statusCode).toBe(403);
    expect(again.message).toContain("'tokens/issue'");
  });

  it('an expired token is refused with 401', async () => {
    const id = await assign('identity-administrator', provider.clients.shortLived);
    try {
      const { token } = await provider.clientToken(provider.clients.shortLived);
      // The same token works while it is valid…
      await sdkClient(fixedCredential(token)).createUser();
      clock.passExpiry(Number(payloadOf(token).exp));
      // …and is refused once expired, although the credential claims it is fresh.
      const error = restErrorOf(
        await sdkClient(fixedCredential(token))
          .createUser()
          .catch((e: unknown) => e),
      );
      expect(error.statusCode).toBe(401);
      expect(error.code).toBe('InvalidAccessToken');
      const raw = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', { bearer: token });
      expect(raw.status).toBe(401);
      expect(raw.json).toMatchObject({ error: { innererror: { code: 'ERR_TOKEN_EXPIRED' } } });
    } finally {
      clock.reset();
      await unassign(id);
    }
  });

  it("a foreign issuer's token is refused with 401", async () => {
    const error = restErrorOf(
      await sdkClient(new ProviderCredential(() => foreign.clientToken(foreign.clients.admin)))
        .createUser()
        .catch((e: unknown) => e),
    );
    expect(error.statusCode).toBe(401);
    expect(error.code).toBe('InvalidAccessToken');
    const { token } = await foreign.clientToken(foreign.clients.admin);
    const raw = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', { bearer: token });
    expect(raw.json).toMatchObject({ error: { innererror: { code: 'ERR_TOKEN_WRONG_ISSUER' } } });
  });

  it('a token of the trusted issuer for another audience, or with a forged signature, is refused with 401', async () => {
    const other = await provider.clientToken(provider.clients.admin, 'https://other.example.test');
    const wrongAudience = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', {
      bearer: other.token,
    });
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.json).toMatchObject({ error: { innererror: { code: 'ERR_TOKEN_WRONG_AUDIENCE' } } });

    const { token } = await provider.clientToken(provider.clients.admin);
    const [header, payload, signature = ''] = token.split('.');
    const claims = { ...payloadOf(token), sub: provider.clients.outsider.clientId };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    expect(payload).not.toBe(forged.split('.')[1]);
    const bad = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', { bearer: forged });
    expect(bad.status).toBe(401);
    expect(bad.json).toMatchObject({ error: { innererror: { code: 'ERR_TOKEN_BAD_SIGNATURE' } } });
    // The error never echoes the token.
    expect(JSON.stringify(bad.json)).not.toContain(signature);
  });

  it('the SDK refuses bearer tokens over plain http — why Tessera serves TLS', async () => {
    const client = new CommunicationIdentityClient('http://127.0.0.1:9/', credentialOf(provider.clients.admin), {
      allowInsecureConnection: true,
    });
    const error = await client.createUser().catch((e: unknown) => e);
    expect(String(error)).toContain('Bearer token authentication is not permitted for non-TLS protected');
  });

  it('the audit log names bearer principals by issuer and subject, never by token', async () => {
    const { token } = await provider.clientToken(provider.clients.admin);
    const created = await tlsRequest(tessera, 'POST', '/identities?api-version=2023-10-01', { bearer: token });
    expect(created.status).toBe(201);
    const identityId = String((created.json.identity as { id: string }).id);
    const audit = await tlsRequest(tessera, 'GET', `/admin/audit?identity=${encodeURIComponent(identityId)}`, {
      bearer: token,
    });
    // identity-administrator has no audit/read.
    expect(audit.status).toBe(403);
    expect(JSON.stringify(audit.json)).toContain("'audit/read'");
    const byKey = await tlsRequest(
      tessera,
      'GET',
      `/admin/audit?identity=${encodeURIComponent(identityId)}`,
      primary(),
    );
    expect(byKey.status).toBe(200);
    const entries = byKey.json.value as Array<Record<string, unknown>>;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: `bearer:${provider.issuer}#${provider.clients.admin.clientId}`,
      operation: 'identity.create',
      outcome: 'success',
      status: 201,
      identityId,
    });
    expect(JSON.stringify(byKey.json)).not.toContain(token.split('.')[2]);
  });
});
