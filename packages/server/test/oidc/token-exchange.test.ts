// The Teams-style token exchange, generalised to any trusted issuer: POST /teamsUser/:exchangeAccessToken with a
// user's access token from a real OpenID provider (authorization-code flow), every row of docs/spec/wire-protocol.md §7.
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { parseConnectionString } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restErrorOf } from '../e2e/helpers.js';
import {
  payloadOf,
  startTestProvider,
  startTlsServer,
  type TestProvider,
  type TlsServer,
  tlsRequest,
  movableClock,
} from './oidc-helpers.js';

const EXCHANGE = '/teamsUser/:exchangeAccessToken?api-version=2023-10-01';

let provider: TestProvider;
let other: TestProvider;
let tessera: TlsServer;
const clock = movableClock();
/** A valid user token of `provider.userId` for `teamsApp`. */
let userToken: string;

const primary = () => ({ accessKey: tessera.primaryKey });
const exchange = (body: unknown, path = EXCHANGE) => tlsRequest(tessera, 'POST', path, primary(), body);

beforeAll(async () => {
  provider = await startTestProvider();
  other = await startTestProvider();
  tessera = await startTlsServer({
    trustedIssuers: [
      { issuer: provider.issuer, clockToleranceSeconds: 0, exchange: true },
      // Trusted for bearer authentication only: its users cannot exchange.
      { issuer: other.issuer },
    ],
    clock: clock.now,
  });
  userToken = (await provider.userToken(provider.clients.teamsApp, provider.userId)).token;
});

afterAll(async () => {
  await tessera?.close();
  await provider?.close();
  await other?.close();
});

/** The ACS error body fields §7 fixes (Tessera adds `innererror`). */
function acsError(json: Record<string, unknown>): { code: unknown; message: unknown; target: unknown } {
  const error = json.error as Record<string, unknown>;
  return { code: error.code, message: error.message, target: error.target };
}

