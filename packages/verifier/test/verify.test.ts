import { isTesseraError } from '@tessera/core';
import { createVerifier, type Verifier, type VerifierLogger, type VerifierOptions } from '@tessera/verifier';
import { nodeSignatureVerifier } from '@tessera/verifier/node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONNECTION_STRING,
  ENDPOINT,
  FakeIdentityServer,
  ISSUER,
  mint,
  newRawId,
  newSigningKey,
  rejection,
  T0,
  until,
} from './helpers/fake-identity-server.js';

const open: Verifier[] = [];
afterEach(async () => {
  for (const v of open.splice(0)) await v.close();
});

interface Harness {
  server: FakeIdentityServer;
  verifier: Verifier;
  clock: { now: number };
  logs: string[];
}

async function harness(options: Partial<VerifierOptions> = {}, server = new FakeIdentityServer()): Promise<Harness> {
  const clock = { now: T0 };
  const logs: string[] = [];
  const logger: VerifierLogger = {
    warn: (message, fields) => logs.push(`${message} ${JSON.stringify(fields ?? {})}`),
  };
  const verifier = createVerifier({
    connectionString: CONNECTION_STRING,
    clock: () => clock.now,
    fetch: server.fetch,
    logger,
    ...options,
  });
  open.push(verifier);
  await verifier.ready();
  return { server, verifier, clock, logs };
}

async function code(promise: Promise<unknown>): Promise<string> {
  return (await rejection(promise)).code;
}

