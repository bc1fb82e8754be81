// Packaging (#15): every workspace package packs with its `files`, and the tarballs alone install into an empty
// folder outside the repository, where `npx tessera serve` starts the server and answers. Dependencies between
// Tessera packages resolve by their real version ranges, from the tarballs, not from the workspace.
//
// better-sqlite3 is a native addon: installing it compiles it from source here (~90 s, no prebuilt binary can be
// downloaded). The test installs with --ignore-scripts and reuses the addon the repository's own install built for
// this very Node, so it tests our packages, not the compiler.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tessera-pack-'));
const children: ChildProcess[] = [];
/** Kills the child and what it started: npx runs `tessera` as its own child, which a signal to npx alone leaves behind. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}
afterAll(() => {
  for (const c of children) killGroup(c, 'SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Waits for a line matching `pattern` on the child's stdout, or fails with what it printed. */
function waitForLine(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms; printed:\n${out}`)), ms);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; printed:\n${out}`));
    });
  });
}

describe('npm pack tarballs install and run outside the repository', () => {
  it('packs every workspace package, installs them into an empty folder, and `npx tessera serve` answers', async () => {
    const packs = join(work, 'packs');
    const app = join(work, 'app');
    mkdirSync(packs);
    mkdirSync(app);
    await run('npm', ['pack', '--workspaces', '--pack-destination', packs, '--silent'], { cwd: root });
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    expect(tarballs.some((t) => t.startsWith('tessera-cli-'))).toBe(true);
    expect(tarballs.some((t) => t.startsWith('tessera-server-'))).toBe(true);

    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-smoke', private: true }));
    await run(
      'npm',
      [
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...tarballs.map((t) => join(packs, t)),
      ],
      { cwd: app, maxBuffer: 16 * 1024 * 1024 },
    );
    cpSync(
      join(root, 'node_modules', 'better-sqlite3', 'build'),
      join(app, 'node_modules', 'better-sqlite3', 'build'),
      {
        recursive: true,
      },
    );

    const child = spawn('npx', ['--offline', 'tessera', 'serve', '--port', '0', '--data-dir', join(app, 'data')], {
      cwd: app,
      env: { ...process.env, npm_config_yes: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the server under npx is stopped with it
    });
    children.push(child);
    const [, endpoint = ''] = await waitForLine(child, /^Connection string: endpoint=(\S+?);accesskey=/m, 60_000);
    const jwks = await fetch(new URL('.well-known/jwks.json', endpoint));
    expect(jwks.status).toBe(200);
    const body = (await jwks.json()) as { keys: Array<{ kty: string }> };
    expect(body.keys[0]?.kty).toBe('EC');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    killGroup(child, 'SIGTERM');
    await exited;
  }, 240_000);
});
