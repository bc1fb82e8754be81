// Issue #14, diagnostics: `tessera token inspect` as a user runs it (a child process) against real servers started by
// the test. Every refusal is produced for real: revoked, deleted and key-rotated tokens by the API; a wrong issuer and
// an unknown signing key by tokens of other servers; "expired" and "not yet valid" by tokens minted by servers whose
// clock is injected 2 h behind / 2 h ahead (the server's `clock` option, a replay window wide enough to sign to them; a
// token cannot live less than 60 minutes, so the expired one is a 60-minute token minted 2 h ago), and by --at. The token and its signature never appear in the output.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acsRequest,
  createIdentity,
  hasStackTrace,
  identityPath,
  killAllSpawned,
  runCli,
  startTestServer,
  type Target,
  type TestServer,
  tempDir,
} from '../../server/test/e2e/helpers.js';
import type { InspectReport } from '../src/token-inspect-command.js';

let main: TestServer;
let sameIssuer: TestServer;
let past: TestServer;
let future: TestServer;
const dir = tempDir('tessera-inspect-');
let target: Target;

beforeAll(async () => {
  main = await startTestServer();
  const issuer = `urn:tessera:resource:${main.server.resourceId}`;
  [sameIssuer, past, future] = await Promise.all([
    // Same issuer as `main`, its own signing key: its tokens carry a kid `main` has never published.
    startTestServer({ issuer }),
    startTestServer({ clock: () => Date.now() - 2 * 3_600_000, maxClockSkewSeconds: 86_400 }),
    startTestServer({ clock: () => Date.now() + 2 * 3_600_000, maxClockSkewSeconds: 86_400 }),
  ]);
  target = { url: main.url, accessKey: main.primaryKey };
});

afterAll(async () => {
  await killAllSpawned();
  await Promise.all([main, sameIssuer, past, future].map((s) => s?.close()));
  dir.cleanup();
});

async function mint(server: TestServer, scopes: readonly string[] = ['chat'], accessKey = server.primaryKey) {
  const body = { createTokenWithScopes: scopes, expiresInMinutes: 60 };
  const created = await createIdentity({ url: server.url, accessKey }, body);
  return { id: created.identity.id, token: created.accessToken?.token ?? '' };
}

