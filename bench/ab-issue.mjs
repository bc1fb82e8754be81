// Interleaved A/B of issue-token throughput between two checkouts (plain script, not a test):
//   node bench/ab-issue.mjs <checkout A> <checkout B>
// Each checkout must be built (`npm run build`). Both servers start once (`tessera serve`, SQLite, the bench's
// V8 settings); then PAIRS pairs of DUR-second wrk loads alternate A,B / B,A. Prints each pair and the median B/A.
// Env: PAIRS (6), DUR seconds (5), NODE_ARGS_A / NODE_ARGS_B (extra node flags, space-separated),
// ENV_A / ENV_B (NAME=value;NAME=value, e.g. TESSERA_SIGNING_THREADS=1), ARGS_A / ARGS_B (more `tessera serve`
// flags, space-separated, e.g. `--log-level info`: the last of a repeated flag wins).
// On a shared 2-vCPU host, the median of four pairs moved by ±15 % between two identical servers: use six or more
// pairs and look for the same direction in most of them (bench/README.md).
import { resolve } from 'node:path';
import { loadOnce } from './lib/load.mjs';
import { startIssueTarget } from './lib/tessera.mjs';

const [rootA, rootB] = process.argv.slice(2).map((p) => resolve(p));
if (rootA === undefined || rootB === undefined) {
  console.error('usage: node bench/ab-issue.mjs <checkout A> <checkout B>');
  process.exit(2);
}
const PAIRS = Number(process.env.PAIRS ?? 6);
const DUR = Number(process.env.DUR ?? 5);
const words = (s) => (s ?? '').split(' ').filter(Boolean);
const envOf = (s) =>
  Object.fromEntries(
    (s ?? '')
      .split(';')
      .filter(Boolean)
      .map((kv) => kv.split('=')),
  );
// Server CPU (every thread) per request: steadier than requests/s when the host's speed moves, though a busier
// sibling vCPU still inflates it.
const cpuUs = (r) => Math.round((r.serverCores * 1e6) / r.rps);
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const servers = {
  A: await startIssueTarget({
    root: rootA,
    nodeArgs: words(process.env.NODE_ARGS_A),
    env: envOf(process.env.ENV_A),
    extraArgs: words(process.env.ARGS_A),
  }),
  B: await startIssueTarget({
    root: rootB,
    nodeArgs: words(process.env.NODE_ARGS_B),
    env: envOf(process.env.ENV_B),
    extraArgs: words(process.env.ARGS_B),
  }),
};
try {
  for (const s of Object.values(servers)) await loadOnce({ url: s.url, requests: s.requests, durationS: 3 });
  const runs = { A: [], B: [] };
  for (let i = 0; i < PAIRS; i++) {
    for (const k of i % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
      const s = servers[k];
      runs[k].push(await loadOnce({ url: s.url, requests: s.requests, durationS: DUR, serverPids: s.pids }));
    }
    const [a, b] = [runs.A[i], runs.B[i]];
    console.log(
      `pair ${i + 1}: A ${a.rps} rps, p99 ${a.p99Ms} ms, ${cpuUs(a)} µs CPU/req | ` +
        `B ${b.rps} rps, p99 ${b.p99Ms} ms, ${cpuUs(b)} µs CPU/req | B/A ${(b.rps / a.rps).toFixed(3)}`,
    );
  }
  const ratios = runs.A.map((a, i) => runs.B[i].rps / a.rps);
  console.log(
    `median B/A ${median(ratios).toFixed(3)} (${ratios.filter((r) => r > 1).length} of ${PAIRS} pairs above 1); ` +
      `median p99 A ${median(runs.A.map((r) => r.p99Ms))} ms, B ${median(runs.B.map((r) => r.p99Ms))} ms; ` +
      `median CPU/req B/A ${median(runs.A.map((a, i) => cpuUs(runs.B[i]) / cpuUs(a))).toFixed(3)}`,
  );
} finally {
  await servers.A.stop();
  await servers.B.stop();
}
