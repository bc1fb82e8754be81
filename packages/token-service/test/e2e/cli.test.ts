import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningServer, startServer } from '@tessera/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_POLICY, call } from '../helpers/stack.js';

const BIN = fileURLToPath(new URL('../../../cli/dist/bin.js', import.meta.url));
let dir: string;
let identity: RunningServer;
let policyPath: string;

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TESSERA_')) env[k] = v;
  return { ...env, ...extra };
}

/** Starts `tessera token-service`, resolving once it printed its URL. */
function startCli(args: string[], env: Record<string, string> = {}) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, 'token-service', ...args], {
    env: cleanEnv(env),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\S+)/.exec(stdout);
      if (m?.[1] !== undefined) {
        clearInterval(timer);
        resolve(m[1]);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}: ${stderr}`));
    });
  });
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-ts-cli-'));
  identity = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir: join(dir, 'idsrv'),
    logLevel: 'silent',
    rateLimit: 'off',
  });
  policyPath = join(dir, 'policy.json');
  writeFileSync(policyPath, JSON.stringify(EXAMPLE_POLICY));
});
afterAll(async () => {
  await identity?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tessera token-service', () => {
  it('starts from flags and TESSERA_TS_* variables, serves guests, never prints the access key, stops on SIGTERM', async () => {
    const cli = startCli(
      ['--policy', policyPath, '--port', '0', '--anonymous', '--data-dir', join(dir, 'svc'), '--log-level', 'silent'],
      {
        TESSERA_TS_CONNECTION_STRING: identity.connectionString,
        TESSERA_TS_CORS_ORIGIN: 'https://app.example.com',
      },
    );
    const url = await cli.ready;
    expect((await call(`${url}healthz`)).body).toEqual({ status: 'ok' });
    const guest = await call(`${url}api/token`, { headers: { origin: 'https://app.example.com' } });
    expect(guest.status).toBe(200);
    expect(guest.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const accessKey = identity.connectionString.split('accesskey=')[1] ?? '';
    expect(cli.output().stdout).not.toContain(accessKey);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output().stdout).toContain('Stopped.');
  });

  it('with --dev-oidc starts a development OIDC provider, trusts it and serves the demo page', async () => {
    const cli = startCli([
      '--connection-string',
      identity.connectionString,
      '--policy',
      policyPath,
      '--port',
      '0',
      '--dev-oidc',
      '--data-dir',
      join(dir, 'svc2'),
      '--log-level',
      'silent',
    ]);
    const url = await cli.ready;
    const issuer = /Development OIDC provider: (http:\S+)/.exec(cli.output().stdout)?.[1] ?? '';
    const discovery = await call(`${issuer}/.well-known/openid-configuration`);
    expect(discovery.body.issuer).toBe(issuer);
    const config = await call(`${url}demo/config.json`);
    expect(config.body).toMatchObject({ anonymous: false, oidc: { issuer, clientId: 'tessera-demo' } });
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it.each([
    [['--policy', 'policy.json'], 'connection-string'],
    [['--connection-string', 'endpoint=http://127.0.0.1:1/;accesskey=a2V5'], 'policy'],
    [['--connection-string', 'endpoint=http://127.0.0.1:1/;accesskey=a2V5', '--policy', '/nonexistent.json'], 'policy'],
    [['--connection-string', 'endpoint=http://127.0.0.1:1/;accesskey=a2V5', '--policy', 'P', '--port', 'abc'], 'port'],
    [
      [
        '--connection-string',
        'endpoint=http://127.0.0.1:1/;accesskey=a2V5',
        '--policy',
        'P',
        '--issuer',
        'https://idp',
      ],
      'audience',
    ],
    [
      [
        '--connection-string',
        'endpoint=http://127.0.0.1:1/;accesskey=a2V5',
        '--policy',
        'P',
        '--cors-origin',
        'not a url',
        '--anonymous',
      ],
      'cors-origin',
    ],
  ])('refuses a bad setting at start, naming it (%#)', async (args, setting) => {
    const cli = startCli(args.map((a) => (a === 'P' ? policyPath : a)));
    await expect(cli.ready).rejects.toThrow();
    expect(await cli.exited).toBe(1);
    expect(cli.output().stderr).toContain(`--${setting}`);
    expect(cli.output().stderr).toContain('ERR_CONFIG_INVALID');
    expect(cli.output().stderr).not.toMatch(/\n\s+at /);
  });
});