/** Runs `tessera token inspect` with the token on stdin-free argv through a file (as a user keeps it out of history). */
async function inspect(token: string, args: readonly string[], env: Readonly<Record<string, string>> = {}) {
  const file = join(dir.path, `t-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, token);
  const result = await runCli(['token', 'inspect', '--token-file', file, ...args], env);
  const signature = token.split('.')[2] ?? '';
  expect(result.stdout + result.stderr).not.toContain(token);
  if (signature !== '') expect(result.stdout + result.stderr).not.toContain(signature);
  expect(hasStackTrace(result.stderr)).toBe(false);
  return result;
}

const json = (stdout: string) => JSON.parse(stdout) as InspectReport;
const cs = (server: TestServer, key = server.primaryKey) => `endpoint=${server.url};accesskey=${key}`;

describe('tessera token inspect', { timeout: 120_000 }, () => {
  it('a good token: accepted, exit 0, each check a sentence; the capability its scope allows', async () => {
    const { token, id } = await mint(main, ['chat']);
    const { code, stdout, stderr } = await inspect(token, [
      '--connection-string',
      main.server.verifierConnectionString,
      '--capability',
      'chat.thread.create',
    ]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^ACCEPTED$/m);
    expect(stdout).toContain(id);
    expect(stdout).toMatch(/✓ Signature verifies with the server's key/);
    expect(stdout).toMatch(/✓ Not revoked: the server accepts it right now/);
    expect(stdout).toContain("✓ Its scopes chat allow 'chat.thread.create'");
  });

  it('a scope that does not allow the capability names the scope that would', async () => {
    const { token } = await mint(main, ['chat.join']);
    const { code, stdout } = await inspect(token, [
      '--connection-string',
      cs(main),
      '--capability',
      'chat.thread.create',
      '--json',
    ]);
    expect(code).toBe(1);
    const report = json(stdout);
    expect(report.accepted).toBe(false);
    const check = report.checks.find((c) => c.check === 'capability');
    expect(check).toMatchObject({ ok: false, code: 'ERR_CAPABILITY_DENIED' });
    expect(check?.sentence).toContain("do not allow 'chat.thread.create'; a token with scope chat would");
  });

  it('a Rooms capability: decided with --room-role, and says what is missing without one', async () => {
    const { token } = await mint(main, ['voip']);
    const stated = await inspect(token, [
      '--endpoint',
      main.url,
      '--capability',
      'voip.call.joinInRoom',
      '--room-role',
      'Attendee',
    ]);
    expect(stated.stdout).toMatch(/✓ Its scopes voip allow 'voip\.call\.joinInRoom' \(room role Attendee, as stated\)/);
    const unknown = await inspect(token, ['--endpoint', main.url, '--capability', 'voip.call.joinInRoom']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toMatch(/needs the caller's room invitation to decide.*--room/);
    // This server does not serve the Rooms API (it is not mounted in tessera serve yet): said so, not guessed.
    const looked = await inspect(token, [
      '--connection-string',
      cs(main),
      '--capability',
      'voip.call.joinInRoom',
      '--room',
      'room-1',
    ]);
    expect(looked.code).toBe(1);
    expect(looked.stdout).toMatch(
      /room room-1: the server answered 404 to the Rooms API, so the invitation was not checked/,
    );
  });

  it('revoked: "revoked at <time>", the identity named, exit 1', async () => {
    const { token, id } = await mint(main);
    const before = Date.now();
    expect((await acsRequest(target, 'POST', identityPath(id, '/:revokeAccessTokens'))).status).toBe(204);
    const { code, stdout } = await inspect(token, ['--connection-string', cs(main), '--json']);
    expect(code).toBe(1);
    const check = json(stdout).checks.find((c) => c.check === 'revocation');
    expect(check).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
    const at = /revoked at (\S+) —/.exec(check?.sentence ?? '')?.[1] ?? '';
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before - 1000);
    expect(check?.sentence).toContain(`the tokens of ${id} were revoked`);
  });

  it('deleted: "revoked at <time> — its identity … was deleted"', async () => {
    const { token, id } = await mint(main);
    expect((await acsRequest(target, 'DELETE', identityPath(id))).status).toBe(204);
    const { code, stdout } = await inspect(token, ['--connection-string', main.server.verifierConnectionString]);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`✗ Not accepted: revoked at \\S+ — its identity ${id} was deleted`));
  });

  it('key rotated: a token minted with the secondary key is revoked when that key is regenerated, with the time', async () => {
    const keys = (await acsRequest(target, 'GET', '/admin/keys')).json as { secondaryKey: string };
    const { token } = await mint(main, ['chat'], keys.secondaryKey);
    const regenerated = await acsRequest(target, 'POST', '/admin/keys/:regenerate', { json: { key: 'secondary' } });
    expect(regenerated.status).toBe(200);
    const { code, stdout } = await inspect(token, ['--connection-string', cs(main), '--json']);
    expect(code).toBe(1);
    const check = json(stdout).checks.find((c) => c.check === 'revocation');
    expect(check).toMatchObject({ ok: false, code: 'ERR_TOKEN_KEY_ROTATED' });
    expect(check?.sentence).toMatch(/revoked at \S+Z — the secondary access key that minted it \(secondary\.\d+\)/);
  });

  it('wrong issuer and unknown key: a token of another server', async () => {
    const { token } = await mint(past);
    const { code, stdout } = await inspect(token, ['--endpoint', main.url, '--json']);
    expect(code).toBe(1);
    const report = json(stdout);
    expect(report.checks.find((c) => c.check === 'issuer')).toMatchObject({
      ok: false,
      code: 'ERR_TOKEN_WRONG_ISSUER',
    });
    expect(report.checks.find((c) => c.check === 'key')).toMatchObject({ ok: false, code: 'ERR_TOKEN_UNKNOWN_KEY' });
  });

  it('unknown key alone: the right issuer, a signing key the server never published', async () => {
    const { token } = await mint(sameIssuer);
    const { code, stdout } = await inspect(token, ['--endpoint', main.url]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✓ Issuer/);
    expect(stdout).toMatch(
      /✗ Not accepted: signed by an unknown key — kid '[\w-]+' is not in http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json/,
    );
  });

  it('expired: a 60-minute token minted 2 h ago (the server clock injected), judged now; a fresh one judged --at 2h', async () => {
    const old = await mint(past);
    const { code, stdout } = await inspect(old.token, ['--connection-string', cs(past), '--json']);
    expect(code).toBe(1);
    const times = json(stdout).checks.find((c) => c.check === 'times');
    expect(times).toMatchObject({ ok: false, code: 'ERR_TOKEN_EXPIRED' });
    expect(times?.sentence).toMatch(/^Not accepted: expired at \S+Z \((59 min|1 h|1 h 1 min) before /);
    const fresh = await mint(main);
    const later = await inspect(fresh.token, ['--endpoint', main.url, '--at', '2h']);
    expect(later.code).toBe(1);
    expect(later.stdout).toMatch(/✗ Not accepted: expired at /);
  });

  it('not yet valid: a token minted by a server whose clock is 2 h ahead', async () => {
    const { token } = await mint(future);
    const { code, stdout } = await inspect(token, ['--connection-string', cs(future)]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ Not accepted: not yet valid — valid from \S+Z, (1 h 59 min|2 h) ahead/);
  });

  it('without a server: decodes and judges times and scopes, says what was not checked', async () => {
    const { token } = await mint(main, ['voip.join']);
    const { code, stdout } = await inspect(token, ['--capability', 'voip.call.join']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\? Signature, issuer and revocation not checked: give --endpoint/);
  });

  it('garbage and bad flags: exit non-zero with a sentence, no stack', async () => {
    const garbage = await inspect('zzqq.yyww.vvuu', ['--endpoint', main.url]);
    expect(garbage.code).toBe(1);
    expect(garbage.stdout).toMatch(
      /✗ Not accepted: this is not a well-formed Tessera user access token \(ERR_TOKEN_MALFORMED\)/,
    );
    const badAt = await inspect('zzqq', ['--at', 'yesterday-ish']);
    expect(badAt.code).toBe(1);
    expect(badAt.stderr).toMatch(/--at/);
    const none = await runCli(['token', 'inspect']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Usage: tessera token inspect/);
  });
});
