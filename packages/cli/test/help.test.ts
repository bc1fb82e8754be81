// Requirement 7: `npx tessera --help` works from the repository root (the workspace bin is linked), and the
// usage text names every command and every serve setting with its environment variable.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanEnv, REPO_ROOT, runCli } from '../../server/test/e2e/helpers.js';

function run(
  command: string,
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env: cleanEnv({ npm_config_update_notifier: 'false' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const SETTINGS = [
  'host',
  'port',
  'data-dir',
  'store',
  'primary-key',
  'secondary-key',
  'resource-id',
  'location',
  'issuer',
  'audience',
  'public-url',
  'master-key',
  'max-clock-skew',
  'body-limit',
  'log-level',
  'primary-key-file',
  'secondary-key-file',
  'print-connection-strings',
];

describe('tessera --help', () => {
  it('`npx tessera --help` from the repo root exits 0 and prints the usage', async () => {
    const { code, stdout, stderr } = await run('npx', ['--no-install', 'tessera', '--help']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^Usage: tessera <command>/);
    expect(stdout).toContain('serve');
    expect(stdout).toContain('keys list');
    expect(stdout).toContain('keys regenerate');
  });

  it('the usage names every serve flag with its TESSERA_* variable', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of SETTINGS) {
      expect(stdout).toContain(`--${flag}`);
      expect(stdout).toContain(`TESSERA_${flag.toUpperCase().replace(/-/g, '_')}`);
    }
    expect(stdout).toContain('TESSERA_CONNECTION_STRING');
  });

  it('the usage names the diagnostics commands and where secrets may come from (issue #14)', async () => {
    const { stdout } = await runCli(['--help']);
    for (const text of [
      'identities create',
      'identities get <id>',
      'identities revoke <id>',
      'identities delete <id>',
      'token inspect <jwt|->',
      '--capability <name>',
      '--at <time>',
      'doctor',
      '--max-clock-skew <s>',
      '--connection-string-file <file>',
      'TESSERA_CONNECTION_STRING_FILE',
      '--bearer-token-file <file>',
      '--version',
    ]) {
      expect(stdout).toContain(text);
    }
  });

  it.each([
    ['help', 0],
    ['-h', 0],
  ])('`tessera %s` exits %i with the usage', async (arg, exit) => {
    const { code, stdout } = await runCli([arg]);
    expect(code).toBe(exit);
    expect(stdout).toMatch(/^Usage: tessera/);
  });

  it('no command → usage and exit 2; an unknown command → exit 2 naming it', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^Usage: tessera/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });
});
