// The suite's own set-up (issue 16): `npm install && npm test` needs no PostgreSQL on the machine. Without
// TESSERA_TEST_PG_URL the run starts a real cluster of its own on a free port and removes it afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestProject } from 'vitest/node';
import setup from '../support/global-setup.js';
import { startTestPostgres } from '../support/postgres-server.js';
import { testPostgresUrl } from '../support/test-postgres-url.js';

const root = new URL('../..', import.meta.url).pathname;
const parentDir = mkdtempSync(join(tmpdir(), 'tessera-pg-selftest-'));
chmodSync(parentDir, 0o755); // as root, the server runs as nobody, who must reach its directory
afterAll(() => rmSync(parentDir, { recursive: true, force: true }));

async function selectOne(url: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one;
  } finally {
    await client.end();
  }
}

/** A stand-in for vitest's TestProject that records what the global setup provides. */
function recordingProject(): { project: TestProject; provided: Map<string, unknown> } {
  const provided = new Map<string, unknown>();
  const project = { provide: (key: string, value: unknown) => provided.set(key, value) } as unknown as TestProject;
  return { project, provided };
}

describe('the suite’s own PostgreSQL', () => {
  it('starts a real server on a free port that is not 5432, answers SELECT 1, and is gone after stop()', async () => {
    const server = await startTestPostgres({ parentDir });
    try {
      expect(server.port).not.toBe(5432);
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
      expect(await selectOne(server.url)).toBe(1);
      expect(existsSync(join(server.dir, 'data', 'PG_VERSION'))).toBe(true);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dir)).toBe(false);
    await expect(selectOne(server.url)).rejects.toThrow(/ECONNREFUSED/);
    await server.stop(); // idempotent
  });

  it('runs the server as `nobody` when the suite runs as root (PostgreSQL refuses root)', async () => {
    const server = await startTestPostgres({ parentDir });
    try {
      // The postmaster's own process, not just its files.
      const pid = readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0];
      const owner = statSync(`/proc/${pid}`).uid;
      expect(owner).toBe(
        process.getuid?.() === 0
          ? Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }))
          : process.getuid?.(),
      );
    } finally {
      await server.stop();
    }
  });

  it('the global setup without TESSERA_TEST_PG_URL provides its own server and removes it at teardown', async () => {
    const saved = process.env.TESSERA_TEST_PG_URL;
    delete process.env.TESSERA_TEST_PG_URL;
    const { project, provided } = recordingProject();
    let teardown: (() => Promise<void>) | undefined;
    try {
      teardown = await setup(project);
    } finally {
      if (saved !== undefined) process.env.TESSERA_TEST_PG_URL = saved;
    }
    const url = provided.get('tesseraTestPgUrl');
    expect(typeof url).toBe('string');
    expect(new URL(String(url)).port).not.toBe('5432');
    expect(await selectOne(String(url))).toBe(1);
    await teardown();
    await expect(selectOne(String(url))).rejects.toThrow(/ECONNREFUSED/);
  });

  it('the global setup with TESSERA_TEST_PG_URL provides that URL and starts nothing', async () => {
    const saved = process.env.TESSERA_TEST_PG_URL;
    process.env.TESSERA_TEST_PG_URL = 'postgres://someone@db.invalid:6543/x';
    const { project, provided } = recordingProject();
    try {
      await (await setup(project))();
    } finally {
      if (saved === undefined) delete process.env.TESSERA_TEST_PG_URL;
      else process.env.TESSERA_TEST_PG_URL = saved;
    }
    expect(provided.get('tesseraTestPgUrl')).toBe('postgres://someone@db.invalid:6543/x');
  });

  it('removes a cluster left behind by a run that died (its owner process is gone)', async () => {
    const stale = join(parentDir, 'tessera-test-pg-stale');
    mkdirSync(join(stale, 'data'), { recursive: true });
    // A pid that is not running: a child that has already exited.
    const deadPid = Number(execFileSync(process.execPath, ['-p', 'process.pid'], { encoding: 'utf8' }));
    writeFileSync(join(stale, 'owner.pid'), `${deadPid}\n`);
    const live = join(parentDir, 'tessera-test-pg-live');
    mkdirSync(live);
    writeFileSync(join(live, 'owner.pid'), `${process.pid}\n`);
    const server = await startTestPostgres({ parentDir });
    await server.stop();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('this run uses TESSERA_TEST_PG_URL when set, else its own server (never the machine’s 5432)', async () => {
    const url = testPostgresUrl();
    if (process.env.TESSERA_TEST_PG_URL) expect(url).toBe(process.env.TESSERA_TEST_PG_URL);
    else expect(new URL(url).port).not.toBe('5432');
    expect(await selectOne(url)).toBe(1);
  });

  it('no test hard-codes a PostgreSQL address: they all ask testPostgresUrl()', () => {
    const grep = spawnSync(
      'git',
      ['grep', '--untracked', '-l', '-E', 'postgres(ql)?://[^`$ ]*:5432', '--', 'packages/*/test', 'test'],
      { cwd: root, encoding: 'utf8' },
    );
    expect(grep.status, grep.stderr).toBe(1); // git grep: 1 = nothing found
    expect(grep.stdout).toBe('');
  });
});
