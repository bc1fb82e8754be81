// `tessera roles …` and `tessera audit` against a real `tessera serve --tls-dev --trusted-issuers <file>` process:
// the development CA is trusted the documented way (NODE_EXTRA_CA_CERTS, or --ca), assignments take effect at once
// for bearer principals (a Kubernetes-style service-account token), and the audit log is listed with filters.
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllSpawned, runCli, type ServeProcess, spawnServe, tempDir } from '../../server/test/e2e/helpers.js';
import {
  fixtureKey,
  type JwksFixture,
  serviceAccountClaims,
  signJwt,
  startJwksFixture,
} from '../../oidc/test/jwks-fixture.js';

const key = fixtureKey('k1', 'RS256');
const dir = tempDir('tessera-cli-roles-');
let issuer: JwksFixture;
let serve: ServeProcess;
let caPath: string;
let ca: string;

/** The CLI's environment: the access key and the dev CA, as the serve banner tells users to set. */
const env = () => ({ TESSERA_CONNECTION_STRING: serve.connectionString, NODE_EXTRA_CA_CERTS: caPath });
const tokenOf = (name: string) => signJwt(key, serviceAccountClaims(issuer.issuer, 'ci', name, 'tessera'));

function createIdentityWith(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL('/identities?api-version=2023-10-01', serve.url),
      { method: 'POST', ca, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  issuer = await startJwksFixture([key]);
  const issuers = join(dir.path, 'issuers.json');
  writeFileSync(
    issuers,
    JSON.stringify({ issuers: [{ issuer: issuer.issuer, jwksUri: issuer.jwksUri, audiences: ['tessera'] }] }),
  );
  serve = await spawnServe([
    '--port',
    '0',
    '--log-level',
    'silent',
    '--data-dir',
    join(dir.path, 'data'),
    '--tls-dev',
    '--trusted-issuers',
    issuers,
  ]);
  const [, path = ''] = await serve.waitFor(/^\s+Trust it in Node\.js clients: NODE_EXTRA_CA_CERTS=(\S+)$/m);
  caPath = path;
  ca = readFileSync(caPath, 'utf8');
});

afterAll(async () => {
  await serve?.kill();
  await killAllSpawned();
  await issuer?.close();
  dir.cleanup();
});

describe('tessera serve --tls-dev', () => {
  it('serves https and prints where the development CA is and how to trust it', () => {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(serve.stdout()).toContain(`Development CA: ${caPath}`);
    expect(caPath).toBe(join(dir.path, 'data', 'tls', 'dev-ca.pem'));
  });
});

