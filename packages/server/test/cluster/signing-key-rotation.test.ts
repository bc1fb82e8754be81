import { randomBytes } from 'node:crypto';
import { createVerifier, type Verifier } from '@tessera/verifier';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testPostgresUrl } from '../../../../test/support/test-postgres-url.js';
import {
  acsRequest,
  createIdentity,
  decodeToken,
  fetchJwks,
  introspect,
  issueToken,
  killAllSpawned,
  PREVIEW,
  type ServeProcess,
  spawnServe,
  tempDir,
} from '../e2e/helpers.js';

// Issue 16, "keys that rotate": a signing key rotated through one of three `tessera serve` processes on one
// PostgreSQL is published by all three before any signs with it, the old key stays published, and a verifier
// (which fetched JWKS before the rotation) picks the new kid up without a restart. Tokens are issued through all
// three and verified continuously across the rollover: not one valid token may fail.

interface SigningKeyView {
  kid: string;
  state: 'pending' | 'active' | 'retired';
  activatesAt: string;
  retiredAt?: string;
  dropsAt?: string;
}

describe('signing key rotation on three processes sharing PostgreSQL', () => {
  const pgUrl = testPostgresUrl();
  const schema = `tessera_rotate_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = tempDir('tessera-rotate-');
  // Polling is off in effect (60 s): the processes learn of the new key through LISTEN/NOTIFY alone.
  const flags = [
    '--port',
    '0',
    '--log-level',
    'silent',
    '--store',
    `${pgUrl}?schema=${schema}`,
    '--master-key',
    randomBytes(32).toString('base64'),
    '--primary-key',
    randomBytes(64).toString('base64'),
    '--data-dir',
    dataDir.path,
    '--rate-limit',
    'off',
    '--poll-ms',
    '60000',
  ];
  let processes: ServeProcess[] = [];
  let verifier: Verifier;

  beforeAll(async () => {
    processes = await Promise.all([spawnServe(flags), spawnServe(flags), spawnServe(flags)]);
    const [, b] = processes;
    if (b === undefined) throw new Error('unreachable');
    // The verifier reads JWKS and the feed from B only; the rotation is made through C, tokens come from all three.
    verifier = createVerifier({ connectionString: b.connectionString });
    await verifier.ready();
  }, 60_000);

  afterAll(async () => {
    await verifier?.close();
    await killAllSpawned();
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
    dataDir.cleanup();
  });

  it('issues and verifies continuously across the rollover with no valid token failing', async () => {
    const [a, b, c] = processes;
    if (a === undefined || b === undefined || c === undefined) throw new Error('unreachable');
    const id = (await createIdentity(a, {}, PREVIEW)).identity.id;
    const before = (await issueToken(a, id, ['chat'], PREVIEW)).token;
    const oldKid = decodeToken(before).header.kid;

    const failures: string[] = [];
    const kidsSeen = new Set<string>();
    const issued: string[] = [];
    const round = async (n: number): Promise<void> => {
      const issuer = processes[n % 3] ?? a;
      const token = (await issueToken(issuer, id, ['chat'], PREVIEW)).token;
      issued.push(token);
      const kid = decodeToken(token).header.kid;
      if (kid !== undefined) kidsSeen.add(kid);
      try {
        await verifier.verify(token);
      } catch (error) {
        failures.push(`verifier: token ${n} from process ${n % 3}: ${(error as { code?: string }).code ?? error}`);
      }
      // Introspection on the next process: every process knows every published key.
      const other = processes[(n + 1) % 3] ?? a;
      const seen = await introspect(other, token);
      if (!seen.active) failures.push(`introspection on ${(n + 1) % 3}: token ${n}: ${seen.reason}`);
    };

    let n = 0;
    for (let i = 0; i < 30; i++) await round(n++);
    const rotated = await acsRequest(c, 'POST', '/admin/signing-keys/:rotate', { json: {} });
    expect(rotated.status).toBe(201);
    const fresh = (rotated.json as { key: SigningKeyView }).key;
    expect(fresh.state).toBe('pending');
    const activatesAt = Date.parse(fresh.activatesAt);

    // Published at once, by every process, before it signs.
    for (const p of processes) {
      const deadline = Date.now() + 2000;
      while (!(await fetchJwks(p.url)).keys.some((k) => k.kid === fresh.kid)) {
        if (Date.now() > deadline) throw new Error(`process ${p.url} does not publish ${fresh.kid}`);
        await new Promise((done) => setTimeout(done, 50));
      }
    }
    expect(Date.now()).toBeLessThan(activatesAt);

    // Keep going across the activation and two seconds past it.
    while (Date.now() < activatesAt + 2000) await round(n++);

    expect(failures).toStrictEqual([]);
    expect(kidsSeen).toStrictEqual(new Set([oldKid, fresh.kid]));
    // Every process signs with the new key now.
    for (const p of processes) {
      expect(decodeToken((await issueToken(p, id, ['chat'], PREVIEW)).token).header.kid).toBe(fresh.kid);
    }
    // Tokens of the old key stay valid: it is retired, still published, and dropped only after its last token.
    await expect(verifier.verify(before)).resolves.toBeDefined();
    for (const p of processes) expect((await introspect(p, before)).active).toBe(true);
    const listed = await acsRequest(a, 'GET', '/admin/signing-keys');
    const keys = (listed.json as { keys: SigningKeyView[] }).keys;
    const old = keys.find((k) => k.kid === oldKid);
    expect(old?.state).toBe('retired');
    expect(Date.parse(old?.dropsAt ?? '') - Date.parse(old?.retiredAt ?? '')).toBe((1440 * 60 + 900) * 1000);
    expect(keys.find((k) => k.kid === fresh.kid)?.state).toBe('active');
  }, 60_000);
});