describe.each([
  ['WebCrypto (default, runtime-neutral)', {}],
  ['node:crypto fast path', { signatureVerifier: nodeSignatureVerifier() }],
] as const)('verify with %s', (_name, extra) => {
  it('resolves identity, scopes, expiry and resource of a genuine token', async () => {
    const h = await harness(extra);
    const rawId = newRawId();
    const token = mint({ key: h.server.key, rawId, scopes: ['chat', 'voip.join'], lifetimeMinutes: 90 });
    const v = await h.verifier.verify(token);
    expect(v.identity).toBe(rawId);
    expect(v.scopes).toEqual(['chat', 'voip.join']);
    expect(v.expiresAt).toBe(T0 + 90 * 60_000);
    expect(v.issuedAt).toBe(T0);
    expect(v.resource).toBe(rawId.slice(6, 42));
    expect(v.resourceLocation).toBe('unitedstates');
    expect(v.claims.iss).toBe(ISSUER);
    expect(Object.isFrozen(v)).toBe(true);
  });

  it('rejects a token whose payload was altered with ERR_TOKEN_BAD_SIGNATURE', async () => {
    const h = await harness(extra);
    const token = mint({ key: h.server.key, scopes: ['chat.join'] });
    const [head, payload, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.acsScope = 'chat';
    const forged = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    expect(await code(h.verifier.verify(forged))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });

  it('rejects a token signed by another key under a published kid with ERR_TOKEN_BAD_SIGNATURE', async () => {
    const h = await harness(extra);
    const impostor = { ...newSigningKey(h.server.key.kid) };
    expect(await code(h.verifier.verify(mint({ key: impostor })))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });
});

describe('verify: every error code', () => {
  it.each([
    ['garbage', 'not a token'],
    ['two parts', 'eyJhbGciOiJFUzI1NiJ9.eyJ9'],
    ['empty string', ''],
    ['header not JSON', `${Buffer.from('{nope').toString('base64url')}.e30.AAAA`],
    ['payload not base64url', 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.***.AAAA'],
  ])('ERR_TOKEN_MALFORMED for %s', async (_name, token) => {
    const h = await harness();
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('ERR_TOKEN_MALFORMED for a non-string', async () => {
    const h = await harness();
    expect(await code(h.verifier.verify(42 as unknown as string))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('ERR_TOKEN_MALFORMED for alg none / HS256 and for a missing kid', async () => {
    const h = await harness();
    const key = h.server.key;
    expect(await code(h.verifier.verify(mint({ key, header: { alg: 'none', kid: key.kid } })))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    expect(await code(h.verifier.verify(mint({ key, header: { alg: 'HS256', kid: key.kid } })))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    expect(await code(h.verifier.verify(mint({ key, header: { alg: 'ES256' } })))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('ERR_TOKEN_MALFORMED when a signed payload lacks contract claims; ERR_TOKEN_UNSUPPORTED_VERSION for tsv 3', async () => {
    const h = await harness();
    const key = h.server.key;
    expect(await code(h.verifier.verify(mint({ key, patch: { sub: 'someone' } })))).toBe('ERR_TOKEN_MALFORMED');
    expect(await code(h.verifier.verify(mint({ key, patch: { tsv: 3 } })))).toBe('ERR_TOKEN_UNSUPPORTED_VERSION');
    expect(await code(h.verifier.verify(mint({ key, patch: { tsv: 0 } })))).toBe('ERR_TOKEN_UNSUPPORTED_VERSION');
  });

  // Issue #16: tokens have one valid form. From contract version 2 the signature must be low-S; a high-S signature
  // (what node:crypto produces half the time, and the malleated twin of any valid token) is refused. Tokens of version
  // 1, minted before the upgrade, are accepted in either form while they live.
  it.each([
    ['WebCrypto', {}],
    ['node:crypto', { signatureVerifier: nodeSignatureVerifier() }],
  ] as const)(
    'tsv 2: the low-S token verifies and its high-S twin is ERR_TOKEN_BAD_SIGNATURE; tsv 1 verifies in both forms (%s)',
    async (_n, extra) => {
      const h = await harness(extra);
      const key = h.server.key;
      const rawId = newRawId();
      const low = mint({ key, rawId, s: 'low' });
      const high = mint({ key, rawId, s: 'high' });
      expect(await h.verifier.verify(low)).toMatchObject({ identity: rawId });
      const error = await rejection(h.verifier.verify(high));
      expect(error.code).toBe('ERR_TOKEN_BAD_SIGNATURE');
      expect(error.message).toMatch(/low-S/);
      for (const s of ['low', 'high'] as const) {
        const legacy = mint({ key, rawId, s, patch: { tsv: 1 } });
        expect((await h.verifier.verify(legacy)).claims.tsv).toBe(1);
      }
    },
  );

  // The other spelling of the same signature: the 86-character segment has 4 spare bits that lenient decoders ignore.
  it.each([
    ['WebCrypto', {}],
    ['node:crypto', { signatureVerifier: nodeSignatureVerifier() }],
  ] as const)(
    'a token whose signature segment is respelled with non-zero spare bits → ERR_TOKEN_MALFORMED (%s)',
    async (_n, extra) => {
      const h = await harness(extra);
      const token = mint({ key: h.server.key });
      await expect(h.verifier.verify(token)).resolves.toBeDefined();
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const respelled = `${token.slice(0, -1)}${alphabet.charAt(alphabet.indexOf(token.charAt(token.length - 1)) | 1)}`;
      expect(Buffer.from(respelled.split('.')[2] ?? '', 'base64url')).toEqual(
        Buffer.from(token.split('.')[2] ?? '', 'base64url'),
      );
      expect(await code(h.verifier.verify(respelled))).toBe('ERR_TOKEN_MALFORMED');
    },
  );

  // RFC 7515 §4.1.11: a recipient MUST reject a `crit` it does not understand; this verifier understands none.
  it.each([
    ['an extension', { crit: ['exp'], exp: 1 }],
    ['an empty list', { crit: [] }],
    ['b64', { crit: ['b64'], b64: false }],
    ['a registered header', { crit: ['kid'] }],
  ])('a correctly signed token whose header has crit naming %s → ERR_TOKEN_MALFORMED', async (_n, extra) => {
    const h = await harness();
    const key = h.server.key;
    const token = mint({ key, header: { alg: 'ES256', typ: 'JWT', kid: key.kid, ...extra } });
    const error = await rejection(h.verifier.verify(token));
    expect(error.code).toBe('ERR_TOKEN_MALFORMED');
    expect(error.message).toMatch(/crit/);
  });

  it('ERR_TOKEN_BAD_SIGNATURE for a signature of the wrong length', async () => {
    const h = await harness();
    const token = mint({ key: h.server.key });
    expect(await code(h.verifier.verify(`${token.slice(0, token.lastIndexOf('.'))}.AAAA`))).toBe(
      'ERR_TOKEN_BAD_SIGNATURE',
    );
  });

  it('ERR_TOKEN_UNKNOWN_KEY for an unpublished kid, refetching the JWKS at most once per interval', async () => {
    const h = await harness({ jwks: { minRefetchIntervalMs: 10_000 } });
    expect(h.server.jwksFetches).toBe(1);
    const stranger = newSigningKey('not-published');
    expect(await code(h.verifier.verify(mint({ key: stranger })))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(h.server.jwksFetches).toBe(1); // fetched at startup less than the interval ago: no refetch
    h.clock.now += 10_000;
    expect(await code(h.verifier.verify(mint({ key: stranger, nowMs: h.clock.now })))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(h.server.jwksFetches).toBe(2);
    expect(await code(h.verifier.verify(mint({ key: stranger, nowMs: h.clock.now })))).toBe('ERR_TOKEN_UNKNOWN_KEY');
    expect(h.server.jwksFetches).toBe(2);
  });

  it('follows a signing-key rollover without a restart: an unknown kid refetches the JWKS', async () => {
    const h = await harness({ jwks: { minRefetchIntervalMs: 1000 } });
    const before = mint({ key: h.server.key });
    await h.verifier.verify(before);
    const next = newSigningKey('rolled-over');
    h.server.keys = [next, h.server.key];
    h.clock.now += 1000;
    const after = mint({ key: next, nowMs: h.clock.now });
    expect((await h.verifier.verify(after)).identity).toMatch(/^8:acs:/);
    expect(h.server.jwksFetches).toBe(2);
    expect((await h.verifier.verify(before)).identity).toMatch(/^8:acs:/); // the retired key still verifies
  });

  it('a key removed from the JWKS stops verifying even cached tokens', async () => {
    const h = await harness({ jwks: { minRefetchIntervalMs: 0 } });
    const old = h.server.key;
    const token = mint({ key: old });
    await h.verifier.verify(token);
    const next = newSigningKey('replacement');
    h.server.keys = [next];
    await h.verifier.verify(mint({ key: next })); // unknown kid → refetch → old kid gone → cache cleared
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_UNKNOWN_KEY');
  });

  it('ERR_TOKEN_WRONG_ISSUER and ERR_TOKEN_WRONG_AUDIENCE against the discovery document', async () => {
    const h = await harness();
    expect(await code(h.verifier.verify(mint({ key: h.server.key, issuer: 'urn:someone-else' })))).toBe(
      'ERR_TOKEN_WRONG_ISSUER',
    );
    expect(await code(h.verifier.verify(mint({ key: h.server.key, audience: 'urn:other-service' })))).toBe(
      'ERR_TOKEN_WRONG_AUDIENCE',
    );
  });

  it('issuer and audience given as options override discovery', async () => {
    const h = await harness({ issuer: 'urn:custom', audience: 'urn:custom-aud' });
    expect(h.server.discoveryFetches).toBe(0);
    expect(await code(h.verifier.verify(mint({ key: h.server.key })))).toBe('ERR_TOKEN_WRONG_ISSUER');
    const ok = mint({ key: h.server.key, issuer: 'urn:custom', audience: 'urn:custom-aud' });
    expect((await h.verifier.verify(ok)).claims.aud).toBe('urn:custom-aud');
  });

  it('ERR_TOKEN_EXPIRED after exp plus the clock-skew leeway; accepted inside the leeway', async () => {
    const h = await harness({ clockSkewSeconds: 30, cache: false, revocation: { maxStalenessMs: 365 * 86_400_000 } });
    const token = mint({ key: h.server.key, lifetimeMinutes: 60 });
    h.clock.now = T0 + 60 * 60_000 + 29_999;
    await expect(h.verifier.verify(token)).resolves.toBeDefined();
    h.clock.now = T0 + 60 * 60_000 + 30_000;
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('ERR_TOKEN_NOT_YET_VALID before nbf minus the leeway; accepted inside the leeway', async () => {
    const h = await harness({ clockSkewSeconds: 5 });
    expect(await code(h.verifier.verify(mint({ key: h.server.key, nowMs: T0 + 6_000 })))).toBe(
      'ERR_TOKEN_NOT_YET_VALID',
    );
    await expect(h.verifier.verify(mint({ key: h.server.key, nowMs: T0 + 5_000 }))).resolves.toBeDefined();
  });

  it('ERR_TOKEN_REVOKED is exact: a token minted before the revocation fails, one minted after passes', async () => {
    const h = await harness();
    const rawId = newRawId();
    const before = mint({ key: h.server.key, rawId, epoch: 0 });
    await h.verifier.verify(before);
    h.server.revoke(1, rawId, 1);
    await until(() => h.verifier.status().seq === 1);
    expect(await code(h.verifier.verify(before))).toBe('ERR_TOKEN_REVOKED');
    const after = mint({ key: h.server.key, rawId, epoch: 1 });
    expect((await h.verifier.verify(after)).identity).toBe(rawId);
  });

  it('ERR_TOKEN_IDENTITY_DELETED once the identity is deleted', async () => {
    const h = await harness();
    const rawId = newRawId();
    const token = mint({ key: h.server.key, rawId, epoch: 0 });
    await h.verifier.verify(token);
    h.server.deleteIdentity(1, rawId, 1);
    await until(() => h.verifier.status().seq === 1);
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_IDENTITY_DELETED');
    expect(await code(h.verifier.verify(mint({ key: h.server.key, rawId, epoch: 1 })))).toBe(
      'ERR_TOKEN_IDENTITY_DELETED',
    );
  });

  it('ERR_TOKEN_KEY_ROTATED for tokens minted under a regenerated access key, and only those', async () => {
    const h = await harness();
    const primary = mint({ key: h.server.key, accessKey: { name: 'primary', version: 1 } });
    const secondary = mint({ key: h.server.key, accessKey: { name: 'secondary', version: 1 } });
    const bearer = mint({ key: h.server.key, accessKey: undefined });
    h.server.regenerateKey(1, 'primary', 2);
    h.server.regenerateKey(2, 'verifier', 2); // the read-only key mints nothing: ignored
    await until(() => h.verifier.status().seq === 2);
    expect(await code(h.verifier.verify(primary))).toBe('ERR_TOKEN_KEY_ROTATED');
    await expect(h.verifier.verify(secondary)).resolves.toBeDefined();
    await expect(h.verifier.verify(bearer)).resolves.toBeDefined();
    const fresh = mint({ key: h.server.key, accessKey: { name: 'primary', version: 2 } });
    await expect(h.verifier.verify(fresh)).resolves.toBeDefined();
  });

  it('applies the snapshot: identities revoked or deleted before the verifier started', async () => {
    const server = new FakeIdentityServer();
    const revoked = newRawId();
    const deleted = newRawId();
    server.snapshot = {
      seq: 7,
      identities: [
        { id: revoked, epoch: 2, deleted: false },
        { id: deleted, epoch: 1, deleted: true },
      ],
      keys: { primary: 3, secondary: 1 },
    };
    const h = await harness({}, server);
    expect(h.verifier.status().seq).toBe(7);
    expect(await code(h.verifier.verify(mint({ key: server.key, rawId: revoked, epoch: 1 })))).toBe(
      'ERR_TOKEN_REVOKED',
    );
    await expect(
      h.verifier.verify(
        mint({ key: server.key, rawId: revoked, epoch: 2, accessKey: { name: 'primary', version: 3 } }),
      ),
    ).resolves.toBeDefined();
    expect(await code(h.verifier.verify(mint({ key: server.key, rawId: deleted, epoch: 1 })))).toBe(
      'ERR_TOKEN_IDENTITY_DELETED',
    );
    expect(await code(h.verifier.verify(mint({ key: server.key, accessKey: { name: 'primary', version: 2 } })))).toBe(
      'ERR_TOKEN_KEY_ROTATED',
    );
  });

  it('ERR_REVOCATION_STALE (fail closed, the default) once the feed is silent longer than the bound', async () => {
    const h = await harness({ revocation: { maxStalenessMs: 10_000 } });
    const token = mint({ key: h.server.key });
    await h.verifier.verify(token);
    h.clock.now += 10_001;
    expect(h.verifier.status().stale).toBe(true);
    expect(await code(h.verifier.verify(token))).toBe('ERR_REVOCATION_STALE');
    expect(await code(h.verifier.verify(mint({ key: h.server.key })))).toBe('ERR_REVOCATION_STALE');
    h.server.heartbeat();
    await until(() => !h.verifier.status().stale);
    await expect(h.verifier.verify(token)).resolves.toBeDefined();
  });

  it('fail open: a stale feed still lets tokens through, judged on the last known state, and warns once', async () => {
    const h = await harness({ revocation: { maxStalenessMs: 10_000, onStale: 'fail-open' } });
    const rawId = newRawId();
    h.server.revoke(1, rawId, 1);
    await until(() => h.verifier.status().seq === 1);
    h.clock.now += 10_001;
    await expect(h.verifier.verify(mint({ key: h.server.key, nowMs: h.clock.now }))).resolves.toBeDefined();
    await expect(h.verifier.verify(mint({ key: h.server.key, nowMs: h.clock.now }))).resolves.toBeDefined();
    expect(await code(h.verifier.verify(mint({ key: h.server.key, rawId, nowMs: h.clock.now })))).toBe(
      'ERR_TOKEN_REVOKED',
    );
    expect(h.logs.filter((l) => l.includes('failing open'))).toHaveLength(1);
  });

  it('ERR_STORE_UNAVAILABLE when the identity server cannot be reached for discovery', async () => {
    const server = new FakeIdentityServer();
    server.discoveryAvailable = false;
    const verifier = createVerifier({ endpoint: ENDPOINT, revocation: false, fetch: server.fetch, clock: () => T0 });
    open.push(verifier);
    expect(await code(verifier.verify(mint({ key: server.key })))).toBe('ERR_STORE_UNAVAILABLE');
    server.discoveryAvailable = true; // retried on demand
    await expect(verifier.verify(mint({ key: server.key }))).resolves.toBeDefined();
  });

  it('never puts the token or its signature in an error message or a log line', async () => {
    const h = await harness({ revocation: { maxStalenessMs: 10_000 } });
    const key = h.server.key;
    const rawId = newRawId();
    const tokens = [
      mint({ key, patch: { tsv: 3 } }),
      mint({ key, s: 'high' }),
      mint({ key, issuer: 'urn:x' }),
      mint({ key, audience: 'urn:x' }),
      mint({ key, nowMs: T0 - 3 * 3_600_000 }),
      mint({ key, nowMs: T0 + 3_600_000 }),
      mint({ key: newSigningKey('unknown') }),
      mint({ key, rawId }),
      `${mint({ key }).slice(0, -4)}AAAA`,
    ];
    h.server.revoke(1, rawId, 1);
    await until(() => h.verifier.status().seq === 1);
    const messages: string[] = [];
    for (const t of tokens) {
      const e = await rejection(h.verifier.verify(t));
      expect(isTesseraError(e)).toBe(true);
      messages.push(e.message, JSON.stringify(e));
    }
    h.clock.now += 20_000;
    messages.push((await rejection(h.verifier.verify(tokens[0] as string))).message);
    h.server.sendRaw('event: snapshot\ndata: {not json}\n\n');
    await until(() => h.logs.length > 0);
    for (const t of tokens) {
      const [, payload, sig] = t.split('.') as [string, string, string];
      for (const text of [...messages, ...h.logs]) {
        expect(text).not.toContain(t);
        expect(text).not.toContain(sig);
        expect(text).not.toContain(payload);
      }
    }
  });
});

describe('verify: the verified-token cache', () => {
  it('returns the same frozen result on a hit without verifying the signature again', async () => {
    let verifications = 0;
    const counting = {
      async importKey(jwk: Parameters<ReturnType<typeof nodeSignatureVerifier>['importKey']>[0]) {
        const inner = await nodeSignatureVerifier().importKey(jwk);
        return {
          verify: (sig: Uint8Array, input: string) => {
            verifications++;
            return inner.verify(sig, input);
          },
        };
      },
    };
    const h = await harness({ signatureVerifier: counting });
    const token = mint({ key: h.server.key });
    const a = await h.verifier.verify(token);
    const b = await h.verifier.verify(Buffer.from(token).toString()); // an equal string, another object
    expect(b).toBe(a);
    expect(verifications).toBe(1);
    expect(h.verifier.status().cacheSize).toBe(1);
  });

  it('a revocation event invalidates a cached result at once', async () => {
    const h = await harness();
    const rawId = newRawId();
    const token = mint({ key: h.server.key, rawId });
    await h.verifier.verify(token);
    await h.verifier.verify(token);
    h.server.revoke(1, rawId, 1);
    await until(() => h.verifier.status().seq === 1);
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_REVOKED');
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_REVOKED');
  });

  it('a cached result expires with its token', async () => {
    const h = await harness({ clockSkewSeconds: 0 });
    const token = mint({ key: h.server.key, lifetimeMinutes: 60 });
    await h.verifier.verify(token);
    h.clock.now = T0 + 60 * 60_000;
    h.server.heartbeat();
    await until(() => !h.verifier.status().stale);
    expect(await code(h.verifier.verify(token))).toBe('ERR_TOKEN_EXPIRED');
    expect(h.verifier.status().cacheSize).toBe(0);
  });

  it('is bounded by maxEntries', async () => {
    const h = await harness({ cache: { maxEntries: 3 } });
    for (let i = 0; i < 10; i++) await h.verifier.verify(mint({ key: h.server.key }));
    expect(h.verifier.status().cacheSize).toBe(3);
  });
});

describe('createVerifier: configuration and lifecycle', () => {
  it('refuses to start without an endpoint', () => {
    expect(() => createVerifier({ revocation: false })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });

  it('refuses to silently skip revocation: without a connectionString, revocation: false must be explicit', () => {
    expect(() => createVerifier({ endpoint: ENDPOINT })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', target: 'connectionString' }),
    );
  });

  it('refuses a malformed connection string without echoing the key', () => {
    try {
      createVerifier({ connectionString: 'endpoint=http://x/;accesskey=!!!secret!!!' });
      expect.unreachable();
    } catch (error) {
      expect((error as { code: string }).code).toBe('ERR_CONNECTION_STRING_INVALID');
      expect(String((error as Error).message)).not.toContain('secret');
    }
  });

  it('with revocation off, verifies offline and reports revocation "off"', async () => {
    const server = new FakeIdentityServer();
    const verifier = createVerifier({ endpoint: ENDPOINT, revocation: false, fetch: server.fetch, clock: () => T0 });
    open.push(verifier);
    await verifier.ready();
    await expect(verifier.verify(mint({ key: server.key }))).resolves.toBeDefined();
    expect(verifier.status()).toMatchObject({ revocation: 'off', stale: false, connected: false });
    expect(server.feedRequests).toHaveLength(0);
  });

  it('a verify issued before the first snapshot waits for it instead of failing', async () => {
    const server = new FakeIdentityServer();
    server.autoSnapshot = false;
    const verifier = createVerifier({ connectionString: CONNECTION_STRING, fetch: server.fetch, clock: () => T0 });
    open.push(verifier);
    const pending = verifier.verify(mint({ key: server.key }));
    await until(() => server.live !== undefined);
    server.send('snapshot', server.snapshot, 0);
    await expect(pending).resolves.toBeDefined();
  });

  it('ready() rejects with ERR_REVOCATION_STALE when no snapshot arrives within the bound', async () => {
    const server = new FakeIdentityServer();
    server.autoSnapshot = false;
    const verifier = createVerifier({
      connectionString: CONNECTION_STRING,
      fetch: server.fetch,
      revocation: { maxStalenessMs: 50 },
    });
    open.push(verifier);
    expect(await code(verifier.ready())).toBe('ERR_REVOCATION_STALE');
  });

  it('authorize() is core authorize over the verified token', async () => {
    const h = await harness();
    const v = await h.verifier.verify(mint({ key: h.server.key, scopes: ['chat.join'] }));
    expect(h.verifier.authorize(v, 'chat.participant.add')).toEqual({ allowed: true });
    expect(h.verifier.authorize(v, 'chat.thread.create')).toMatchObject({ allowed: false, allowedBy: ['chat'] });
  });
});
