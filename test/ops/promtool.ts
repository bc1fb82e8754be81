// Finding Debian's Prometheus binaries for the ops tests; a clear failure naming the package when they are absent.
import { spawnSync } from 'node:child_process';

/** The Debian package that provides `promtool` and `prometheus`. */
export const INSTALL_HINT =
  "install Debian's prometheus package: apt-get install -y prometheus (it provides promtool and prometheus)";

/** The path of `name` on PATH; throws an error telling what to install when it is missing. */
export function requireBinary(name: 'promtool' | 'prometheus'): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') throw new Error(`${name} not found on PATH — ${INSTALL_HINT}`);
  return path;
}

/** Runs promtool with `args` in `cwd`; returns its exit status and output. */
export function promtool(args: readonly string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(requireBinary('promtool'), [...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
