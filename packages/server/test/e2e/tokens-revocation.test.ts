// Requirement 4: introspection tells exactly why a token is not valid — revoked (exactly: before vs right after
// revokeTokens), identity deleted, unknown signing key, malformed, bad signature, expired — and tokens, keys and
// revocations survive a restart on the same data dir.
import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleJwt, base64ToBytes, encodeSigningInput, isHighS } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import {
  acsRequest,
  createIdentity,
  decodeToken,
  errorOf,
  fetchJwks,
  identityClient,
  identityPath,
  introspect,
  issueToken,
  startTestServer,
  type Target,
  type TestServer,
  tamperPayload,
  tempDir,
  targetOf,
} from './helpers.js';

let ts: TestServer;
let target: Target;
/** Shifts the server's clock (HMAC dates are signed with the shifted clock too). */
let offsetMs = 0;
const clock = () => Date.now() + offsetMs;

beforeAll(async () => {
  ts = await startTestServer({ clock });
  target = { url: ts.url, accessKey: ts.primaryKey };
});
afterAll(async () => ts.close());

function fail(): never {
  throw new Error('missing test fixture');
}

/** A date header matching the server's (shifted) clock. */
const serverDate = () => new Date(clock()).toUTCString();

describe('revocation is exact', () => {
  it('a token issued before revokeTokens is inactive (ERR_TOKEN_REVOKED); one issued right after is active', async () => {
    const client = identityClient(ts.server.connectionString);
    for (let i = 0; i < 10; i++) {
      const user = await client.createUser();
      const before = await client.getToken(user, ['chat']);
      await client.revokeTokens(user);
      const after = await client.getToken(user, ['chat']);
      // Same second, often: only the epoch can tell them apart.
      expect(await introspect(target, before.token)).toEqual({ active: false, reason: 'ERR_TOKEN_REVOKED' });
      expect((await introspect(target, after.token)).active).toBe(true);
    }
  });

  it('an active token introspects with sub, scope, exp, iat and jti', async () => {
    const { identity } = await createIdentity(target);
    const { token } = await issueToken(target, identity.id, ['chat', 'voip']);
    const claims = decodeToken(token).payload;
    const result = await introspect(target, token);
    expect(result).toMatchObject({
      active: true,
      sub: identity.id,
      scope: 'chat voip',
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
    });
  });

  it('revoking one identity leaves another identity’s tokens active', async () => {
    const a = (await createIdentity(target, { createTokenWithScopes: ['chat'] })).accessToken?.token ?? '';
    const bCreated = await createIdentity(target, { createTokenWithScopes: ['chat'] });
    await acsRequest(target, 'POST', identityPath(bCreated.identity.id, '/:revokeAccessTokens'));
    expect((await introspect(target, a)).active).toBe(true);
    expect(await introspect(target, bCreated.accessToken?.token ?? '')).toEqual({
      active: false,
      reason: 'ERR_TOKEN_REVOKED',
    });
  });

  it('deleting an identity → its tokens are ERR_TOKEN_IDENTITY_DELETED', async () => {
    const { identity, accessToken } = await createIdentity(target, { createTokenWithScopes: ['voip'] });
    const second = await issueToken(target, identity.id, ['chat']);
    expect((await acsRequest(target, 'DELETE', identityPath(identity.id))).status).toBe(204);
    for (const token of [accessToken?.token ?? '', second.token]) {
      expect(await introspect(target, token)).toEqual({ active: false, reason: 'ERR_TOKEN_IDENTITY_DELETED' });
    }
  });

  it('the verifier key can introspect too', async () => {
    const { accessToken } = await createIdentity(target, { createTokenWithScopes: ['chat'] });
    const verifier = targetOf(ts.server.verifierConnectionString);
    expect((await introspect(verifier, accessToken?.token ?? '')).active).toBe(true);
  });
});

