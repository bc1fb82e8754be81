// CPU cost of the metric work an issue-token request does, measured in one process (plain script, not a test):
//   node bench/metrics-hot-path.mjs
// Part 1 times the calls themselves (request counter and histogram, rate-limit decision and window, token counter).
// Part 2 times a Fastify route through app.inject() with and without instrumentFastify, interleaved: the hook's
// share of a request's framework work. CPU time (process.cpuUsage), so it holds better than requests/s on a busy host.
import { createServerMetrics } from '../packages/server/dist/metrics/server-metrics.js';
import { createMemoryRateLimiter } from '../packages/server/dist/limits/rate-limiter.js';
import { instrumentFastify } from '@tessera/metrics';
import Fastify from 'fastify';

const N = Number(process.env.N ?? 1_000_000);
const cpuNs = (f) => {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) * 1000;
};

const policy = { issue: { limit: 999_999_999, windowSeconds: 30 } };
const metrics = createServerMetrics({ policy, clock: Date.now });
const limiter = metrics.instrumentRateLimiter(createMemoryRateLimiter(policy, Date.now));
const bare = createMemoryRateLimiter(policy, Date.now);
const scopes = ['chat', 'voip'];
for (let round = 0; round < 3; round++) {
  const off = cpuNs(() => {
    for (let i = 0; i < N; i++) bare.take('key:primary', 'issue');
  });
  const on = cpuNs(() => {
    for (let i = 0; i < N; i++) {
      limiter.take('key:primary', 'issue');
      metrics.requests.observe('identity.issueToken', 200, 0.0011);
      metrics.events.tokenIssued(scopes);
    }
  });
  console.log(
    `calls: ${((on - off) / N).toFixed(0)} ns of metric work per request (limiter alone ${(off / N).toFixed(0)} ns)`,
  );
}

async function injectCost(instrumented) {
  const app = Fastify({ logger: false });
  if (instrumented) instrumentFastify(app, { metrics: metrics.requests });
  app.post('/x', (_request, reply) => {
    reply.type('application/json');
    return Promise.resolve('{"token":"t"}');
  });
  await app.ready();
  const M = 20_000;
  const t = process.cpuUsage();
  for (let i = 0; i < M; i++) await app.inject({ method: 'POST', url: '/x', payload: '{}' });
  const d = process.cpuUsage(t);
  await app.close();
  return ((d.user + d.system) * 1000) / M;
}
const ratios = [];
for (let round = 0; round < 6; round++) {
  const order = round % 2 === 0 ? [false, true] : [true, false];
  const r = {};
  for (const o of order) r[o] = await injectCost(o);
  ratios.push(r.true / r.false);
  console.log(
    `inject: off ${r.false.toFixed(0)} ns, on ${r.true.toFixed(0)} ns CPU per request (on/off ${(r.true / r.false).toFixed(3)})`,
  );
}
console.log(`inject median on/off CPU ${ratios.sort((a, b) => a - b)[3].toFixed(3)}`);
