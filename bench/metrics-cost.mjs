// The cost of metrics on issue-token (plain script, not a test): node bench/metrics-cost.mjs
// Two servers of this checkout start once (`tessera serve`, SQLite, the bench's V8 settings), one without metrics
// and one with `--metrics-port 0`, both with the ACS-like rate limiter on but out of reach (issue=999999999/30), so
// the metrics path includes the rate-limit decision counter and utilisation window. While the metrics server is
// loaded it is scraped every SCRAPE_S seconds, as Prometheus would. Then ROUNDS rounds of DUR-second wrk loads
// alternate off,on / on,off. Prints each round and the median on/off ratio (target ≥ 0.95, docs/operations.md).
// Env: ROUNDS (6), DUR seconds (5), SCRAPE_S (2: a scrape far more often than Prometheus's usual 15 s).
import { loadOnce } from './lib/load.mjs';
import { startIssueTarget } from './lib/tessera.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const DUR = Number(process.env.DUR ?? 5);
const SCRAPE_S = Number(process.env.SCRAPE_S ?? 2);
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const cpuUs = (r) => Math.round((r.serverCores * 1e6) / r.rps);

async function startTarget(metrics) {
  const extraArgs = ['--rate-limit', 'issue=999999999/30', ...(metrics ? ['--metrics-port', '0'] : [])];
  const server = await startIssueTarget({ extraArgs });
  let metricsUrl;
  for (let i = 0; metrics && metricsUrl === undefined; i++) {
    metricsUrl = /Metrics \(Prometheus\): (\S+)/.exec(server.output())?.[1];
    if (metricsUrl !== undefined) break;
    if (i > 50) {
      await server.stop();
      throw new Error('the server printed no metrics URL');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...server, metricsUrl };
}

/** Loads a server; the metrics one is scraped every SCRAPE_S seconds meanwhile. Returns the load result and scrapes. */
async function load(server) {
  let scrapes = 0;
  let bytes = 0;
  const timer =
    server.metricsUrl === undefined
      ? undefined
      : setInterval(() => {
          fetch(server.metricsUrl)
            .then((r) => r.text())
            .then((t) => {
              scrapes++;
              bytes = t.length;
            })
            .catch(() => undefined);
        }, SCRAPE_S * 1000);
  try {
    const result = await loadOnce({
      url: server.url,
      requests: server.requests,
      durationS: DUR,
      serverPids: server.pids,
    });
    return { ...result, scrapes, bytes };
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
}

const servers = { off: await startTarget(false), on: await startTarget(true) };
try {
  for (const s of Object.values(servers)) await loadOnce({ url: s.url, requests: s.requests, durationS: 3 });
  const runs = { off: [], on: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const k of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) runs[k].push(await load(servers[k]));
    const [off, on] = [runs.off[i], runs.on[i]];
    console.log(
      `round ${i + 1}: off ${off.rps} rps, p99 ${off.p99Ms} ms, ${cpuUs(off)} µs CPU/req | ` +
        `on ${on.rps} rps, p99 ${on.p99Ms} ms, ${cpuUs(on)} µs CPU/req, ${on.scrapes} scrapes of ${on.bytes} B | ` +
        `on/off ${(on.rps / off.rps).toFixed(3)}`,
    );
  }
  const ratios = runs.off.map((off, i) => runs.on[i].rps / off.rps);
  const ratio = median(ratios);
  console.log(
    `metrics on/off: median ${ratio.toFixed(3)} (${ratios.filter((r) => r >= 0.95).length} of ${ROUNDS} rounds ≥ 0.95; ` +
      `target ≥ 0.95 ${ratio >= 0.95 ? 'met' : 'NOT met'}); median p99 off ${median(runs.off.map((r) => r.p99Ms))} ms, ` +
      `on ${median(runs.on.map((r) => r.p99Ms))} ms; median CPU/req on/off ` +
      `${median(runs.off.map((off, i) => cpuUs(runs.on[i]) / cpuUs(off))).toFixed(3)}`,
  );
  // For bench/run.mjs (or a CI step) to pick up: one JSON line.
  console.log(
    JSON.stringify({ bench: 'metrics-cost', ratio: Number(ratio.toFixed(3)), rounds: ROUNDS, durationS: DUR }),
  );
} finally {
  await servers.off.stop();
  await servers.on.stop();
}
