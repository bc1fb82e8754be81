// Summarises V8 .cpuprofile files (from `node --cpu-prof`): top functions by self time, and self time by
// origin (our packages, each node_modules package, node internals, GC, idle).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function originOf(url, functionName) {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'program (native, uninstrumented)';
  if (url === '') return `native: ${functionName || '(anonymous)'}`;
  const pkg = url.match(/\/packages\/([^/]+)\//);
  if (pkg && !url.includes('node_modules')) return `@tessera/${pkg[1]}`;
  const nm = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').replace(/\/.*$/, '');
  return url;
}

/** @returns {{ totalMs: number, top: {fn: string, where: string, selfMs: number, pct: number}[], byOrigin: {origin: string, selfMs: number, pct: number}[] }} */
export function summariseProfiles(dir, topN = 20) {
  const byFn = new Map();
  const byOrigin = new Map();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = (profile.timeDeltas[i] ?? 0) / 1000;
      self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
    }
    for (const [id, ms] of self) {
      const n = nodes.get(id);
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url
        ? `${url.replace(/^file:\/\/\/work\/main\//, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}`
        : '';
      const key = `${functionName || '(anonymous)'} ${where}`;
      byFn.set(key, { fn: functionName || '(anonymous)', where, selfMs: (byFn.get(key)?.selfMs ?? 0) + ms });
      const origin = originOf(url, functionName);
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + ms);
      total += ms;
    }
  }
  const busy = total - (byOrigin.get('idle') ?? 0);
  const pct = (ms) => Math.round((1000 * ms) / busy) / 10;
  return {
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    top: [...byFn.values()]
      .filter((f) => f.fn !== '(idle)')
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, topN)
      .map((f) => ({ ...f, selfMs: Math.round(f.selfMs), pct: pct(f.selfMs) })),
    byOrigin: [...byOrigin]
      .filter(([o]) => o !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([origin, ms]) => ({ origin, selfMs: Math.round(ms), pct: pct(ms) })),
  };
}