describe('tessera roles', () => {
  it('definitions lists the built-in roles with their data actions', async () => {
    const { code, stdout } = await runCli(['roles', 'definitions'], env());
    expect(code).toBe(0);
    expect(stdout).toMatch(/^token-issuer\s+built-in\s+identities\/read, tokens\/issue$/m);
    expect(stdout).toMatch(/^reader\s+built-in\s+identities\/read$/m);
  });

  it('assign → the principal may act at once; list shows it; remove → denied again', async () => {
    const subject = 'system:serviceaccount:ci:deployer';
    expect(await createIdentityWith(tokenOf('deployer'))).toBe(403);
    const assigned = await runCli(
      ['roles', 'assign', '--role', 'identity-administrator', '--issuer', issuer.issuer, '--subject', subject],
      env(),
    );
    expect(assigned.code, assigned.stderr).toBe(0);
    const [, id = ''] = /\(id ([0-9a-f-]{36})\)/.exec(assigned.stdout) ?? [];
    expect(assigned.stdout).toContain(`Assigned identity-administrator to subject:${subject}`);
    expect(await createIdentityWith(tokenOf('deployer'))).toBe(201);

    const list = await runCli(['roles', 'list'], env());
    expect(list.stdout).toMatch(
      new RegExp(`^${id}\\s+identity-administrator\\s+subject:${subject}\\s+${issuer.issuer}$`, 'm'),
    );
    const json = await runCli(['roles', 'list', '--json'], env());
    expect((JSON.parse(json.stdout) as { value: Array<{ id: string }> }).value.map((a) => a.id)).toContain(id);

    const removed = await runCli(['roles', 'remove', '--id', id], env());
    expect(removed.code).toBe(0);
    expect(await createIdentityWith(tokenOf('deployer'))).toBe(403);
    expect((await runCli(['roles', 'list'], env())).stdout).not.toContain(id);
  });

  it('define and undefine a custom role; bad input exits 1 with the server’s reason', async () => {
    const defined = await runCli(
      ['roles', 'define', '--name', 'creator', '--actions', 'identities/create,identities/read'],
      env(),
    );
    expect(defined.code, defined.stderr).toBe(0);
    expect(defined.stdout).toBe('Defined role creator: identities/create, identities/read.\n');
    expect((await runCli(['roles', 'definitions'], env())).stdout).toMatch(/^creator\s+custom\s+/m);
    expect((await runCli(['roles', 'undefine', '--name', 'creator'], env())).code).toBe(0);

    const bad = await runCli(['roles', 'define', '--name', 'x-role', '--actions', 'identities/fly'], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("'identities/fly' is not a data action");
    const noPrincipal = await runCli(['roles', 'assign', '--role', 'reader', '--issuer', issuer.issuer], env());
    expect(noPrincipal.code).toBe(1);
    expect(noPrincipal.stderr).toContain('--subject|--object-id|--app-id|--group|--app-role');
    const untrusted = await runCli(
      ['roles', 'assign', '--role', 'reader', '--issuer', 'https://other.example', '--app-id', 'x'],
      env(),
    );
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('not a trusted issuer of this server');
  });

  it('works with an OIDC bearer token instead of an access key (role-administrator), and --ca instead of NODE_EXTRA_CA_CERTS', async () => {
    await runCli(
      [
        'roles',
        'assign',
        '--role',
        'role-administrator',
        '--issuer',
        issuer.issuer,
        '--subject',
        'system:serviceaccount:ci:iam',
      ],
      env(),
    );
    const bearerEnv = { TESSERA_ENDPOINT: serve.url, TESSERA_BEARER_TOKEN: tokenOf('iam') };
    const listed = await runCli(['roles', 'list', '--ca', caPath], bearerEnv);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('role-administrator');
    const denied = await runCli(['roles', 'list', '--ca', caPath], {
      ...bearerEnv,
      TESSERA_BEARER_TOKEN: tokenOf('intern'),
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("Server answered 403 Forbidden: The caller lacks the data action 'roles/read'.");
    const untrustedCa = await runCli(['roles', 'list'], bearerEnv);
    expect(untrustedCa.code).toBe(1);
    expect(untrustedCa.stderr).toContain('--ca or NODE_EXTRA_CA_CERTS');
  });
});

describe('tessera audit', () => {
  it('lists who did what, newest first, with --identity, --since, --limit and --json, and never a key', async () => {
    expect(await createIdentityWith(tokenOf('nobody'))).toBe(403);
    const { code, stdout, stderr } = await runCli(['audit', '--since', '1h', '--limit', '50'], env());
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(
      new RegExp(
        `Z  bearer:${issuer.issuer}#system:serviceaccount:ci:nobody  identity\\.create  403 failure ERR_FORBIDDEN`,
      ),
    );
    expect(stdout).toMatch(/key:primary {2}admin\.roleAssignments\.create {2}201 success {2}- {2}assignment=/);
    expect(stdout).not.toContain(serve.accessKey);

    const one = await runCli(['audit', '--limit', '1', '--json'], env());
    const page = JSON.parse(one.stdout) as { value: Array<{ seq: number }>; nextBefore?: number };
    expect(page.value).toHaveLength(1);
    expect(page.nextBefore).toBe(page.value[0]?.seq);

    const created = await runCli(['audit', '--json', '--limit', '1000'], env());
    const identity = (
      JSON.parse(created.stdout) as { value: Array<{ identityId?: string; status: number }> }
    ).value.find((e) => e.identityId !== undefined && e.status === 201)?.identityId;
    expect(identity).toBeDefined();
    const filtered = await runCli(['audit', '--identity', String(identity)], env());
    expect(filtered.stdout.trim().split('\n')).toHaveLength(1);
    expect(filtered.stdout).toContain('identity.create  201 success');

    expect(
      (await runCli(['audit', '--since', `${new Date(Date.now() + 3_600_000).toISOString()}`], env())).stdout,
    ).toBe('No audit entries.\n');
    const bad = await runCli(['audit', '--since', 'last tuesday'], env());
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid --since');
  });
});