describe('introspection says why a token is not valid', () => {
  let token = '';
  beforeAll(async () => {
    token = (await createIdentity(target, { createTokenWithScopes: ['chat'] })).accessToken?.token ?? '';
  });

  it('a token from a different server → ERR_TOKEN_UNKNOWN_KEY', async () => {
    const other = await startTestServer();
    try {
      const foreign = (
        await createIdentity({ url: other.url, accessKey: other.primaryKey }, { createTokenWithScopes: ['chat'] })
      ).accessToken?.token;
      expect(await introspect(target, foreign ?? '')).toEqual({ active: false, reason: 'ERR_TOKEN_UNKNOWN_KEY' });
    } finally {
      await other.close();
    }
  });

  it.each([
    ['garbage', 'garbage'],
    ['empty', ''],
    ['three junk parts', 'a.b.c'],
    ['two parts', 'eyJhbGciOiJFUzI1NiJ9.e30'],
    ['four parts', 'a.b.c.d'],
    ['header not JSON', `${Buffer.from('nope').toString('base64url')}.e30.c2ln`],
    [
      'payload not an object',
      `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('[1]').toString('base64url')}.c2ln`,
    ],
    ['way too long', 'a'.repeat(10_000)],
  ])('%s → ERR_TOKEN_MALFORMED', async (_label, value) => {
    expect(await introspect(target, value)).toEqual({ active: false, reason: 'ERR_TOKEN_MALFORMED' });
  });

  it('a missing or non-string token field → 400 ValidationError target token', async () => {
    for (const json of [{}, { token: 42 }, { token: null }, { token: ['a'] }]) {
      const res = await acsRequest(target, 'POST', '/tokens/:introspect', { json });
      expect(res.status).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 'ValidationError', target: 'token' });
    }
  });

  it.each([
    [
      'sub changed to another identity',
      (p: Record<string, unknown>) => {
        const sub = String(p.sub);
        // Change the last hex digit to a different one (a fixed '0' left the token untouched 1 time in 16).
        p.sub = `${sub.slice(0, -1)}${sub.endsWith('0') ? '1' : '0'}`;
      },
    ],
    [
      'exp pushed a year out',
      (p: Record<string, unknown>) => {
        p.exp = (p.exp as number) + 365 * 86_400;
      },
    ],
    [
      'acsScope widened',
      (p: Record<string, unknown>) => {
        p.acsScope = 'chat,voip';
      },
    ],
    [
      'rev lowered',
      (p: Record<string, unknown>) => {
        p.rev = -1;
      },
    ],
  ])('tampered payload (%s) → ERR_TOKEN_BAD_SIGNATURE', async (_label, change) => {
    expect(await introspect(target, tamperPayload(token, change))).toEqual({
      active: false,
      reason: 'ERR_TOKEN_BAD_SIGNATURE',
    });
  });

  it('a flipped signature byte or a truncated signature → ERR_TOKEN_BAD_SIGNATURE', async () => {
    const [h, p, s = ''] = token.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[10] = (sig[10] ?? 0) ^ 0xff;
    expect(await introspect(target, `${h}.${p}.${sig.toString('base64url')}`)).toEqual({
      active: false,
      reason: 'ERR_TOKEN_BAD_SIGNATURE',
    });
    expect(await introspect(target, `${h}.${p}.${sig.subarray(0, 20).toString('base64url')}`)).toEqual({
      active: false,
      reason: 'ERR_TOKEN_BAD_SIGNATURE',
    });
  });

  it('alg switched to none or HS256 → rejected, never active', async () => {
    const [, p, s] = token.split('.');
    for (const alg of ['none', 'HS256']) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid: decodeToken(token).header.kid })).toString(
        'base64url',
      );
      const result = await introspect(target, `${header}.${p}.${s}`);
      expect(result.active).toBe(false);
      expect(result).toEqual({ active: false, reason: 'ERR_TOKEN_BAD_SIGNATURE' });
    }
  });

  it('a kid this server never had → ERR_TOKEN_UNKNOWN_KEY', async () => {
    const [, p, s] = token.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'not-a-key' })).toString('base64url');
    expect(await introspect(target, `${header}.${p}.${s}`)).toEqual({ active: false, reason: 'ERR_TOKEN_UNKNOWN_KEY' });
  });

  // Issue #16, token contract version 2: one valid form per token. ECDSA's (r, n − s) twin of a valid signature verifies
  // too; the server mints low-S only and refuses the high-S twin of its own tsv-2 token.
  it('the high-S twin of a minted token (tsv 2) → ERR_TOKEN_BAD_SIGNATURE, while the token itself is active', async () => {
    const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const [h, p, sig = ''] = token.split('.');
    const bytes = Buffer.from(sig, 'base64url');
    const low = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
    expect(decodeToken(token).payload.tsv).toBe(2);
    expect(low <= N / 2n).toBe(true);
    const high = Buffer.concat([bytes.subarray(0, 32), Buffer.from((N - low).toString(16).padStart(64, '0'), 'hex')]);
    expect((await introspect(target, token)).active).toBe(true);
    expect(await introspect(target, `${h}.${p}.${high.toString('base64url')}`)).toEqual({
      active: false,
      reason: 'ERR_TOKEN_BAD_SIGNATURE',
    });
  });

  // Tokens minted before the upgrade (tsv 1) were not normalised: they stay valid in either form while they live.
  // Minted here with the server's own signing key, read from its store with its master key.
  it('a tsv-1 token signed by this server is active in its high-S and its low-S form', async () => {
    const box = createSecretBox(base64ToBytes(readFileSync(join(ts.dataDir, 'master.key'), 'utf8').trim()) ?? fail());
    const store = createSqliteStore({ path: join(ts.dataDir, 'tessera.db') });
    const active = (await store.listSigningKeys()).find((k) => k.status === 'active') ?? fail();
    await store.close();
    const key = createPrivateKey(box.open(active.privateKey));
    const input = encodeSigningInput(
      { alg: 'ES256', typ: 'JWT', kid: active.kid },
      {
        ...decodeToken(token).payload,
        tsv: 1,
      },
    );
    const forms = new Set<boolean>();
    for (let i = 0; forms.size < 2 && i < 64; i++) {
      const signature = new Uint8Array(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
      if (forms.has(isHighS(signature))) continue;
      forms.add(isHighS(signature));
      expect((await introspect(target, assembleJwt(input, signature))).active, `high-S: ${isHighS(signature)}`).toBe(
        true,
      );
    }
    expect(forms.size).toBe(2);
  });

  // RFC 7515 §4.1.11: a `crit` the recipient does not understand MUST be rejected (before the signature is looked at).
  it.each([
    ['an extension', { crit: ['exp'], exp: 1 }],
    ['an empty list', { crit: [] }],
    ['b64', { crit: ['b64'], b64: false }],
  ])('a header with crit naming %s → ERR_TOKEN_MALFORMED', async (_label, extra) => {
    const [, p, s] = token.split('.');
    const header = Buffer.from(
      JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: decodeToken(token).header.kid, ...extra }),
    ).toString('base64url');
    expect(await introspect(target, `${header}.${p}.${s}`)).toEqual({ active: false, reason: 'ERR_TOKEN_MALFORMED' });
  });
});

