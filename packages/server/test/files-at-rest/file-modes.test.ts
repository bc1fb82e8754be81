// Issue #16, files at rest: the data directory was created 0755 and the database files 0644, so any local user could
// read identities, custom ids and the audit log. New data dirs are 0700 and the SQLite database with its -wal / -shm,
// the master key and the development CA's keys 0600; files an older version left open are tightened on start, and a
// data dir open to others is reported (with the chmod that fixes it).
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { acsRequest, startTestServer, type TestServer, tempDir } from '../e2e/helpers.js';

const mode = (path: string) => statSync(path).mode & 0o777;
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function dataDir(): string {
  const dir = tempDir('tessera-modes-');
  cleanups.push(dir.cleanup);
  return join(dir.path, 'data'); // not created yet: the server creates it
}

/** Log lines at warn and above, parsed. */
function logSink(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { stream, lines };
}

/** Starts a server on `dir`, creates an identity (so the WAL has content), and closes it. */
async function runOnce(dir: string): Promise<void> {
  const ts: TestServer = await startTestServer({ dataDir: dir });
  try {
    const res = await acsRequest(
      { url: ts.url, accessKey: ts.primaryKey },
      'POST',
      '/identities?api-version=2023-10-01',
    );
    expect(res.status).toBe(201);
    // While the server runs, the WAL and shared-memory files exist: they must be private too.
    for (const f of ['tessera.db', 'tessera.db-wal', 'tessera.db-shm']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
      expect(mode(join(dir, f)).toString(8), f).toBe('600');
    }
  } finally {
    await ts.close();
  }
}

describe('files at rest', () => {
  it('a fresh data dir is 0700; the database, its -wal and -shm, and master.key are 0600 (umask 022)', async () => {
    const previous = process.umask(0o022); // the usual umask, under which the old code made 0755 / 0644
    try {
      const dir = dataDir();
      await runOnce(dir);
      expect(mode(dir).toString(8)).toBe('700');
      expect(mode(join(dir, 'tessera.db')).toString(8)).toBe('600');
      expect(mode(join(dir, 'master.key')).toString(8)).toBe('600');
    } finally {
      process.umask(previous);
    }
  });

  it('--tls-dev: the tls folder is 0700 and both private keys 0600', async () => {
    const dir = dataDir();
    const ts = await startTestServer({ dataDir: dir, tlsDev: true });
    await ts.close();
    expect(mode(join(dir, 'tls')).toString(8)).toBe('700');
    expect(mode(join(dir, 'tls', 'dev-ca.key')).toString(8)).toBe('600');
    expect(mode(join(dir, 'tls', 'localhost.key')).toString(8)).toBe('600');
  });

  it('a custom sqlite: path in a new folder gets the same modes', async () => {
    const dir = dataDir();
    const db = join(dir, '..', 'elsewhere', 'identities.db');
    const ts = await startTestServer({ dataDir: dir, store: `sqlite:${db}` });
    await ts.close();
    expect(mode(join(dir, '..', 'elsewhere')).toString(8)).toBe('700');
    expect(mode(db).toString(8)).toBe('600');
  });

  it('files an older version left 0644 are tightened on start, each with a warning; a 0755 data dir is reported', async () => {
    const dir = dataDir();
    await runOnce(dir);
    await (await startTestServer({ dataDir: dir, tlsDev: true })).close(); // makes the development CA
    // What an install made before the fix looks like.
    chmodSync(dir, 0o755);
    for (const f of ['tessera.db', 'master.key', join('tls', 'dev-ca.key')]) chmodSync(join(dir, f), 0o644);
    const log = logSink();
    const ts = await startTestServer({ dataDir: dir, tlsDev: true, logLevel: 'warn', logDestination: log.stream });
    await ts.close();
    for (const f of ['tessera.db', 'master.key', join('tls', 'dev-ca.key')]) {
      expect(mode(join(dir, f)).toString(8), f).toBe('600');
      expect(
        log.lines.some((l) => l.path === join(dir, f) && l.mode === '644' && /now private/.test(String(l.msg))),
        f,
      ).toBe(true);
    }
    // The directory is the operator's to change (it may be shared on purpose): reported with the fix, not changed.
    expect(mode(dir).toString(8)).toBe('755');
    expect(log.lines.some((l) => l.path === dir && /chmod 700/.test(String(l.msg)))).toBe(true);
    // Nothing else was loose, so nothing else is reported.
    expect(log.lines.filter((l) => typeof l.path === 'string').map((l) => l.path)).toHaveLength(4);
  });

  it('a private data dir starts without any mode warning', async () => {
    const dir = dataDir();
    mkdirSync(dir, { mode: 0o700 });
    const log = logSink();
    const ts = await startTestServer({ dataDir: dir, logLevel: 'warn', logDestination: log.stream });
    await ts.close();
    expect(log.lines.filter((l) => /readable by other users/.test(String(l.msg)))).toEqual([]);
  });
});
