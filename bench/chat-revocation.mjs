#!/usr/bin/env node
// Chat revocation benchmark (issue 13): "a revoked token refused by a standalone chat service within 100 ms p99 of
// the revoke call".
//
// Processes, all on 127.0.0.1 over plain HTTP: `tessera serve` (identity server, its chat API mounted) and
// `tessera chat-service` (standalone: own SQLite store, verifies tokens offline from the identity server's JWKS and
// follows its revocation feed, signed with the read-only verifier connection string `tessera serve` prints).
//
// Each round, against one target (standalone and mounted alternate, one round each per round number):
//   1. create an identity and issue it a chat token (HMAC-signed, official wire);
//   2. two authorized chat requests with the token (GET /chat/threads → 200), so the target has verified and cached
//      it; the second one's round trip ("one poll") is the resolution floor of the delays;
//   3. POST /identities/{id}/:revokeAccessTokens (HMAC-signed, → 204);
//   4. from the moment the revoke call returns, poll the target with the same token over one keep-alive connection,
//      a request every ~1 ms (the next one goes 1 ms after the previous was sent, or at once when the previous took
//      longer), until it answers 401; the refusal time is when that 401 arrived. The delay is quoted from the revoke
//      call returning and from it being sent;
//   5. keep polling BENCH_REVOKE_AFTER_MS more (and once more for every token at the end of the run): any answer other
//      than 401 after the first refusal is a "re-accept" (must stay 0).
// A round with no refusal within BENCH_REVOKE_TIMEOUT_MS is a miss (its delay is not in the percentiles). When the
// feed delivers before the revoke response arrives, the first poll is refused: "from returned" is then one poll's
// round trip, an upper bound (the output counts those rounds).
//
// Knobs (env): BENCH_REVOKE_ROUNDS (60 per target), BENCH_REVOKE_WARMUP (3 per target, not counted),
// BENCH_REVOKE_TIMEOUT_MS (5000 per round), BENCH_REVOKE_AFTER_MS (20), BENCH_REVOKE_POLL_MS (1),
// BENCH_REVOKE_BUDGET_S (70: rounds stop early, said in the output, when the run gets this long),
// BENCH_REVOKE_MOUNTED (on; off = standalone only), BENCH_RESULTS_DIR (bench/results).
// Prints a table and one JSON line `chat-revocation {...}`; writes bench/results/chat-revocation.json. ~10–20 s.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineInfo, round } from './lib/machine.mjs';
import { killAllStarted } from './lib/proc.mjs';
import { presign } from './lib/signed-requests.mjs';
import { table } from './lib/table.mjs';
import { percentile } from './lib/stats.mjs';
import { API_VERSION, createIdentity, httpCall, issueOnce, startChatService, startCliServer } from './lib/tessera.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const cfg = {
  rounds: Number(env.BENCH_REVOKE_ROUNDS ?? 60),
  warmup: Number(env.BENCH_REVOKE_WARMUP ?? 3),
  timeoutMs: Number(env.BENCH_REVOKE_TIMEOUT_MS ?? 5000),
  afterMs: Number(env.BENCH_REVOKE_AFTER_MS ?? 20),
  pollMs: Number(env.BENCH_REVOKE_POLL_MS ?? 1),
  budgetS: Number(env.BENCH_REVOKE_BUDGET_S ?? 70),
  mounted: (env.BENCH_REVOKE_MOUNTED ?? 'on') !== 'off',
};
const resultsDir = env.BENCH_RESULTS_DIR ?? join(here, 'results');
const CHAT_API = '2025-03-15';
const LIST_PATH = `/chat/threads?api-version=${CHAT_API}`;
const TARGET_MS = 100;
const startedAt = performance.now();

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAllStarted();
    process.exit(130);
  });
}

/** One GET of the thread list with a bearer token over `agent` (keep-alive); resolves { status, code }. */
function chatGet(baseUrl, agent, token) {
  return new Promise((resolve, reject) => {
    const r = request(
      new URL(LIST_PATH, baseUrl),
      { method: 'GET', headers: { authorization: `Bearer ${token}` }, agent, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode, code: innerCode(res.statusCode, text) }));
      },
    );
    r.on('timeout', () => r.destroy(new Error(`GET ${LIST_PATH}: timed out`)));
    r.on('error', reject);
    r.end();
  });
}

/** `innererror.code` (e.g. ERR_TOKEN_REVOKED) of an error answer, else its `code`, else undefined. */
function innerCode(status, text) {
  if (status < 400) return undefined;
  try {
    const error = JSON.parse(text)?.error;
    return error?.innererror?.code ?? error?.code ?? `HTTP ${status}`;
  } catch {
    return `HTTP ${status}`;
  }
}

