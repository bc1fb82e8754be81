// Issue #14: `tessera doctor`, `tessera identities`, `tessera --version` as a user runs them (child processes) against
// real servers started by the test, and the secrets hygiene of `tessera serve` (connection strings printed on the
// first start only, or when asked; keys and connection strings read from files).
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIdentity,
  killAllSpawned,
  runCli,
  spawnCli,
  startTestServer,
  type TestServer,
  tempDir,
} from '../../server/test/e2e/helpers.js';
import {
  fixtureKey,
  type JwksFixture,
  serviceAccountClaims,
  signJwt,
  startJwksFixture,
} from '../../oidc/test/jwks-fixture.js';
import type { DoctorCheck } from '../src/doctor-command.js';

let server: TestServer;
let tls: TestServer;
let plain: TestServer;
const dir = tempDir('tessera-doctor-');
let csFile = '';

beforeAll(async () => {
  [server, tls, plain] = await Promise.all([
    // A small create limit, so a test can drive one credential past 70 % of it.
    startTestServer({ metricsApi: true, rateLimit: 'create=10/300' }),
    startTestServer({ tlsDev: true }),
    startTestServer(),
  ]);
  csFile = join(dir.path, 'cs');
  writeFileSync(csFile, `${server.server.connectionString}\n`);
});

afterAll(async () => {
  await killAllSpawned();
  await Promise.all([server?.close(), tls?.close(), plain?.close()]);
  dir.cleanup();
});

const checksOf = (stdout: string) => (JSON.parse(stdout) as { ok: boolean; checks: DoctorCheck[] }).checks;
const find = (checks: DoctorCheck[], name: DoctorCheck['check']) => checks.find((c) => c.check === name);

