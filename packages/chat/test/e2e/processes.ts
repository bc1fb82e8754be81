// Child processes of the `tessera` CLI for the multi-process suites: started with real flags, read from stdout.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const CLI_BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');

/** A running `tessera …` child process. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first match of `pattern` in stdout (rejects when the process exits first or after 30 s). */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when it exited. */
  stop(): Promise<void>;
}

const running = new Set<CliProcess>();

/** Starts `node packages/cli/dist/bin.js <args>` with the parent's environment minus `TESSERA_*`. */
export function spawnTessera(args: readonly string[]): CliProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('TESSERA_')) env[k] = v;
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, env, stdio: 'pipe' });
  let out = '';
  let err = '';
  let exited = false;
  const wakeups = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of wakeups) w();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const closed = new Promise<void>((done) =>
    child.once('close', () => {
      exited = true;
      for (const w of wakeups) w();
      done();
    }),
  );
  const p: CliProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern) {
      return new Promise((resolveMatch, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}; stderr: ${err}`)), 30_000);
        const check = () => {
          const m = pattern.exec(out);
          if (m !== null) finish(undefined, m);
          else if (exited) finish(new Error(`exited before ${pattern}; stderr: ${err}`));
        };
        const finish = (error?: Error, m?: RegExpMatchArray) => {
          clearTimeout(timer);
          wakeups.delete(check);
          if (error !== undefined) reject(error);
          else if (m !== undefined) resolveMatch(m);
        };
        wakeups.add(check);
        check();
      });
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        await closed;
        clearTimeout(force);
      }
      running.delete(p);
    },
  };
  running.add(p);
  return p;
}

/** Stops every process this file started (afterAll). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Stops every process this file started, then drops its PostgreSQL schema (afterAll of the multi-process suites). */
export async function stopAllAndDropSchema(url: string, schema: string): Promise<void> {
  await stopAll();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