const pct = percentile;
const ms2 = (x) => (x === undefined ? undefined : round(x, 2));
const summary = (xs) => ({
  p50: ms2(pct(xs, 50)),
  p90: ms2(pct(xs, 90)),
  p99: ms2(pct(xs, 99)),
  max: ms2(xs.length === 0 ? undefined : Math.max(...xs)),
});

/**
 * One round against `target`: identity, token, one authorized request, revoke, poll until 401.
 * Returns { fromReturned, fromSent, revokeMs, polls, refusedCode, reaccepts, otherAnswers, miss, token }.
 */
async function oneRound(target, connectionString) {
  const id = await createIdentity(connectionString);
  const { token } = await issueOnce(connectionString, id);
  const first = await chatGet(target.url, target.agent, token);
  if (first.status !== 200) throw new Error(`${target.name}: authorized GET answered ${first.status} ${first.code}`);
  // A second, cached, accepted GET: the round trip of one poll, the resolution floor of the delays below.
  const floorAt = performance.now();
  const second = await chatGet(target.url, target.agent, token);
  const acceptedGetMs = performance.now() - floorAt;
  if (second.status !== 200) throw new Error(`${target.name}: second GET answered ${second.status} ${second.code}`);
  const revokePath = `/identities/${encodeURIComponent(id)}/:revokeAccessTokens?api-version=${API_VERSION}`;
  const [signed] = presign({ connectionString, method: 'POST', path: revokePath, body: '', count: 1 });
  const endpoint = connectionString.match(/endpoint=([^;]+)/i)[1];
  const sent = performance.now();
  const revoked = await httpCall(new URL(revokePath, endpoint), { method: 'POST', headers: signed.headers });
  const returned = performance.now();
  if (revoked.status !== 204) throw new Error(`revoke: HTTP ${revoked.status} ${revoked.body.slice(0, 200)}`);
  const otherAnswers = {};
  let polls = 0;
  let refusedAt;
  let refusedCode;
  const deadline = returned + cfg.timeoutMs;
  while (performance.now() < deadline) {
    const at = performance.now();
    const r = await chatGet(target.url, target.agent, token);
    polls++;
    if (r.status === 401) {
      refusedAt = performance.now();
      refusedCode = r.code;
      break;
    }
    if (r.status !== 200) otherAnswers[`${r.status} ${r.code}`] = (otherAnswers[`${r.status} ${r.code}`] ?? 0) + 1;
    const wait = at + cfg.pollMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  let reaccepts = 0;
  if (refusedAt !== undefined) {
    const until = performance.now() + cfg.afterMs;
    while (performance.now() < until) {
      const r = await chatGet(target.url, target.agent, token);
      if (r.status !== 401) reaccepts++;
      await sleep(cfg.pollMs);
    }
  }
  return {
    fromReturned: refusedAt === undefined ? undefined : refusedAt - returned,
    fromSent: refusedAt === undefined ? undefined : refusedAt - sent,
    revokeMs: returned - sent,
    acceptedGetMs,
    polls,
    refusedCode,
    reaccepts,
    otherAnswers,
    miss: refusedAt === undefined,
    token,
  };
}

const dataDirs = [];
const targets = [];
let cutShort = false;
let server;
try {
  const serveDir = mkdtempSync(join(tmpdir(), 'tessera-bench-revoke-serve-'));
  dataDirs.push(serveDir);
  server = await startCliServer({ dataDir: serveDir });
  const verifierCs = /Verifier \(read-only\) connection string: (\S+)/.exec(server.output())?.[1];
  if (verifierCs === undefined) throw new Error('tessera serve printed no verifier connection string');
  const chatDir = mkdtempSync(join(tmpdir(), 'tessera-bench-revoke-chat-'));
  dataDirs.push(chatDir);
  const chat = await startChatService({ identityUrl: server.url, connectionString: verifierCs, dataDir: chatDir });
  const agentOf = () => new Agent({ keepAlive: true, maxSockets: 1 });
  targets.push({
    name: 'standalone chat-service',
    key: 'standalone',
    url: chat.url,
    agent: agentOf(),
    rounds: [],
  });
  if (cfg.mounted)
    targets.push({ name: 'mounted in tessera serve', key: 'mounted', url: server.url, agent: agentOf(), rounds: [] });

  process.stderr.write(`chat-revocation: ${cfg.warmup} warm-up + ${cfg.rounds} rounds per target…\n`);
  for (let i = 0; i < cfg.warmup + cfg.rounds; i++) {
    if ((performance.now() - startedAt) / 1000 > cfg.budgetS) {
      cutShort = true;
      break;
    }
    for (const target of targets) {
      const r = await oneRound(target, server.connectionString);
      if (i >= cfg.warmup) target.rounds.push(r);
    }
  }
  // Every revoked token once more, at the end: still refused?
  for (const target of targets) {
    target.finalReaccepts = 0;
    for (const r of target.rounds) {
      const again = await chatGet(target.url, target.agent, r.token);
      if (again.status !== 401) target.finalReaccepts++;
    }
    target.agent.destroy();
  }
  await chat.stop();
} finally {
  await server?.stop();
  killAllStarted();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
}

const results = targets.map((t) => {
  const hit = t.rounds.filter((r) => !r.miss);
  const codes = {};
  const others = {};
  for (const r of hit) codes[r.refusedCode] = (codes[r.refusedCode] ?? 0) + 1;
  for (const r of t.rounds) for (const [k, n] of Object.entries(r.otherAnswers)) others[k] = (others[k] ?? 0) + n;
  return {
    target: t.key,
    name: t.name,
    rounds: t.rounds.length,
    misses: t.rounds.length - hit.length,
    fromRevokeReturnedMs: summary(hit.map((r) => r.fromReturned)),
    fromRevokeSentMs: summary(hit.map((r) => r.fromSent)),
    slowestFromReturnedMs: hit
      .map((r) => r.fromReturned)
      .sort((a, b) => b - a)
      .slice(0, 5)
      .map(ms2),
    revokeCallMs: summary(t.rounds.map((r) => r.revokeMs)),
    acceptedGetMs: summary(t.rounds.map((r) => r.acceptedGetMs)),
    pollsUntilRefused: {
      p50: pct(
        hit.map((r) => r.polls),
        50,
      ),
      max: pct(
        hit.map((r) => r.polls),
        100,
      ),
    },
    refusedOnFirstPoll: hit.filter((r) => r.polls === 1).length,
    refusedWith: codes,
    nonRefusalAnswersWhilePolling: others,
    reacceptsAfterRefusal: t.rounds.reduce((s, r) => s + r.reaccepts, 0),
    reacceptsAtEnd: t.finalReaccepts,
  };
});

const m = machineInfo();
const standalone = results.find((r) => r.target === 'standalone');
const standaloneP99 = standalone?.fromRevokeReturnedMs.p99;
const met =
  standalone !== undefined && standalone.misses === 0 && standaloneP99 !== undefined && standaloneP99 < TARGET_MS;
process.stdout.write(
  `\nChat revocation: revoke call → the chat API answers 401 to the same token (poll every ~${cfg.pollMs} ms)\n\n`,
);
process.stdout.write(
  `${table(
    [
      'target',
      'rounds',
      'from returned p50/p90/p99/max ms',
      'from sent p50/p90/p99/max ms',
      'revoke call p50 ms',
      'one poll p50 ms',
      'misses',
      're-accepts',
    ],
    results.map((r) => {
      const f = (s) => `${s.p50} / ${s.p90} / ${s.p99} / ${s.max}`;
      return [
        r.name,
        r.rounds,
        f(r.fromRevokeReturnedMs),
        f(r.fromRevokeSentMs),
        r.revokeCallMs.p50,
        r.acceptedGetMs.p50,
        r.misses,
        r.reacceptsAfterRefusal + r.reacceptsAtEnd,
      ];
    }),
  )}\n`,
);
for (const r of results) {
  const others = Object.entries(r.nonRefusalAnswersWhilePolling);
  process.stdout.write(
    `${r.name}: refused with ${JSON.stringify(r.refusedWith)}` +
      (others.length === 0 ? '' : `; other answers while polling ${JSON.stringify(r.nonRefusalAnswersWhilePolling)}`) +
      `; polls until refused p50 ${r.pollsUntilRefused.p50}, max ${r.pollsUntilRefused.max}; refused on the first ` +
      `poll after the revoke returned in ${r.refusedOnFirstPoll} of ${r.rounds - r.misses} rounds\n`,
  );
}
process.stdout.write(
  `\ntarget: standalone p99 from revoke returned < ${TARGET_MS} ms: ${standaloneP99} ms → ${met ? 'met' : 'NOT met'}` +
    `${cutShort ? ` (cut short after ${cfg.budgetS} s)` : ''}\n`,
);
process.stdout.write(
  `machine: ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, ${m.platform}; load average ` +
    `${os
      .loadavg()
      .map((x) => round(x, 2))
      .join(' ')}\n`,
);
const out = {
  bench: 'chat-revocation',
  config: cfg,
  machine: m,
  loadAverage: os.loadavg().map((x) => round(x, 2)),
  cutShort,
  results,
  targetMs: TARGET_MS,
  targetMet: met,
  durationS: round((performance.now() - startedAt) / 1000, 1),
};
process.stdout.write(`chat-revocation ${JSON.stringify(out)}\n`);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'chat-revocation.json'), `${JSON.stringify(out, null, 2)}\n`);
