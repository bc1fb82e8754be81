// Load generator process for when wrk is not installed: autocannon cycling a pre-signed request pool.
// argv[2]: JSON spec { url, requests, connections, duration }. Prints one JSON line.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.duration,
  requests: spec.requests,
  timeout: 5,
});
const r2 = (x) => Math.round(x * 100) / 100;
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    rps: Math.round(result.requests.total / (result.duration || spec.duration)),
    p50Ms: r2(result.latency.p50),
    p99Ms: r2(result.latency.p99),
    maxMs: r2(result.latency.max),
    non2xx: result.non2xx,
    socketErrors: result.errors + result.timeouts,
  })}\n`,
);
