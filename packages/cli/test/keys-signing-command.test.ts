// `tessera keys signing|rotate-signing` as a user runs them: a child process talking to a running server
// (docs/key-rotation.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJwks, killAllSpawned, runCli, startTestServer, type TestServer } from '../../server/test/e2e/helpers.js';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer();
});
afterAll(async () => {
  await killAllSpawned();
  await ts.close();
});

interface SigningKeysJson {
  key?: { kid: string; state: string };
  keys: Array<{ kid: string; state: string; activatesAt: string; retiredAt?: string; dropsAt?: string }>;
}

describe('tessera keys signing / rotate-signing', () => {
  it('rotate-signing makes a new key sign, keeps the old one published, and signing lists both', async () => {
    const cs = ts.server.connectionString;
    const [oldKid] = (await fetchJwks(ts.url)).keys.map((k) => k.kid);
    const rotated = await runCli(['keys', 'rotate-signing', '--activate-after', '0', '--connection-string', cs]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKid = /^New signing key (\S+) signs from \d{4}-/m.exec(rotated.stdout)?.[1];
    expect(newKid).toBeDefined();
    expect(newKid).not.toBe(oldKid);
    expect((await fetchJwks(ts.url)).keys.map((k) => k.kid).sort()).toStrictEqual([oldKid, newKid].sort());

    const listed = await runCli(['keys', 'signing', '--json'], { TESSERA_CONNECTION_STRING: cs });
    expect(listed.code, listed.stderr).toBe(0);
    const body = JSON.parse(listed.stdout) as SigningKeysJson;
    expect(body.keys.map((k) => [k.kid, k.state])).toStrictEqual([
      [oldKid, 'retired'],
      [newKid, 'active'],
    ]);
    const old = body.keys[0];
    expect(Date.parse(old?.dropsAt ?? '') - Date.parse(old?.retiredAt ?? '')).toBe((1440 * 60 + 900) * 1000);
    const text = await runCli(['keys', 'signing', '--connection-string', cs]);
    expect(text.stdout).toContain(`${oldKid}  retired`);
  });

  it('refuses a bad --activate-after and a key without keys/write, exit 1', async () => {
    const bad = await runCli([
      'keys',
      'rotate-signing',
      '--activate-after',
      'soon',
      '--connection-string',
      ts.server.connectionString,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--activate-after');
    const readOnly = await runCli([
      'keys',
      'rotate-signing',
      '--connection-string',
      ts.server.verifierConnectionString,
    ]);
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toContain('403');
    expect(readOnly.stderr).not.toContain(ts.verifierKey);
  });
});