describe('tessera doctor', { timeout: 120_000 }, () => {
  it('a full-control key from --connection-string-file: every check passes, every data action held, headroom per operation', async () => {
    const { code, stdout, stderr } = await runCli(['doctor', '--connection-string-file', csFile, '--json']);
    expect(code, stderr).toBe(0);
    const checks = checksOf(stdout);
    expect(find(checks, 'reachable')?.ok).toBe(true);
    expect(find(checks, 'clock')).toMatchObject({ ok: true, data: { windowSeconds: 900 } });
    expect(find(checks, 'api-versions')?.data).toContain('2025-06-30');
    expect(find(checks, 'authentication')?.ok).toBe(true);
    expect(find(checks, 'data-actions')?.data).toMatchObject({ missing: [] });
    const limits = find(checks, 'rate-limits');
    expect(limits?.ok).toBe(true);
    expect(limits?.detail).toMatch(/create 10\/300s at 10 % \(busiest: primary\)/);
    expect(stdout).not.toContain(server.primaryKey);
  });

  it('the verifier key: authenticates, holds only the read-only actions, and says how to get a full key', async () => {
    const { code, stdout } = await runCli(['doctor'], {
      TESSERA_CONNECTION_STRING: server.server.verifierConnectionString,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/✓ authentication\s+The access key authenticates/);
    expect(stdout).toMatch(/· data-actions\s+Holds tokens\/introspect, revocations\/read; lacks identities\/read/);
    expect(stdout).toMatch(/fix: .*403 ERR_FORBIDDEN: the verifier key is read-only; use the primary or secondary key/);
  });

  it('a credential past 70 % of a limit: the rate-limit check fails and says what to do', async () => {
    for (let i = 0; i < 7; i++) await createIdentity({ url: server.url, accessKey: server.primaryKey });
    const { code, stdout } = await runCli(['doctor', '--connection-string-file', csFile]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ rate-limits\s+Rate limits per credential: .*create 10\/300s at (8|9)0 %/);
    expect(stdout).toMatch(/fix: primary create at 70 % or more of the limit: .*--rate-limit/);
  });

  it('a wrong key: 401 with its reason and the fix, exit 1, the key never printed', async () => {
    const wrong = randomBytes(64).toString('base64');
    const { code, stdout, stderr } = await runCli([
      'doctor',
      '--connection-string',
      `endpoint=${server.url};accesskey=${wrong}`,
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ authentication\s+The access key does not authenticate: 401 ERR_AUTH_SIGNATURE_MISMATCH/);
    expect(stdout).toMatch(/fix: the access key matches none of the server's: .*tessera keys list/);
    expect(stdout + stderr).not.toContain(wrong);
  });

  it("this machine's clock an hour behind (Date.now shifted in the CLI process): ✗ clock, and the signed read's 401 says why", async () => {
    const { code, stdout } = await runCli(['doctor', '--connection-string-file', csFile], {
      NODE_OPTIONS: '--import=data:text/javascript,const%20n=Date.now;Date.now=()=>n()-3600000',
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(
      // The server's Date header has whole seconds and a slow round trip blurs the estimate: an hour's shift reads
      // as about 3600 s (3599 seen under load).
      /✗ clock\s+The server's clock is 3[56]\d\d s ahead of this machine's \(HMAC replay window ±900 s\)/,
    );
    expect(stdout).toMatch(/fix: signed requests from here will be refused with 401 ERR_AUTH_DATE_OUT_OF_RANGE/);
    expect(stdout).toMatch(/✗ authentication The access key does not authenticate: 401 ERR_AUTH_DATE_OUT_OF_RANGE/);
    expect(stdout).toMatch(/fix: this machine's clock is outside the server's replay window: synchronise it/);
  });

  it('an unreachable endpoint: says so and how to fix it', async () => {
    const { code, stdout } = await runCli(['doctor', '--endpoint', 'http://127.0.0.1:1/']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ reachable\s+http:\/\/127\.0\.0\.1:1\/ cannot be reached/);
    expect(stdout).toMatch(/fix: start the server/);
  });

  it('TLS with a development CA: untrusted → the fix names NODE_EXTRA_CA_CERTS; trusted with --ca → passes', async () => {
    const untrusted = await runCli(['doctor', '--endpoint', tls.url]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stdout).toMatch(/✗ tls\s+The certificate is not trusted/);
    expect(untrusted.stdout).toMatch(/NODE_EXTRA_CA_CERTS=<ca\.pem>.*dev-ca\.pem/);
    const ca = tls.server.devCaPath ?? '';
    const trusted = await runCli(['doctor', '--ca', ca, '--connection-string', tls.server.connectionString, '--json']);
    expect(trusted.code, trusted.stdout).toBe(0);
    expect(find(checksOf(trusted.stdout), 'tls')?.ok).toBe(true);
  });
});

describe('tessera doctor with a bearer principal (OIDC)', { timeout: 120_000 }, () => {
  const key = fixtureKey('k1', 'RS256');
  let issuer: JwksFixture;
  let oidc: TestServer;
  beforeAll(async () => {
    issuer = await startJwksFixture([key]);
    oidc = await startTestServer({
      trustedIssuers: JSON.stringify({
        issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['tessera'] }],
      }),
    });
  });
  afterAll(async () => {
    await oidc?.close();
    await issuer?.close();
  });

  it('lists the data actions the principal holds: none, then those of the role assigned to it', async () => {
    const tokenFile = join(dir.path, 'bearer');
    const token = signJwt(key, serviceAccountClaims(issuer.issuer, 'ci', 'deployer', 'tessera'));
    writeFileSync(tokenFile, token);
    const args = ['doctor', '--endpoint', oidc.url, '--bearer-token-file', tokenFile, '--json'];
    const before = await runCli(args);
    expect(before.stdout).not.toContain(token);
    expect(find(checksOf(before.stdout), 'authentication')).toMatchObject({ ok: true });
    expect(find(checksOf(before.stdout), 'data-actions')).toMatchObject({ data: { held: [] } });
    expect(find(checksOf(before.stdout), 'data-actions')?.fix).toMatch(/tessera roles assign/);
    const assigned = await runCli(
      [
        'roles',
        'assign',
        '--role',
        'token-issuer',
        '--issuer',
        issuer.issuer,
        '--subject',
        'system:serviceaccount:ci:deployer',
      ],
      { TESSERA_CONNECTION_STRING: oidc.server.connectionString },
    );
    expect(assigned.code, assigned.stderr).toBe(0);
    const after = await runCli(args);
    expect(find(checksOf(after.stdout), 'data-actions')?.data).toMatchObject({
      held: ['identities/read', 'tokens/issue'],
    });
  }, 120_000);
});

describe('tessera identities', { timeout: 120_000 }, () => {
  it('create --custom-id (idempotent), get, revoke, delete; then get answers 404', async () => {
    const customId = `user-${randomUUID()}`;
    const env = { TESSERA_CONNECTION_STRING: plain.server.connectionString };
    const first = await runCli(['identities', 'create', '--custom-id', customId, '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const id = (JSON.parse(first.stdout) as { identity: { id: string } }).identity.id;
    const again = await runCli(['identities', 'create', '--custom-id', customId], env);
    expect(again.stdout).toBe(`${id}  customId ${customId}\n`);
    const got = await runCli(['identities', 'get', id], env);
    expect(got.stdout).toBe(`${id}  customId ${customId}  last token issued never\n`);
    const revoked = await runCli(['identities', 'revoke', id], env);
    expect(revoked.stdout, revoked.stderr).toContain(`Revoked every token of ${id}`);
    expect((await runCli(['identities', 'delete', id, '--json'], env)).stdout).toContain('"deleted": true');
    const gone = await runCli(['identities', 'get', id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/404 IdentityDeleted \[ERR_IDENTITY_DELETED\]/);
  });

  it('list: live identities oldest first, a page at a time with a continuation token, --all, --custom-id', async () => {
    const own = await startTestServer();
    try {
      const env = { TESSERA_CONNECTION_STRING: own.server.connectionString };
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { identity } = await createIdentity(
          { url: own.url, accessKey: own.primaryKey },
          i === 2 ? { customId: 'carol' } : {},
          '2025-03-02-preview',
        );
        made.push(identity.id);
      }
      const gone = await runCli(['identities', 'delete', made[4] ?? ''], env);
      expect(gone.code, gone.stderr).toBe(0);
      const page = await runCli(['identities', 'list', '--max-page-size', '2'], env);
      expect(page.code, page.stderr).toBe(0);
      const lines = page.stdout.trim().split('\n');
      expect(lines.slice(0, 2).map((l) => l.split('  ')[0])).toStrictEqual(made.slice(0, 2));
      const token = /--continuation-token '([^']+)'/.exec(lines[2] ?? '')?.[1] ?? '';
      expect(token).toBe(made[1]);
      const rest = await runCli(
        ['identities', 'list', '--max-page-size', '2', '--continuation-token', token, '--json'],
        env,
      );
      expect((JSON.parse(rest.stdout) as { value: Array<{ id: string }> }).value.map((i) => i.id)).toStrictEqual(
        made.slice(2, 4),
      );
      const all = await runCli(['identities', 'list', '--max-page-size', '1', '--all', '--json'], env);
      const listed = JSON.parse(all.stdout) as { value: Array<{ id: string; createdAt: string }>; nextLink?: string };
      expect(listed.value.map((i) => i.id)).toStrictEqual(made.slice(0, 4));
      expect(listed.nextLink).toBeUndefined();
      const carol = await runCli(['identities', 'list', '--custom-id', 'carol'], env);
      expect(carol.stdout).toMatch(new RegExp(`^${made[2]}  customId carol  created \\S+Z  last token never\\n$`));
      const verifier = await runCli(['identities', 'list'], {
        TESSERA_CONNECTION_STRING: own.server.verifierConnectionString,
      });
      expect(verifier.code).toBe(1);
      expect(verifier.stderr).toMatch(/403 .*identities\/read/);
    } finally {
      await own.close();
    }
  }, 120_000);

  it('create --scopes prints the token; bad input exits 1 naming the flag', async () => {
    {
      const env = { TESSERA_CONNECTION_STRING: plain.server.connectionString };
      const made = await runCli(['identities', 'create', '--scopes', 'chat,voip', '--expires-in-minutes', '60'], env);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toMatch(/^8:acs:\S+\nToken \(expires \S+\): ey\S+\n$/);
      const bad = await runCli(['identities', 'create', '--expires-in-minutes', 'soon'], env);
      expect(bad.stderr).toMatch(/--expires-in-minutes/);
      const scopes = await runCli(['identities', 'create', '--scopes', 'admin'], env);
      expect(scopes.code).toBe(1);
      expect(scopes.stderr).toMatch(/400/);
      const usage = await runCli(['identities', 'frob'], env);
      expect(usage.stderr).toMatch(/Usage: tessera identities/);
    }
  });
});

describe('tessera --version', { timeout: 120_000 }, () => {
  it('prints the version of @tessera/cli', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
  });
});

describe('tessera serve: secrets hygiene', { timeout: 120_000 }, () => {
  const data = () => join(dir.path, 'serve-data');

  async function serveOnce(args: readonly string[], env: Readonly<Record<string, string>> = {}) {
    const p = spawnCli(['serve', '--port', '0', '--log-level', 'silent', '--data-dir', data(), ...args], env);
    p.child.stdin.end();
    try {
      await p.waitFor(
        /^Resource id: .*\n(Connection string: .*|Connection strings are printed on the first start only\..*)$/m,
        30_000,
      );
      return p.stdout();
    } finally {
      await p.kill();
    }
  }

  it('first start prints the strings (key from --primary-key-file); a restart does not and says how; --print-connection-strings does', async () => {
    const key = randomBytes(64).toString('base64');
    const keyFile = join(dir.path, 'primary.key');
    writeFileSync(keyFile, `${key}\n`);
    const first = await serveOnce([], { TESSERA_PRIMARY_KEY_FILE: keyFile });
    expect(first).toMatch(/\(created\)\nConnection string: endpoint=http:\/\/127\.0\.0\.1:\d+\/;accesskey=/);
    expect(first).toContain(`accesskey=${key}\n`);
    const later = await serveOnce([]);
    expect(later).not.toMatch(/Connection string:|accesskey=/);
    expect(later).toMatch(/Connection strings are printed on the first start only\. To see them: tessera keys list/);
    const asked = await serveOnce(['--print-connection-strings']);
    expect(asked).toContain(`accesskey=${key}\n`);
  });

  it('--primary-key with --primary-key-file, or an unreadable or short key file: exit 1 naming the setting', async () => {
    const short = join(dir.path, 'short.key');
    writeFileSync(short, Buffer.alloc(8).toString('base64'));
    for (const [args, message] of [
      [
        ['--primary-key', randomBytes(32).toString('base64'), '--primary-key-file', short],
        /--primary-key-file: cannot be combined/,
      ],
      [['--secondary-key-file', join(dir.path, 'missing')], /--secondary-key-file: cannot read/],
      [['--primary-key-file', short], /--primary-key-file: .* is not base64 of at least 32 bytes/],
    ] as const) {
      const p = spawnCli(['serve', '--port', '0', '--data-dir', join(dir.path, `bad-${randomUUID()}`), ...args]);
      p.child.stdin.end();
      const { code } = await p.exited;
      expect(code).toBe(1);
      expect(p.stderr()).toMatch(message);
    }
  });
});