describe('token times (startServer clock option)', () => {
  it('a 60-minute token minted 61 minutes ago → ERR_TOKEN_EXPIRED', async () => {
    const { identity } = await createIdentity(target);
    offsetMs = -61 * 60_000;
    let token = '';
    try {
      const res = await acsRequest(target, 'POST', identityPath(identity.id, '/:issueAccessToken'), {
        json: { scopes: ['chat'], expiresInMinutes: 60 },
        date: serverDate(),
      });
      expect(res.status, res.text).toBe(200);
      token = (res.json as { token: string }).token;
    } finally {
      offsetMs = 0;
    }
    expect(await introspect(target, token)).toEqual({ active: false, reason: 'ERR_TOKEN_EXPIRED' });
  });

  it('a token minted by a server clock one hour ahead is ERR_TOKEN_NOT_YET_VALID for now', async () => {
    const { identity } = await createIdentity(target);
    offsetMs = 60 * 60_000;
    let token = '';
    try {
      const res = await acsRequest(target, 'POST', identityPath(identity.id, '/:issueAccessToken'), {
        json: { scopes: ['chat'] },
        date: serverDate(),
      });
      expect(res.status, res.text).toBe(200);
      token = (res.json as { token: string }).token;
    } finally {
      offsetMs = 0;
    }
    expect(await introspect(target, token)).toEqual({ active: false, reason: 'ERR_TOKEN_NOT_YET_VALID' });
  });

  it('a token minted in the past that has not expired yet is still active', async () => {
    const { identity } = await createIdentity(target);
    offsetMs = -30 * 60_000;
    let token = '';
    try {
      const res = await acsRequest(target, 'POST', identityPath(identity.id, '/:issueAccessToken'), {
        json: { scopes: ['chat'], expiresInMinutes: 60 },
        date: serverDate(),
      });
      token = (res.json as { token: string }).token;
    } finally {
      offsetMs = 0;
    }
    expect((await introspect(target, token)).active).toBe(true);
  });
});

