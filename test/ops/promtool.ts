// Finding Prometheus's binaries for the ops tests. A fresh machine has none, and `npm test` must still run with
// nothing installed by hand: when neither is on PATH, the suite fetches Debian's `prometheus` package itself with
// `apt-get download` (no root needed; Debian's archive is one of the two registries this project may use) and
// unpacks it with `dpkg-deb -x` into node_modules/.cache, once. Only when that too is impossible does a test fail,
// naming what to install. TESSERA_PROMETHEUS_DIR points at a folder holding both binaries instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What to do when no Prometheus can be had. */
export const INSTALL_HINT =
  "install Debian's prometheus package (apt-get install -y prometheus: it provides promtool and prometheus), " +
  'or set TESSERA_PROMETHEUS_DIR to a folder holding both binaries';

const CACHE = fileURLToPath(new URL('../../node_modules/.cache/tessera-prometheus', import.meta.url));

function onPath(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** Downloads Debian's prometheus package and unpacks it into {@link CACHE}; the reason when it cannot. */
function unpackDebianPackage(): string | undefined {
  const work = mkdtempSync(join(tmpdir(), 'tessera-prometheus-'));
  try {
    const download = spawnSync('apt-get', ['download', 'prometheus'], {
      cwd: work,
      encoding: 'utf8',
      timeout: 300_000,
    });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (download.status !== 0 || deb === undefined) {
      return `apt-get download prometheus failed: ${(download.stderr || download.error?.message || '').trim()}`;
    }
    mkdirSync(CACHE, { recursive: true });
    const unpack = spawnSync('dpkg-deb', ['-x', join(work, deb), CACHE], { encoding: 'utf8', timeout: 120_000 });
    return unpack.status === 0 ? undefined : `dpkg-deb -x failed: ${unpack.stderr.trim()}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The path of `name`: TESSERA_PROMETHEUS_DIR, then PATH, then the suite's own unpacked Debian package (fetched on
 * first need). Throws an error telling what to install when none can be had.
 */
export function requireBinary(name: 'promtool' | 'prometheus'): string {
  const dir = process.env.TESSERA_PROMETHEUS_DIR;
  if (dir !== undefined && dir !== '') {
    const path = join(dir, name);
    if (existsSync(path)) return path;
    throw new Error(`${name} not found in TESSERA_PROMETHEUS_DIR (${dir}) — ${INSTALL_HINT}`);
  }
  const system = onPath(name);
  if (system !== undefined) return system;
  const cached = join(CACHE, 'usr', 'bin', name);
  if (existsSync(cached)) return cached;
  const why = unpackDebianPackage();
  if (why === undefined && existsSync(cached)) return cached;
  throw new Error(
    `${name} not found on PATH and the suite could not fetch it (${why ?? 'no binary in the package'}) — ${INSTALL_HINT}`,
  );
}

/** Runs promtool with `args` in `cwd`; returns its exit status and output. */
export function promtool(args: readonly string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(requireBinary('promtool'), [...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
