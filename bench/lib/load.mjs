// Closed-loop HTTP load from a separate process: wrk when installed (cheaper client), else autocannon
// (run in a child Node process). Both cycle through a pool of pre-signed requests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  busiestBetween,
  coresOfComm,
  cpuOf,
  diffProcStat,
  processCpuSeconds,
  readProcStat,
  round,
  snapshotProcesses,
} from './machine.mjs';
import { runToEnd } from './proc.mjs';
import { toRawHttp } from './signed-requests.mjs';

const here = dirname(fileURLToPath(import.meta.url));

let wrkPath;
/** Path of wrk, or null when it is not installed (or BENCH_TOOL=autocannon). */
export function findWrk() {
  if (wrkPath !== undefined) return wrkPath;
  wrkPath = null;
  if (process.env.BENCH_TOOL === 'autocannon') return wrkPath;
  try {
    wrkPath = execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null;
  } catch {
    wrkPath = null;
  }
  return wrkPath;
}

/** 'wrk' or 'autocannon': the load tool this run uses. */
export function toolName() {
  return findWrk() ? 'wrk' : 'autocannon';
}

/**
 * One load run of `durationS` seconds at `connections` against `url` (origin), cycling `requests`.
 * `storeComm` names the database processes (e.g. 'postgres') whose CPU counts as the store's, not as noise.
 */
export async function loadOnce({ url, requests, connections = 50, durationS = 10, serverPids = [], storeComm }) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-load-'));
  // The load tool's own CPU: polled while it runs (its /proc entry is gone by the time 'exit' fires).
  let toolPid;
  let toolCpu0;
  let toolCpu;
  const poll = setInterval(() => {
    if (toolPid === undefined) return;
    const c = processCpuSeconds(toolPid);
    if (c === undefined) return;
    toolCpu0 ??= c;
    toolCpu = c;
  }, 100);
  const onSpawn = (child) => {
    toolPid = child.pid;
  };
  try {
    const procs0 = snapshotProcesses();
    const cpu0 = cpuOf(serverPids);
    const stat0 = readProcStat();
    const raw = await (findWrk()
      ? runWrk({ dir, url, requests, connections, durationS, onSpawn })
      : runAutocannon({ dir, url, requests, connections, durationS, onSpawn }));
    const stat1 = readProcStat();
    const cpu1 = cpuOf(serverPids);
    const procs1 = snapshotProcesses();
    const machine = diffProcStat(stat0, stat1);
    const wall = machine?.wallS ?? durationS;
    const serverCores = serverPids.length > 0 ? round((cpu1 - cpu0) / wall, 2) : undefined;
    // toolCpu0 is taken ≤100 ms after spawn, before the tool has done much; scale to the tool's load time.
    const clientCores = toolCpu !== undefined ? round((toolCpu - toolCpu0) / durationS, 2) : undefined;
    const storeCores = storeComm === undefined ? undefined : coresOfComm(procs0, procs1, wall, storeComm);
    const otherCores =
      machine && serverCores !== undefined && clientCores !== undefined
        ? round(Math.max(0, machine.busyCores - serverCores - clientCores - (storeCores ?? 0)), 2)
        : undefined;
    return {
      ...raw,
      serverCores,
      clientCores,
      storeCores,
      otherCores,
      busyCores: machine?.busyCores,
      stealPct: machine?.stealPct,
      // Who else used the CPU (process names only), to tell neighbours from measurement error. A parent's
      // figure includes children reaped during the run (their whole life), so it is capped at the total.
      otherTop: busiestBetween(procs0, procs1, wall, [...serverPids, process.pid, toolPid ?? -1])
        .filter((p) => p.comm !== storeComm)
        .map((p) => `${p.comm}:${Math.min(p.cores, otherCores ?? p.cores)}`),
    };
  } finally {
    clearInterval(poll);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runWrk({ dir, url, requests, connections, durationS, onSpawn }) {
  const file = join(dir, 'requests.bin');
  const parts = [];
  for (const r of requests) {
    const bytes = toRawHttp(r);
    parts.push(Buffer.from(`${bytes.length}\n`, 'latin1'), bytes);
  }
  writeFileSync(file, Buffer.concat(parts));
  const { stdout } = await runToEnd({
    command: findWrk(),
    args: [
      '-t1',
      `-c${connections}`,
      `-d${durationS}s`,
      '--timeout',
      '5s',
      '-s',
      join(here, 'wrk-cycle.lua'),
      url,
      '--',
      file,
    ],
    timeoutMs: (durationS + 20) * 1000,
    name: 'wrk',
    onSpawn,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout.slice(-1000)}`);
  const s = JSON.parse(line.slice('WRK_JSON '.length));
  const seconds = s.duration_us / 1e6;
  const socketErrors = s.err_connect + s.err_read + s.err_write + s.err_timeout;
  return {
    tool: 'wrk',
    requests: s.requests,
    rps: round(s.requests / seconds),
    p50Ms: round(s.p50_us / 1000, 2),
    p99Ms: round(s.p99_us / 1000, 2),
    maxMs: round(s.max_us / 1000, 2),
    non2xx: s.err_status,
    socketErrors,
  };
}

async function runAutocannon({ dir, url, requests, connections, durationS, onSpawn }) {
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify({ url, requests, connections, duration: durationS }));
  const { stdout } = await runToEnd({
    args: [join(here, 'autocannon-child.mjs'), file],
    timeoutMs: (durationS + 20) * 1000,
    name: 'autocannon',
    onSpawn,
  });
  const r = JSON.parse(stdout.trim().split('\n').at(-1));
  return { tool: 'autocannon', ...r };
}

/**
 * Warm up for `warmupS`, then `runs` measured runs; returns the run with the median rps plus every run's rps.
 */
export async function measure({
  url,
  requests,
  connections = 50,
  warmupS = 3,
  durationS = 10,
  runs = 1,
  serverPids = [],
  storeComm,
}) {
  if (warmupS > 0) await loadOnce({ url, requests, connections, durationS: warmupS, serverPids, storeComm });
  const results = [];
  for (let i = 0; i < runs; i++)
    results.push(await loadOnce({ url, requests, connections, durationS, serverPids, storeComm }));
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  return { ...median, runs, connections, durationS, warmupS, allRps: results.map((r) => r.rps) };
}
