// Machine facts and CPU accounting from /proc (Linux). Everything degrades to `undefined` elsewhere.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const CLK_TCK = 100; // USER_HZ on Linux x86_64

/** CPU model, cores, memory, Node and OpenSSL versions, kernel, date. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    openssl: process.versions.openssl,
    uv: process.versions.uv,
    platform: `${os.platform()} ${os.release()}`,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  };
}

/** Aggregate `cpu` line of /proc/stat, in ticks; undefined when unreadable. */
export function readProcStat() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    return { user, nice, system, idle, iowait, irq, softirq, steal, at: process.hrtime.bigint() };
  } catch {
    return undefined;
  }
}

/**
 * Difference of two /proc/stat samples: busy cores (all non-idle, non-steal time in cores),
 * steal as a fraction of all vCPU time, and the wall time.
 */
export function diffProcStat(a, b) {
  if (a === undefined || b === undefined) return undefined;
  const d = (k) => b[k] - a[k];
  const busy = d('user') + d('nice') + d('system') + d('irq') + d('softirq');
  const total = busy + d('idle') + d('iowait') + d('steal');
  const wallS = Number(b.at - a.at) / 1e9;
  return {
    busyCores: round(busy / CLK_TCK / wallS, 2),
    stealPct: total > 0 ? round((100 * d('steal')) / total, 1) : 0,
    wallS: round(wallS, 2),
  };
}

/** utime+stime of a process in seconds, or undefined when it is gone. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime is field 14, stime field 15 → indexes 11 and 12
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Sum of {@link processCpuSeconds} over pids (missing ones count 0). */
export function cpuOf(pids) {
  return pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
}

export function round(x, digits = 0) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * CPU seconds of every process, by pid, with its short name (`comm`, never the command line). The CPU includes
 * reaped children (cutime+cstime), so a test runner that spawns short-lived processes shows their load too.
 */
export function snapshotProcesses() {
  const out = new Map();
  let pids;
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      out.set(Number(pid), {
        comm: stat.slice(open + 1, close),
        cpu: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK,
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The `top` busiest processes between two snapshots, leaving out `excludePids`: [{comm, cores}]. */
export function busiestBetween(a, b, seconds, excludePids, top = 3) {
  const rows = [];
  for (const [pid, now] of b) {
    if (excludePids.includes(pid)) continue;
    const before = a.get(pid);
    const used = now.cpu - (before?.cpu ?? 0);
    if (used > 0.02 * seconds) rows.push({ pid, comm: now.comm, cores: round(used / seconds, 2) });
  }
  return rows.sort((x, y) => y.cores - x.cores).slice(0, top);
}

/** CPU cores used between two snapshots by processes named `comm` (e.g. every `postgres` backend). */
export function coresOfComm(a, b, seconds, comm) {
  let used = 0;
  for (const [pid, now] of b) {
    if (now.comm !== comm) continue;
    used += now.cpu - (a.get(pid)?.cpu ?? 0);
  }
  return round(used / seconds, 2);
}
