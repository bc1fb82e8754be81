import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTesseraError } from '@tessera/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import {
  createIdentity,
  introspect,
  issueToken,
  PREVIEW,
  runCli,
  startTestServer,
  type Target,
  type TestServer,
  tempDir,
} from './helpers.js';

// Issue 16, "keys that rotate": the master key that seals access keys and signing keys at rest is read from a file,
// rotated by re-sealing every secret (at start with --previous-master-key-file, or `tessera keys rotate-master`),
// the old key accepted until that is done, and a second run after a crash midway changes nothing.

describe('master key from a file, and its rotation', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const dir of dirs.splice(0)) dir.cleanup();
  });

  /** A fresh data dir with key files `a.key` and `b.key` beside it (all in one temp dir). */
  function setUp() {
    const dir = tempDir('tessera-master-');
    dirs.push(dir);
    const keyFile = (name: string) => {
      const path = join(dir.path, `${name}.key`);
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
      return path;
    };
    return { dataDir: join(dir.path, 'data'), a: keyFile('a'), b: keyFile('b') };
  }

  const targetOf = (t: TestServer): Target => ({ url: t.url, accessKey: t.primaryKey });

  it('rotates at start with --previous-master-key-file, then runs on the new key alone', async () => {
    const { dataDir, a, b } = setUp();
    server = await startTestServer({ dataDir, masterKeyFile: a });
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
    const primary = server.primaryKey;
    const id = (await createIdentity(targetOf(server), {}, PREVIEW)).identity.id;
    const token = (await issueToken(targetOf(server), id, ['chat'], PREVIEW)).token;
    await server.close();
    server = undefined;

    // The new key alone cannot read secrets sealed under the old one: refused at start, naming the setting.
    const refused = await startTestServer({ dataDir, masterKeyFile: b }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isTesseraError(refused) && refused.code === 'ERR_CONFIG_INVALID').toBe(true);

    server = await startTestServer({ dataDir, masterKeyFile: b, previousMasterKeyFile: a });
    expect(server.primaryKey).toBe(primary);
    expect((await introspect(targetOf(server), token)).active).toBe(true);
    await server.close();
    server = undefined;

    // Everything is under the new key now: the old one is no longer needed, and no longer enough.
    server = await startTestServer({ dataDir, masterKeyFile: b });
    expect(server.primaryKey).toBe(primary);
    expect((await introspect(targetOf(server), token)).active).toBe(true);
    await server.close();
    server = undefined;
    await expect(startTestServer({ dataDir, masterKeyFile: a })).rejects.toThrow(/cannot be decrypted/);
  });

  it('`tessera keys rotate-master` re-seals every secret, and a second run finds nothing left to do', async () => {
    const { dataDir, a, b } = setUp();
    server = await startTestServer({ dataDir, masterKeyFile: a });
    const primary = server.primaryKey;
    await server.close();
    server = undefined;

    const args = ['keys', 'rotate-master', '--data-dir', dataDir, '--master-key-file', b];
    const first = await runCli([...args, '--previous-master-key-file', a]);
    expect(first.code, first.stderr).toBe(0);
    // Three access keys (primary, secondary, verifier) and one signing key.
    expect(first.stdout).toContain('Re-sealed 4 of 4 secrets');
    const again = await runCli([...args, '--previous-master-key-file', a]);
    expect(again.stdout).toContain('Re-sealed 0 of 4 secrets');

    server = await startTestServer({ dataDir, masterKeyFile: b });
    expect(server.primaryKey).toBe(primary);

    const missing = await runCli(args);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--previous-master-key-file');
  });

  it('a rotation that crashed midway (some secrets re-sealed, some not) is finished by running it again', async () => {
    const { dataDir, a, b } = setUp();
    server = await startTestServer({ dataDir, masterKeyFile: a });
    const primary = server.primaryKey;
    await server.close();
    server = undefined;
    // The crash: only the primary access key made it under the new key.
    const keyOf = (path: string) => Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    const box = createSecretBox(keyOf(b), [keyOf(a)]);
    const store = createSqliteStore({ path: join(dataDir, 'tessera.db') });
    try {
      const stored = (await store.listAccessKeys()).find((key) => key.name === 'primary');
      if (stored === undefined) throw new Error('no primary key');
      const to = box.seal(box.open(stored.secret));
      expect(await store.resealSecrets([{ kind: 'accessKey', name: 'primary', from: stored.secret, to }])).toBe(1);
    } finally {
      await store.close();
    }
    await expect(startTestServer({ dataDir, masterKeyFile: b })).rejects.toThrow(/cannot be decrypted/);
    const args = ['keys', 'rotate-master', '--data-dir', dataDir, '--master-key-file', b];
    const rerun = await runCli([...args, '--previous-master-key-file', a]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('Re-sealed 3 of 4 secrets');
    server = await startTestServer({ dataDir, masterKeyFile: b });
    expect(server.primaryKey).toBe(primary);
  });

  it('a key file that is not base64 of 32 bytes is refused naming the file, never echoing its contents', async () => {
    const { dataDir } = setUp();
    const bad = join(dataDir, '..', 'bad.key'); // beside the data dir, inside the test's temp dir
    const secret = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
    writeFileSync(bad, secret);
    const error = await startTestServer({ dataDir, masterKeyFile: bad }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTesseraError(error) && error.code === 'ERR_CONFIG_INVALID').toBe(true);
    expect(String((error as Error).message)).toContain('--master-key-file');
    expect(String((error as Error).message)).not.toContain(secret);
    const both = await startTestServer({
      dataDir,
      masterKeyFile: bad,
      masterKey: randomBytes(32).toString('base64'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String((both as Error).message)).toContain('cannot be combined');
  });
});
