// "Managed identity, by another name": a workload's own identity token — here a Kubernetes projected
// service-account token, its issuer's keys at /openid/v1/jwks as the API server publishes them — authenticates
// to Tessera exactly like any other principal (no shared secret in the workload), authorised by role assignment.
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restErrorOf } from '../e2e/helpers.js';
import {
  fixtureKey,
  type JwksFixture,
  serviceAccountClaims,
  signJwt,
  startJwksFixture,
} from '../../../oidc/test/jwks-fixture.js';
import { fixedCredential, startTlsServer, type TlsServer, tlsRequest } from './oidc-helpers.js';

const AUDIENCE = 'tessera';
const key = fixtureKey('sa-key-1', 'RS256');
let cluster: JwksFixture;
let tessera: TlsServer;

beforeAll(async () => {
  cluster = await startJwksFixture([key]);
  tessera = await startTlsServer({
    // As for a cluster's service-account issuer: a fixed JWKS URL (no discovery) and the projected audience.
    trustedIssuers: [{ issuer: cluster.issuer, jwksUri: cluster.jwksUri, audiences: [AUDIENCE] }],
  });
  const assigned = await tlsRequest(
    tessera,
    'POST',
    '/admin/roleAssignments',
    { accessKey: tessera.primaryKey },
    {
      role: 'identity-administrator',
      issuer: cluster.issuer,
      principalType: 'subject',
      principalId: 'system:serviceaccount:payments:checkout',
      description: 'the checkout service',
    },
  );
  expect(assigned.status).toBe(201);
});

afterAll(async () => {
  await tessera?.close();
  await cluster?.close();
});

function sdkWith(token: string): CommunicationIdentityClient {
  return new CommunicationIdentityClient(tessera.url, fixedCredential(token), { tlsOptions: { ca: tessera.ca } });
}

describe('workload identity (managed identity by another name)', () => {
  it('a service-account token of a configured issuer authenticates like any principal and holds its role', async () => {
    const token = signJwt(key, serviceAccountClaims(cluster.issuer, 'payments', 'checkout', AUDIENCE));
    const client = sdkWith(token);
    const { user, token: userToken } = await client.createUserAndToken(['voip']);
    expect(user.communicationUserId).toMatch(/^8:acs:/);
    expect(userToken.split('.')).toHaveLength(3);
    await client.deleteUser(user);
  });

  it('another service account of the same cluster has no role: 403 naming the data action', async () => {
    const token = signJwt(key, serviceAccountClaims(cluster.issuer, 'payments', 'reporting', AUDIENCE));
    const error = restErrorOf(
      await sdkWith(token)
        .createUser()
        .catch((e: unknown) => e),
    );
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain("'identities/create'");
  });

  it('a service-account token for the API server audience (not projected for Tessera) is refused with 401', async () => {
    const token = signJwt(
      key,
      serviceAccountClaims(cluster.issuer, 'payments', 'checkout', 'https://kubernetes.default.svc.cluster.local'),
    );
    const error = restErrorOf(
      await sdkWith(token)
        .createUser()
        .catch((e: unknown) => e),
    );
    expect(error.statusCode).toBe(401);
  });

  it('the audit log names the workload by issuer and service-account subject', async () => {
    const token = signJwt(key, serviceAccountClaims(cluster.issuer, 'payments', 'checkout', AUDIENCE));
    const user = await sdkWith(token).createUser();
    const audit = await tlsRequest(
      tessera,
      'GET',
      `/admin/audit?identity=${encodeURIComponent(user.communicationUserId)}`,
      { accessKey: tessera.primaryKey },
    );
    expect((audit.json.value as Array<Record<string, unknown>>)[0]).toMatchObject({
      actor: `bearer:${cluster.issuer}#system:serviceaccount:payments:checkout`,
      operation: 'identity.create',
      outcome: 'success',
    });
  });
});