describe('POST /teamsUser/:exchangeAccessToken with tokens from a real OpenID provider (docs/spec/wire-protocol.md §7)', () => {
  it('valid → 200 {token, expiresOn}: a communication token whose expiry is the external token’s', async () => {
    const { status, json } = await exchange({
      token: userToken,
      appId: provider.clients.teamsApp.clientId,
      userId: provider.userId,
    });
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toStrictEqual(['expiresOn', 'token']);
    const external = payloadOf(userToken);
    const minted = payloadOf(String(json.token));
    expect(minted.exp).toBe(external.exp);
    expect(new Date(String(json.expiresOn)).getTime()).toBe(Number(external.exp) * 1000);
    expect(String(json.expiresOn)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/);
    expect(minted.acsScope).toBe('chat,voip');
    expect(minted.sub).toMatch(/^8:acs:/);
    // A real communication token of this server: introspection says active.
    const introspected = await tlsRequest(tessera, 'POST', '/tokens/:introspect', primary(), { token: json.token });
    expect(introspected.json).toMatchObject({ active: true, sub: minted.sub });
  });

  it('the same external user maps to the same identity every time; another user to another one', async () => {
    const body = { token: userToken, appId: provider.clients.teamsApp.clientId, userId: provider.userId };
    const first = payloadOf(String((await exchange(body)).json.token)).sub;
    const again = payloadOf(String((await exchange(body)).json.token)).sub;
    expect(again).toBe(first);
    // Upper-case ids name the same Entra-style object.
    const upper = await exchange({ ...body, appId: body.appId.toUpperCase(), userId: body.userId.toUpperCase() });
    expect(payloadOf(String(upper.json.token)).sub).toBe(first);

    const otherUser = await provider.userToken(provider.clients.teamsApp, provider.otherUserId);
    const second = await exchange({ ...body, token: otherUser.token, userId: provider.otherUserId });
    expect(second.status).toBe(200);
    expect(payloadOf(String(second.json.token)).sub).not.toBe(first);

    // Deleting the identity ends the mapping: the next exchange creates a new identity.
    const deleted = await tlsRequest(
      tessera,
      'DELETE',
      `/identities/${encodeURIComponent(String(first))}?api-version=2023-10-01`,
      primary(),
    );
    expect(deleted.status).toBe(204);
    const reborn = payloadOf(String((await exchange(body)).json.token)).sub;
    expect(reborn).not.toBe(first);
  });

  it('the official SDK exchanges with getTokenForTeamsUser over HTTPS (access key)', async () => {
    const client = new CommunicationIdentityClient(tessera.server.connectionString, { tlsOptions: { ca: tessera.ca } });
    const result = await client.getTokenForTeamsUser({
      teamsUserAadToken: userToken,
      clientId: provider.clients.teamsApp.clientId,
      userObjectId: provider.userId,
    });
    expect(result.expiresOn.getTime()).toBe(Number(payloadOf(userToken).exp) * 1000);
    const error = restErrorOf(
      await client
        .getTokenForTeamsUser({
          teamsUserAadToken: userToken,
          clientId: provider.clients.teamsApp.clientId,
          userObjectId: provider.otherUserId,
        })
        .catch((e: unknown) => e),
    );
    expect(error.statusCode).toBe(400);
    expect(error.message).toBe('Provided AAD token issued for unexpected user.');
  });

  it.each([
    ['token ""', ''],
    ['token "invalid"', 'invalid'],
  ])('%s → 401 InvalidAccessToken "Provided access token is not valid."', async (_name, token) => {
    const { status, json } = await exchange({
      token,
      appId: provider.clients.teamsApp.clientId,
      userId: provider.userId,
    });
    expect(status).toBe(401);
    expect(acsError(json)).toStrictEqual({
      code: 'InvalidAccessToken',
      message: 'Provided access token is not valid.',
      target: undefined,
    });
  });

  it('token expired → 401 InvalidAccessToken (the same token exchanged fine while valid)', async () => {
    const { token } = await provider.clientToken(provider.clients.shortLived);
    const body = { token, appId: provider.clients.shortLived.clientId, userId: provider.clients.shortLived.clientId };
    expect((await exchange(body)).status).toBe(200);
    clock.passExpiry(Number(payloadOf(token).exp));
    const { status, json } = await exchange(body);
    clock.reset();
    expect(status).toBe(401);
    expect(acsError(json)).toStrictEqual({
      code: 'InvalidAccessToken',
      message: 'Provided access token is not valid.',
      target: undefined,
    });
    expect(json).toMatchObject({ error: { innererror: { code: 'ERR_TOKEN_EXPIRED' } } });
  });

  it('a token of an untrusted issuer, or of a trusted one without exchange, → 401 InvalidAccessToken', async () => {
    // A valid user token of a provider this server trusts for bearer authentication only.
    const token = (await other.userToken(other.clients.teamsApp, other.userId)).token;
    const notEnabled = await exchange({ token, appId: other.clients.teamsApp.clientId, userId: other.userId });
    expect(notEnabled.status).toBe(401);
    expect(acsError(notEnabled.json).message).toBe('Provided access token is not valid.');
    const stranger = await startTestProvider();
    try {
      const foreignToken = (await stranger.userToken(stranger.clients.teamsApp, stranger.userId)).token;
      const { status, json } = await exchange({
        token: foreignToken,
        appId: stranger.clients.teamsApp.clientId,
        userId: stranger.userId,
      });
      expect(status).toBe(401);
      expect(json).toMatchObject({
        error: { code: 'InvalidAccessToken', innererror: { code: 'ERR_TOKEN_WRONG_ISSUER' } },
      });
    } finally {
      await stranger.close();
    }
  });

  it('appId "" → 400 ValidationError "AppId: The AppId field is required." target AppId', async () => {
    const { status, json } = await exchange({ token: userToken, appId: '', userId: provider.userId });
    expect(status).toBe(400);
    expect(acsError(json)).toStrictEqual({
      code: 'ValidationError',
      message: 'AppId: The AppId field is required.',
      target: 'AppId',
    });
  });

  it('appId "invalid" → 400 "Provided AppId has invalid format." target appId', async () => {
    const { status, json } = await exchange({ token: userToken, appId: 'invalid', userId: provider.userId });
    expect(status).toBe(400);
    expect(acsError(json)).toStrictEqual({
      code: 'ValidationError',
      message: 'Provided AppId has invalid format.',
      target: 'appId',
    });
  });

  it('appId not matching the token’s app id claim → 400 "AAD application is not the expected one." target appId', async () => {
    const { status, json } = await exchange({
      token: userToken,
      appId: provider.clients.admin.clientId,
      userId: provider.userId,
    });
    expect(status).toBe(400);
    expect(acsError(json)).toStrictEqual({
      code: 'ValidationError',
      message: 'AAD application is not the expected one.',
      target: 'appId',
    });
  });

  it('userId "invalid" → 400 "Provided UserId has invalid format." target userId', async () => {
    const { status, json } = await exchange({
      token: userToken,
      appId: provider.clients.teamsApp.clientId,
      userId: 'invalid',
    });
    expect(status).toBe(400);
    expect(acsError(json)).toStrictEqual({
      code: 'ValidationError',
      message: 'Provided UserId has invalid format.',
      target: 'userId',
    });
  });

  it('userId not matching the token’s object id claim → 400 "Provided AAD token issued for unexpected user." target userId', async () => {
    const { status, json } = await exchange({
      token: userToken,
      appId: provider.clients.teamsApp.clientId,
      userId: provider.otherUserId,
    });
    expect(status).toBe(400);
    expect(acsError(json)).toStrictEqual({
      code: 'ValidationError',
      message: 'Provided AAD token issued for unexpected user.',
      target: 'userId',
    });
  });

  it('userId "" → 400 "UserId: The UserId field is required." and a missing token → 400 naming Token', async () => {
    const noUser = await exchange({ token: userToken, appId: provider.clients.teamsApp.clientId, userId: '' });
    expect(acsError(noUser.json)).toStrictEqual({
      code: 'ValidationError',
      message: 'UserId: The UserId field is required.',
      target: 'UserId',
    });
    const noToken = await exchange({ appId: provider.clients.teamsApp.clientId, userId: provider.userId });
    expect(noToken.status).toBe(400);
    expect(acsError(noToken.json).target).toBe('Token');
  });

  it('api-version 2021-03-07 does not have the exchange; the verifier key lacks tokens/exchange', async () => {
    const body = { token: userToken, appId: provider.clients.teamsApp.clientId, userId: provider.userId };
    const old = await exchange(body, '/teamsUser/:exchangeAccessToken?api-version=2021-03-07');
    expect(old.status).toBe(400);
    expect(acsError(old.json).code).toBe('UnsupportedApiVersion');
    const verifierKey = parseConnectionString(tessera.server.verifierConnectionString).accessKey;
    const denied = await tlsRequest(tessera, 'POST', EXCHANGE, { accessKey: verifierKey }, body);
    expect(denied.status).toBe(403);
    expect(acsError(denied.json).message).toContain("'tokens/exchange'");
  });

  it('a bearer principal with token-exchanger may exchange; the audit log records it without any token', async () => {
    const { token: serviceToken } = await provider.clientToken(provider.clients.admin);
    const body = { token: userToken, appId: provider.clients.teamsApp.clientId, userId: provider.userId };
    const before = await tlsRequest(tessera, 'POST', EXCHANGE, { bearer: serviceToken }, body);
    expect(before.status).toBe(403);
    const assigned = await tlsRequest(tessera, 'POST', '/admin/roleAssignments', primary(), {
      role: 'token-exchanger',
      issuer: provider.issuer,
      principalType: 'appId',
      principalId: provider.clients.admin.clientId,
    });
    expect(assigned.status).toBe(201);
    const after = await tlsRequest(tessera, 'POST', EXCHANGE, { bearer: serviceToken }, body);
    expect(after.status).toBe(200);
    const identityId = String(payloadOf(String(after.json.token)).sub);

    const audit = await tlsRequest(
      tessera,
      'GET',
      `/admin/audit?identity=${encodeURIComponent(identityId)}`,
      primary(),
    );
    const entries = audit.json.value as Array<Record<string, unknown>>;
    expect(entries[0]).toMatchObject({
      operation: 'token.exchange',
      outcome: 'success',
      status: 200,
      actor: `bearer:${provider.issuer}#${provider.clients.admin.clientId}`,
      identityId,
    });
    const all = JSON.stringify((await tlsRequest(tessera, 'GET', '/admin/audit?limit=1000', primary())).json);
    for (const secret of [userToken, serviceToken, String(after.json.token)]) {
      expect(all).not.toContain(secret.split('.')[2]);
    }
    expect(all).not.toContain(tessera.primaryKey);
  });

  it('exchanges are rate limited per credential (operation "exchange")', async () => {
    const limited = await startTlsServer({
      rateLimit: 'exchange=2/30',
      trustedIssuers: [{ issuer: provider.issuer, exchange: true }],
    });
    try {
      const body = { token: userToken, appId: provider.clients.teamsApp.clientId, userId: provider.userId };
      const key = { accessKey: limited.primaryKey };
      expect((await tlsRequest(limited, 'POST', EXCHANGE, key, body)).status).toBe(200);
      expect((await tlsRequest(limited, 'POST', EXCHANGE, key, body)).status).toBe(200);
      const third = await tlsRequest(limited, 'POST', EXCHANGE, key, body);
      expect(third.status).toBe(429);
      expect(third.headers['retry-after']).toMatch(/^\d+$/);
    } finally {
      await limited.close();
    }
  });
});
