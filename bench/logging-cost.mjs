// issue-token at the settings users run (plain script, not a test):  node bench/logging-cost.mjs
// Three servers in one run, loaded in turn (interleaved rounds, the order rotating each round):
//   bare     — a bare Fastify POST on the same path with the same bytes (bench/http-bare-post.mjs): the ceiling;
//   silent   — `tessera serve --log-level silent --rate-limit off` (the figure bench/README quotes so far);
//   info     — `tessera serve --rate-limit off`: the default settings (info logging: one JSON line per request)
//              with the rate limiter off for the measurement. Its stdout is a pipe this script reads and discards,
//              as a log shipper (journald, a container runtime) would.
// Prints each round, then the median rps and p99 of each and the ratios info/bare (target ≥ 0.8), silent/bare and
// info/silent, and one JSON line (`logging-cost {...}`) for bench/run.mjs to pick up.
// Env: ROUNDS (3), DUR seconds per load (5), CONNECTIONS (50).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOnce, toolName } from './lib/load.mjs';
import { startProcess } from './lib/proc.mjs';
import { presign } from './lib/signed-requests.mjs';
import {
  createIdentity,
  httpCall,
  ISSUE_BODY,
  issuePath,
  repoRoot,
  SERVER_NODE_ARGS,
  startIssueTarget,
} from './lib/tessera.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DUR = Number(process.env.DUR ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
// Server CPU (every thread) per request: steadier than requests/s when other work shares the host.
const cpuUs = (r) => Math.round((r.serverCores * 1e6) / r.rps);

/** `tessera serve` with its default log level (info) and the rate limiter off; stdout drained, not kept. */
async function startInfoServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-logging-'));
  const p = await startProcess({
    args: [
      ...SERVER_NODE_ARGS,
      join(repoRoot, 'packages/cli/bin/tessera.cjs'),
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--rate-limit',
      'off',
    ],
    ready: /listening on (http:\/\/\S+)[\s\S]*Connection string: (\S+)/,
    name: 'tessera serve (info logging)',
    cwd: repoRoot,
  });
  // From here on the log lines are read and dropped (startProcess would keep them all in memory).
  const log = { bytes: 0, lines: 0 };
  p.child.stdout.removeAllListeners('data');
  p.child.stdout.on('data', (d) => {
    log.bytes += d.length;
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) log.lines++;
  });
  const connectionString = p.match[2];
  const id = await createIdentity(connectionString);
  const requests = presign({ connectionString, method: 'POST', path: issuePath(id), body: ISSUE_BODY });
  return {
    url: p.match[1],
    pids: [p.pid],
    requests,
    log,
    stop: async () => {
      await p.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const stops = [];
try {
  const bare = await startProcess({
    args: [join(here, 'http-bare-post.mjs')],
    ready: /listening on (http:\/\/\S+)/,
    name: 'bare fastify',
  });
  stops.push(bare.stop);
  const silent = await startIssueTarget();
  stops.push(silent.stop);
  const info = await startInfoServer();
  stops.push(info.stop);
  // The bare server gets byte-identical requests (same headers, same body).
  const check = await httpCall(new URL(silent.requests[0].path, bare.match[1]), silent.requests[0]);
  if (check.status !== 200) throw new Error(`bare POST answered ${check.status}`);
  const targets = {
    bare: { url: bare.match[1], requests: silent.requests, pids: [bare.pid] },
    silent: { url: silent.url, requests: silent.requests, pids: silent.pids },
    info: { url: info.url, requests: info.requests, pids: info.pids },
  };
  const names = Object.keys(targets);
  console.log(`load: ${toolName()}, ${CONNECTIONS} connections, ${DUR} s per load, ${ROUNDS} rounds`);
  for (const name of names) {
    const t = targets[name];
    await loadOnce({ url: t.url, requests: t.requests, connections: CONNECTIONS, durationS: 3 });
  }
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    const line = [];
    for (const name of order) {
      const t = targets[name];
      const r = await loadOnce({
        url: t.url,
        requests: t.requests,
        connections: CONNECTIONS,
        durationS: DUR,
        serverPids: t.pids,
      });
      runs[name].push(r);
      line.push(`${name} ${r.rps} rps p99 ${r.p99Ms} ms ${cpuUs(r)} µs CPU/req`);
    }
    console.log(`round ${round + 1}: ${line.join(' | ')}`);
  }
  const rps = Object.fromEntries(names.map((n) => [n, median(runs[n].map((r) => r.rps))]));
  const p99 = Object.fromEntries(names.map((n) => [n, median(runs[n].map((r) => r.p99Ms))]));
  const cpu = Object.fromEntries(names.map((n) => [n, median(runs[n].map(cpuUs))]));
  const result = {
    tool: toolName(),
    connections: CONNECTIONS,
    durationS: DUR,
    rounds: ROUNDS,
    rps,
    p99Ms: p99,
    cpuUsPerRequest: cpu,
    infoOverBare: Number((rps.info / rps.bare).toFixed(3)),
    silentOverBare: Number((rps.silent / rps.bare).toFixed(3)),
    infoOverSilent: Number((rps.info / rps.silent).toFixed(3)),
    logLines: info.log.lines,
    logBytesPerLine: info.log.lines > 0 ? Math.round(info.log.bytes / info.log.lines) : undefined,
  };
  console.log(
    `median: bare ${rps.bare} rps (p99 ${p99.bare} ms) | silent ${rps.silent} rps (p99 ${p99.silent} ms) | ` +
      `info ${rps.info} rps (p99 ${p99.info} ms)`,
  );
  console.log(
    `info/bare ${result.infoOverBare} (target ≥ 0.8), silent/bare ${result.silentOverBare}, ` +
      `info/silent ${result.infoOverSilent}; CPU/req bare ${cpu.bare} µs, silent ${cpu.silent} µs, info ${cpu.info} µs; ` +
      `${result.logLines} log lines of ~${result.logBytesPerLine} bytes`,
  );
  console.log(`logging-cost ${JSON.stringify(result)}`);
} finally {
  for (const stop of stops.reverse()) await stop();
}