describe('restart on the same data dir', () => {
  it('keeps the resource, the keys, the signing key, live tokens and revocations', async () => {
    const dir = tempDir();
    try {
      const first = await startTestServer({ dataDir: dir.path });
      const t1 = { url: first.url, accessKey: first.primaryKey };
      const live = await createIdentity(t1, { createTokenWithScopes: ['chat', 'voip'] });
      const revoked = await createIdentity(t1, { createTokenWithScopes: ['chat'] });
      await acsRequest(t1, 'POST', identityPath(revoked.identity.id, '/:revokeAccessTokens'));
      const custom = await createIdentity(
        t1,
        { customId: 'survivor', createTokenWithScopes: ['chat'] },
        '2025-03-02-preview',
      );
      const deleted = await createIdentity(t1, { createTokenWithScopes: ['chat'] });
      await acsRequest(t1, 'DELETE', identityPath(deleted.identity.id));
      const jwksBefore = await fetchJwks(first.url);
      const resourceId = first.server.resourceId;
      expect(first.server.createdResource).toBe(true);
      await first.close();

      const second = await startTestServer({ dataDir: dir.path });
      try {
        const t2 = { url: second.url, accessKey: second.primaryKey };
        expect(second.server.createdResource).toBe(false);
        expect(second.server.resourceId).toBe(resourceId);
        expect(second.primaryKey).toBe(first.primaryKey);
        expect(second.verifierKey).toBe(first.verifierKey);
        const jwksAfter = await fetchJwks(second.url);
        expect(jwksAfter.keys.map((k) => k.kid)).toEqual(jwksBefore.keys.map((k) => k.kid));
        expect(decodeToken(live.accessToken?.token ?? '').header.kid).toBe(jwksAfter.keys[0]?.kid);

        expect((await introspect(t2, live.accessToken?.token ?? '')).active).toBe(true);
        expect(await introspect(t2, revoked.accessToken?.token ?? '')).toEqual({
          active: false,
          reason: 'ERR_TOKEN_REVOKED',
        });
        expect(await introspect(t2, deleted.accessToken?.token ?? '')).toEqual({
          active: false,
          reason: 'ERR_TOKEN_IDENTITY_DELETED',
        });
        // customId and lastTokenIssuedAt survive a graceful restart; the customId still maps to the same identity.
        const got = await acsRequest(t2, 'GET', identityPath(custom.identity.id, '', '2025-03-02-preview'));
        expect(got.json).toMatchObject({ id: custom.identity.id, customId: 'survivor' });
        expect((got.json as { lastTokenIssuedAt?: string }).lastTokenIssuedAt).toBe(custom.identity.lastTokenIssuedAt);
        const again1 = await createIdentity(t2, { customId: 'survivor' }, '2025-03-02-preview');
        expect(again1.identity.id).toBe(custom.identity.id);
        // The old identity is still usable through the official SDK with the same connection string shape.
        const client = identityClient(second.server.connectionString);
        const again = await client.getToken({ communicationUserId: live.identity.id }, ['chat']);
        expect(decodeToken(again.token).payload.sub).toBe(live.identity.id);
      } finally {
        await second.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
