// Issue-token latency at low concurrency, interleaved between checkouts (plain script, not a test):
//   node bench/low-load.mjs <checkout> [<checkout> ...]
// Each checkout must be built (`npm run build`). Every server starts once (`tessera serve`, SQLite, the bench's V8
// settings) and is warmed up for 2 s; then, for 1 and 4 connections, ROUNDS (2) DUR-second (4) wrk loads alternate
// between them, the order reversed every round. Prints requests/s, p50 and p99 per load. The saturating figures
// are `npm run bench`'s and `bench/ab-issue.mjs`'s; this is the other end, where a hand-off that batches must not
// make a lone request wait.
import { resolve } from 'node:path';
import { loadOnce } from './lib/load.mjs';
import { startIssueTarget } from './lib/tessera.mjs';

const roots = process.argv.slice(2).map((p) => resolve(p));
if (roots.length === 0) {
  console.error('usage: node bench/low-load.mjs <checkout> [<checkout> ...]');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const DUR = Number(process.env.DUR ?? 4);

const servers = [];
try {
  for (const root of roots) servers.push(await startIssueTarget({ root }));
  // Warm-up, as ab-issue.mjs does: the first seconds of a fresh server are JIT compilation, not latency.
  for (const s of servers) await loadOnce({ url: s.url, requests: s.requests, durationS: 2 });
  for (const connections of [1, 4]) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
        const r = await loadOnce({ url: s.url, requests: s.requests, connections, durationS: DUR, serverPids: s.pids });
        console.log(
          `${connections} connection(s)  ${s.root}: ${r.rps} rps, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ` +
            `server ${r.serverCores} cores`,
        );
      }
    }
  }
} finally {
  for (const s of servers) await s.stop();
}
