// Requirement 5 (CLI): `tessera keys list|regenerate` as a user runs it — a child process talking HTTP to a
// running server, with --connection-string or TESSERA_CONNECTION_STRING.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  introspect,
  killAllSpawned,
  runCli,
  startTestServer,
  type Target,
  type TestServer,
} from '../../server/test/e2e/helpers.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await killAllSpawned();
  await ts.close();
});

interface KeysJson {
  primaryKey: string;
  secondaryKey: string;
  verifierKey: string;
  primaryConnectionString: string;
  secondaryConnectionString: string;
  verifierConnectionString: string;
}

/** The current full-control connection string (it changes as the tests regenerate keys). */
let connectionString = '';

describe('tessera keys', () => {
  beforeAll(() => {
    connectionString = ts.server.connectionString;
  });

  it('keys list --connection-string prints the three keys and connection strings, exit 0', async () => {
    const { code, stdout, stderr } = await runCli(['keys', 'list', '--connection-string', connectionString]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`Primary key:`);
    expect(stdout).toContain(ts.primaryKey);
    expect(stdout).toContain(ts.verifierKey);
    expect(stdout).toContain(`Primary connection string:    ${connectionString}`);
    expect(stdout).toContain(`Verifier connection string:   ${ts.server.verifierConnectionString}`);
  });

  it('keys list with TESSERA_CONNECTION_STRING and --json prints parsable JSON', async () => {
    const { code, stdout, stderr } = await runCli(['keys', 'list', '--json'], {
      TESSERA_CONNECTION_STRING: connectionString,
    });
    expect(code, stderr).toBe(0);
    const keys = JSON.parse(stdout) as KeysJson;
    expect(keys.primaryKey).toBe(ts.primaryKey);
    expect(keys.primaryConnectionString).toBe(connectionString);
  });

  it('keys regenerate --key secondary (env var) rotates only the secondary key', async () => {
    const before = JSON.parse(
      (await runCli(['keys', 'list', '--json', '--connection-string', connectionString])).stdout,
    ) as KeysJson;
    const { code, stdout, stderr } = await runCli(['keys', 'regenerate', '--key', 'secondary', '--json'], {
      TESSERA_CONNECTION_STRING: connectionString,
    });
    expect(code, stderr).toBe(0);
    const after = JSON.parse(stdout) as KeysJson;
    expect(after.secondaryKey).not.toBe(before.secondaryKey);
    expect(after.primaryKey).toBe(before.primaryKey);
    const old: Target = { url: ts.url, accessKey: before.secondaryKey };
    expect((await acsRequest(old, 'GET', '/admin/keys')).status).toBe(401);
  });

  it('keys regenerate --key primary: the printed new key works, the old one is refused at once, its tokens are revoked', async () => {
    const oldTarget: Target = { url: ts.url, accessKey: ts.primaryKey };
    const minted = await createIdentity(oldTarget, { createTokenWithScopes: ['chat'] });
    const { code, stdout, stderr } = await runCli([
      'keys',
      'regenerate',
      '--key',
      'primary',
      '--connection-string',
      connectionString,
    ]);
    expect(code, stderr).toBe(0);
    const match = /^Primary connection string:\s+(\S+)$/m.exec(stdout);
    expect(match).not.toBeNull();
    const next = match?.[1] ?? '';
    expect(next).not.toBe(connectionString);
    expect((await acsRequest(oldTarget, 'POST', '/identities?api-version=2023-10-01')).status).toBe(401);
    const newKey = /accesskey=(\S+)$/.exec(next)?.[1] ?? '';
    const fresh: Target = { url: ts.url, accessKey: newKey };
    expect((await acsRequest(fresh, 'POST', '/identities?api-version=2023-10-01')).status).toBe(201);
    expect(await introspect(fresh, minted.accessToken?.token ?? '')).toEqual({
      active: false,
      reason: 'ERR_TOKEN_KEY_ROTATED',
    });
    connectionString = next;
    const list = await runCli(['keys', 'list', '--connection-string', next]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(newKey);
  });
});

describe.concurrent('tessera keys: bad input exits non-zero with a message', () => {
  it.each([
    ['no connection string', ['keys', 'list'], {}, /connection-string|TESSERA_CONNECTION_STRING/],
    ['unknown key name', ['keys', 'regenerate', '--key', 'tertiary', '--connection-string', 'CS'], {}, /--key/],
    ['missing --key', ['keys', 'regenerate', '--connection-string', 'CS'], {}, /--key/],
    ['unknown subcommand', ['keys', 'rotate', '--connection-string', 'CS'], {}, /Usage: tessera keys/],
    ['unknown flag', ['keys', 'list', '--bogus', '--connection-string', 'CS'], {}, /bogus/],
    ['garbage connection string', ['keys', 'list', '--connection-string', 'not a connection string'], {}, /endpoint/i],
    [
      'connection string without a key',
      ['keys', 'list', '--connection-string', 'endpoint=http://127.0.0.1:1/'],
      {},
      /accesskey/i,
    ],
  ])('%s', async (_label, args, env, message) => {
    const cs = ts.server.connectionString;
    const { code, stderr, stdout } = await runCli(
      args.map((a) => (a === 'CS' ? connectionString || cs : a)),
      env,
    );
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
    expect(stdout).toBe('');
  });

  it('a wrong access key: non-zero, says the server answered 401, never prints the key', async () => {
    const wrong = Buffer.alloc(64, 9).toString('base64');
    const { code, stderr, stdout } = await runCli([
      'keys',
      'list',
      '--connection-string',
      `endpoint=${ts.url};accesskey=${wrong}`,
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/401/);
    expect(stderr + stdout).not.toContain(wrong);
  });

  it('the verifier key: non-zero, 403', async () => {
    const { code, stderr } = await runCli(['keys', 'list', '--connection-string', ts.server.verifierConnectionString]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/403/);
  });

  it('an unreachable server: non-zero, says it cannot reach it', async () => {
    const { code, stderr } = await runCli([
      'keys',
      'list',
      '--connection-string',
      `endpoint=http://127.0.0.1:1/;accesskey=${Buffer.alloc(32).toString('base64')}`,
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/reach/i);
  });
});
