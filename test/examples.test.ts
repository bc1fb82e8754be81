// The README's official-SDK sample is shipped as examples/identity-quickstart.mjs and must run as written:
// against a fresh `tessera serve`, with the connection string it printed, from the repo root.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllSpawned, spawnServe, tempDir } from '../packages/server/test/e2e/helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = tempDir();
afterAll(async () => {
  await killAllSpawned();
  dir.cleanup();
});

describe('examples/identity-quickstart.mjs (the README sample)', () => {
  it('creates, issues, narrows, revokes and deletes against npm start', async () => {
    const server = await spawnServe(['--port', '0', '--data-dir', dir.path, '--log-level', 'silent']);
    const { stdout } = await run(process.execPath, ['examples/identity-quickstart.mjs'], {
      cwd: root,
      env: { ...process.env, TESSERA_CONNECTION_STRING: server.connectionString },
    });
    expect(stdout).toMatch(/^identity 8:acs:[0-9a-f-]{36}_[0-9a-f-]{36}: token of \d+ characters, expires /m);
    expect(stdout).toMatch(/^narrower token \(chat\.join, 60 min\) expires /m);
    expect(stdout).toMatch(/^revoked and deleted$/m);
    expect(stdout).not.toContain(server.accessKey);
  });

  it('examples/chat-quickstart.mjs: the official chat SDK against npm start -- --tls-dev', async () => {
    const tlsDir = tempDir();
    try {
      const server = await spawnServe(['--port', '0', '--data-dir', tlsDir.path, '--log-level', 'silent', '--tls-dev']);
      const { stdout } = await run(process.execPath, ['examples/chat-quickstart.mjs'], {
        cwd: root,
        env: {
          ...process.env,
          TESSERA_CONNECTION_STRING: server.connectionString,
          NODE_EXTRA_CA_CERTS: join(tlsDir.path, 'tls', 'dev-ca.pem'),
        },
      });
      expect(stdout.trim().split('\n')).toEqual([
        '4 text Hi Alice!',
        '3 text Hi Bob!',
        '2 topicUpdated Hello from Tessera',
        '1 participantAdded',
      ]);
    } finally {
      await killAllSpawned();
      tlsDir.cleanup();
    }
  });

  it('says what to set when the connection string is missing', async () => {
    const env = { ...process.env };
    delete env.TESSERA_CONNECTION_STRING;
    const failed = await run(process.execPath, ['examples/identity-quickstart.mjs'], { cwd: root, env }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('Set TESSERA_CONNECTION_STRING');
  });
});
