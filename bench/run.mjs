#!/usr/bin/env node
// Tessera benchmark suite — `npm run bench`. Not part of `npm test`.
//
// Every server under test runs in its own process on 127.0.0.1; load comes from a separate process (wrk when
// installed, else autocannon) with a fixed number of keep-alive connections, cycling a pool of pre-signed
// requests. Each case: warm-up, then measured run(s); with several runs the median-rps run is reported.
// Results are printed as tables and written to bench/results/*.json. See bench/README.md.
//
// Knobs (env): BENCH_RUNS (headline runs, default 3), BENCH_DURATION_S (10), BENCH_WARMUP_S (3),
// BENCH_CONNECTIONS (50), BENCH_BUDGET_S (290: planning budget; nothing runs past 298 s), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test),
// BENCH_TOOL=autocannon (force autocannon), BENCH_ONLY=issue,create,scaling,foreign (subset),
// BENCH_PROFILE=1 (start the issue-token server with --cpu-prof and print its hot spots),
// BENCH_MARKDOWN=1 (also print the summary as a Markdown table), BENCH_WAIT_QUIET_S (10: wait for other processes to go idle first).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summariseProfiles } from './lib/cpu-profile.mjs';
import { runForeign } from './lib/foreign.mjs';
import { loadOnce, measure, toolName } from './lib/load.mjs';
import { diffProcStat, machineInfo, readProcStat, round } from './lib/machine.mjs';
import { DEFAULT_PG_URL, createBenchDatabase } from './lib/postgres.mjs';
import { killAllStarted, runToEnd, startProcess } from './lib/proc.mjs';
import { presign } from './lib/signed-requests.mjs';
import { markdownTable, table } from './lib/table.mjs';
import {
  API_VERSION,
  ISSUE_BODY,
  createIdentity,
  httpCall,
  issueOnce,
  issuePath,
  repoRoot,
  startClusterServer,
  startCliServer,
} from './lib/tessera.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');
const env = process.env;
const cfg = {
  runs: Number(env.BENCH_RUNS ?? 3),
  durationS: Number(env.BENCH_DURATION_S ?? 10),
  warmupS: Number(env.BENCH_WARMUP_S ?? 3),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
  budgetS: Number(env.BENCH_BUDGET_S ?? 290),
  pgUrl: env.BENCH_PG_URL ?? DEFAULT_PG_URL,
  only: env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',')) : undefined,
  profile: env.BENCH_PROFILE === '1',
};
const wanted = (section) => cfg.only === undefined || cfg.only.has(section);

const started = Date.now();
const elapsedS = () => (Date.now() - started) / 1000;
const remainingS = () => cfg.budgetS - elapsedS();
/** Hard stop: the suite must end within 5 minutes. */
const hardRemainingS = () => cfg.budgetS + 8 - elapsedS();

/** Expected run time of the scripts others own (their defaults, measured on this machine). */
const FOREIGN = [
  { name: 'verify.mjs', expectedS: 50 },
  { name: 'jwt-algorithms.mjs', expectedS: 40 },
];
/**
 * The data plane's and operations' own measurements, run after the headline sections with their own time limits
 * (outside the headline budget): chat send and list, chat event latency, revocation reaching a standalone chat
 * service, chat memory at 100 k threads, the cost of metrics and of info logging.
 * Each prints one JSON line (bench/README.md says what each row means).
 */
const EXTRAS = [
  { name: 'chat.mjs', timeoutS: 300, env: { BENCH_DURATION_S: '5', BENCH_WARMUP_S: '2' } },
  { name: 'chat-events.mjs', timeoutS: 180, env: { BENCH_EVENTS_MESSAGES: '500' } },
  { name: 'chat-revocation.mjs', timeoutS: 120, env: { BENCH_REVOKE_ROUNDS: '200' } },
  { name: 'chat-memory.mjs', timeoutS: 300, env: {} },
  { name: 'metrics-cost.mjs', timeoutS: 180, env: { ROUNDS: '4', DUR: '5' } },
  { name: 'logging-cost.mjs', timeoutS: 180, env: { ROUNDS: '3', DUR: '5' } },
];
const foreignPresent = () => (wanted('foreign') ? FOREIGN.filter((f) => existsSync(join(here, f.name))) : []);
const foreignReserveS = () => foreignPresent().reduce((sum, f) => sum + f.expectedS, 0);
const log = (msg) => process.stdout.write(`[${elapsedS().toFixed(1).padStart(5)}s] ${msg}\n`);
const tmpDirs = [];
const tmp = (prefix) => {
  const d = mkdtempSync(join(tmpdir(), `tessera-bench-${prefix}-`));
  tmpDirs.push(d);
  return d;
};
const reasonOf = (error) => (error instanceof Error ? error.message.split('\n')[0] : String(error)).slice(0, 300);

/** Seconds one measured case costs (warm-up + runs + a little start-up). */
const caseCost = (runs) => cfg.warmupS + runs * (cfg.durationS + 0.3) + 2;

function writeJson(name, data) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, name), `${JSON.stringify(data, null, 2)}\n`);
}

const pick = (r) =>
  r === undefined
    ? undefined
    : {
        rps: r.rps,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        maxMs: r.maxMs,
        requests: r.requests,
        non2xx: r.non2xx,
        socketErrors: r.socketErrors,
        serverCores: r.serverCores,
        clientCores: r.clientCores,
        storeCores: r.storeCores,
        otherCores: r.otherCores,
        otherTop: r.otherTop,
        stealPct: r.stealPct,
        runs: r.runs,
        allRps: r.allRps,
        tool: r.tool,
      };

const health = (r) => {
  if (r === undefined) return undefined;
  const problems = [];
  if (r.otherCores > 0.25) {
    const who = r.otherTop?.length > 0 ? ` (${r.otherTop.join(', ')})` : '';
    problems.push(`contended: other processes used ${r.otherCores} cores${who}`);
  }
  if (r.non2xx > 0) problems.push(`${r.non2xx} non-2xx`);
  if (r.socketErrors > 0) problems.push(`${r.socketErrors} socket errors`);
  return problems.length > 0 ? problems.join(', ') : undefined;
};

/** Median-rps run of a list of single runs. */
function medianOf(list, extra) {
  const sorted = [...list].sort((a, b) => a.rps - b.rps);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  return { ...m, runs: list.length, allRps: list.map((r) => r.rps), ...extra };
}

// ---------------------------------------------------------------------------------------------------------
// 1 + 3: issue-token (SQLite), its ceilings, and the peer — interleaved run by run so drift hits all alike.
// ---------------------------------------------------------------------------------------------------------
async function headline() {
  const out = { status: 'ok' };
  const stops = [];
  let profileDir;
  try {
    const nodeArgs = [];
    if (cfg.profile) {
      profileDir = tmp('prof');
      nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profileDir);
    }
    const tessera = await startCliServer({ dataDir: tmp('sqlite'), nodeArgs });
    stops.push(tessera.stop);
    const identityId = await createIdentity(tessera.connectionString);
    const sample = await issueOnce(tessera.connectionString, identityId);
    out.tokenLength = sample.token.length;
    out.responseBytes = sample.responseBytes;
    log(`tessera (sqlite) at ${tessera.url}, pid ${tessera.pids[0]}; token ${sample.token.length} chars`);

    const bare = await startProcess({
      args: [join(here, 'http-bare-post.mjs')],
      env: { TOKEN_LENGTH: String(sample.token.length) },
      ready: /listening on (\S+)/,
      name: 'bare fastify',
    });
    stops.push(bare.stop);
    const bareUrl = bare.match[1];

    const peer = await startProcess({
      args: ['--no-warnings', join(here, 'peer-oidc-provider.mjs')],
      ready: /listening on (\S+)\nclient (\S+) (\S+) resource (\S+)/,
      name: 'oidc-provider',
    });
    stops.push(peer.stop);
    const [, peerUrl, clientId, clientSecret, resource] = peer.match;

    // Request pools. The bare server gets byte-identical requests (same headers, same body).
    const issueRequests = presign({
      connectionString: tessera.connectionString,
      method: 'POST',
      path: issuePath(identityId),
      body: ISSUE_BODY,
    });
    const peerRequests = [
      {
        method: 'POST',
        path: '/token',
        headers: {
          host: new URL(peerUrl).host,
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `grant_type=client_credentials&scope=chat%20voip&resource=${encodeURIComponent(resource)}`,
      },
    ];
    const bareCheck = await httpCall(new URL(issueRequests[0].path, bareUrl), issueRequests[0]);
    const peerCheck = await httpCall(new URL('/token', peerUrl), peerRequests[0]);
    if (bareCheck.status !== 200) throw new Error(`bare POST answered ${bareCheck.status}`);
    if (peerCheck.status !== 200)
      throw new Error(`oidc-provider answered ${peerCheck.status}: ${peerCheck.body.slice(0, 200)}`);
    const peerToken = JSON.parse(peerCheck.body).access_token;
    out.bareResponseBytes = Buffer.byteLength(bareCheck.body);
    out.peerTokenLength = peerToken.length;
    out.peerTokenHeader = JSON.parse(Buffer.from(peerToken.split('.')[0], 'base64url').toString());

    const cases = [
      {
        key: 'issue',
        label: 'issue-token (Tessera, SQLite)',
        url: tessera.url,
        requests: issueRequests,
        pids: tessera.pids,
      },
      { key: 'bare', label: 'bare Fastify POST (ceiling a)', url: bareUrl, requests: issueRequests, pids: [bare.pid] },
      {
        key: 'peer',
        label: 'oidc-provider client_credentials',
        url: peerUrl,
        requests: peerRequests,
        pids: [peer.pid],
      },
    ];
    // Headline gets cfg.runs runs when the budget allows (reserving ~90 s for the other sections).
    // Reserve what the later sections need at minimum: create-identity (2 cases), scaling (2 cases, 1 run), foreign.
    const reserve =
      (wanted('create') ? 2 * (caseCost(1) + 1) : 0) +
      (wanted('scaling') ? 2 * (caseCost(1) + 3) : 0) +
      foreignReserveS();
    let runs = cfg.runs;
    while (runs > 1 && elapsedS() + 3 * caseCost(runs) + 6 + reserve > cfg.budgetS) runs--;
    out.runsNote = runs === cfg.runs ? undefined : `reduced to ${runs} run(s) to fit the ${cfg.budgetS} s budget`;
    for (const c of cases) {
      log(`warm-up ${cfg.warmupS}s: ${c.label}`);
      await loadOnce({
        url: c.url,
        requests: c.requests,
        connections: cfg.connections,
        durationS: cfg.warmupS,
        serverPids: c.pids,
      });
    }
    const per = Object.fromEntries(cases.map((c) => [c.key, []]));
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        const r = await loadOnce({
          url: c.url,
          requests: c.requests,
          connections: cfg.connections,
          durationS: cfg.durationS,
          serverPids: c.pids,
        });
        per[c.key].push(r);
        log(
          `run ${i + 1}/${runs} ${c.label}: ${r.rps} rps, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, server ${r.serverCores} / load ${r.clientCores} / other ${r.otherCores} cores, steal ${r.stealPct}%${health(r) ? ` — ${health(r)}` : ''}`,
        );
      }
    }
    for (const c of cases)
      out[c.key] = medianOf(per[c.key], {
        connections: cfg.connections,
        durationS: cfg.durationS,
        warmupS: cfg.warmupS,
      });

    log('raw crypto ceilings (ES256 async sign ×64 in flight; HMAC request check)');
    const { stdout } = await runToEnd({
      args: [
        join(here, 'lib/crypto-ceiling.mjs'),
        JSON.stringify({ ms: 2000, body: ISSUE_BODY, signingInputLength: sample.token.length - 87 }),
      ],
      name: 'crypto ceiling',
      timeoutMs: 30_000,
    });
    out.crypto = JSON.parse(stdout.trim().split('\n').at(-1));
    const bareRps = out.bare.rps;
    const sign = out.crypto.es256SignAsyncPerS;
    const hmac = out.crypto.hmacCheckPerS;
    out.combinedLimit = Math.round(1 / (1 / bareRps + 1 / sign + 1 / hmac));
    out.ratios = {
      issueOverBare: round(out.issue.rps / bareRps, 2),
      issueOverCombinedLimit: round(out.issue.rps / out.combinedLimit, 2),
      issueOverPeer: round(out.issue.rps / out.peer.rps, 2),
    };
    // On a shared machine the median can be a contended run: also report the interleaved round in which
    // other processes used the least CPU, with its own ratios (same round, so same conditions).
    if (runs > 1) {
      const otherOf = (i) => cases.reduce((sum, c) => sum + (per[c.key][i]?.otherCores ?? 0), 0);
      let best = 0;
      for (let i = 1; i < runs; i++) if (otherOf(i) < otherOf(best)) best = i;
      const r = Object.fromEntries(cases.map((c) => [c.key, pick(per[c.key][best])]));
      const limit = Math.round(1 / (1 / r.bare.rps + 1 / sign + 1 / hmac));
      out.quietestRound = {
        round: best + 1,
        otherCoresSum: round(otherOf(best), 2),
        ...r,
        combinedLimit: limit,
        ratios: {
          issueOverBare: round(r.issue.rps / r.bare.rps, 2),
          issueOverCombinedLimit: round(r.issue.rps / limit, 2),
          issueOverPeer: round(r.issue.rps / r.peer.rps, 2),
        },
      };
    }
  } catch (error) {
    out.status = `failed: ${reasonOf(error)}`;
    log(out.status);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
  if (profileDir !== undefined && existsSync(profileDir)) {
    try {
      out.profile = summariseProfiles(profileDir, 25);
    } catch (error) {
      out.profile = { error: reasonOf(error) };
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// 2: create-identity on SQLite and PostgreSQL.
// ---------------------------------------------------------------------------------------------------------
async function createIdentityCase({ store, label, storeComm }) {
  const stops = [];
  try {
    let server;
    try {
      server = await startCliServer({ dataDir: tmp('create'), store });
      stops.push(server.stop);
      await createIdentity(server.connectionString); // sanity: 201
    } catch (error) {
      // The store (PostgreSQL is written in parallel) cannot start or create: a skip, not a bench failure.
      return { status: `skipped: ${label} store not working (${reasonOf(error)})` };
    }
    const requests = presign({
      connectionString: server.connectionString,
      method: 'POST',
      path: `/identities?api-version=${API_VERSION}`,
      body: '',
    });
    log(`create-identity ${label}: warm-up ${cfg.warmupS}s + ${cfg.durationS}s`);
    const r = await measure({
      url: server.url,
      requests,
      connections: cfg.connections,
      warmupS: cfg.warmupS,
      durationS: cfg.durationS,
      runs: 1,
      serverPids: server.pids,
      storeComm,
    });
    log(
      `create-identity ${label}: ${r.rps} rps, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, server ${r.serverCores}${r.storeCores !== undefined ? ` / ${storeComm} ${r.storeCores}` : ''} / other ${r.otherCores} cores${health(r) ? ` — ${health(r)}` : ''}`,
    );
    return { status: 'ok', ...pick(r) };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

async function createSection() {
  const out = {};
  try {
    out.sqlite = await createIdentityCase({ store: undefined, label: 'SQLite' });
    if (out.sqlite.status !== 'ok') log(`create-identity SQLite ${out.sqlite.status}`);
  } catch (error) {
    out.sqlite = { status: `failed: ${reasonOf(error)}` };
  }
  let db;
  try {
    db = await createBenchDatabase(cfg.pgUrl);
  } catch (error) {
    out.postgres = { status: `skipped: PostgreSQL not reachable (${reasonOf(error)})` };
  }
  if (db !== undefined) {
    try {
      out.postgres = await createIdentityCase({ store: db.url, label: 'PostgreSQL', storeComm: 'postgres' });
      if (out.postgres.status !== 'ok') log(`create-identity PostgreSQL ${out.postgres.status}`);
    } catch (error) {
      out.postgres = { status: `failed: ${reasonOf(error)}` };
    } finally {
      await db.drop().catch(() => undefined);
    }
  }
  if (out.sqlite?.rps && out.postgres?.rps) out.postgresOverSqlite = round(out.postgres.rps / out.sqlite.rps, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// 5: scaling — issue-token with 1 and 2 server processes (node:cluster, same port) on one PostgreSQL store.
// ---------------------------------------------------------------------------------------------------------
async function scalingSection(reserveS) {
  const out = {};
  let db;
  try {
    db = await createBenchDatabase(cfg.pgUrl);
  } catch (error) {
    return { status: `skipped: PostgreSQL not reachable (${reasonOf(error)})` };
  }
  let runs = cfg.runs;
  while (runs > 1 && elapsedS() + 2 * (caseCost(runs) + 3) + reserveS > cfg.budgetS) runs--;
  out.runs = runs;
  out.runsNote = runs === cfg.runs ? undefined : `reduced to ${runs} run(s) to fit the ${cfg.budgetS} s budget`;
  const masterKey = randomBytes(32).toString('base64');
  const primaryKey = randomBytes(64).toString('base64');
  let identityId;
  try {
    for (const workers of [1, 2]) {
      let server;
      try {
        server = await startClusterServer({ workers, dataDir: tmp('cluster'), store: db.url, masterKey, primaryKey });
      } catch (error) {
        out[`workers${workers}`] = { status: `skipped: ${reasonOf(error)}` };
        if (workers === 1) {
          out.status = `skipped: PostgreSQL store not working (${reasonOf(error)})`;
          return out;
        }
        continue;
      }
      try {
        identityId ??= await createIdentity(server.connectionString);
        await issueOnce(server.connectionString, identityId);
        const requests = presign({
          connectionString: server.connectionString,
          method: 'POST',
          path: issuePath(identityId),
          body: ISSUE_BODY,
        });
        log(`scaling: ${workers} process(es) on PostgreSQL, warm-up ${cfg.warmupS}s + ${runs}×${cfg.durationS}s`);
        const r = await measure({
          url: server.url,
          requests,
          connections: cfg.connections,
          warmupS: cfg.warmupS,
          durationS: cfg.durationS,
          runs,
          serverPids: server.pids,
          storeComm: 'postgres',
        });
        log(
          `scaling ×${workers}: ${r.rps} rps, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, server ${r.serverCores} / postgres ${r.storeCores} / other ${r.otherCores} cores${health(r) ? ` — ${health(r)}` : ''}`,
        );
        out[`workers${workers}`] = { status: 'ok', ...pick(r) };
      } catch (error) {
        out[`workers${workers}`] = { status: `failed: ${reasonOf(error)}` };
      } finally {
        await server.stop().catch(() => undefined);
      }
    }
  } finally {
    await db.drop().catch(() => undefined);
  }
  out.status = 'ok';
  if (out.workers1?.rps && out.workers2?.rps) out.twoOverOne = round(out.workers2.rps / out.workers1.rps, 2);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// 4 and friends: scripts owned by others, run as child processes.
// ---------------------------------------------------------------------------------------------------------
async function foreignSection() {
  const out = {};
  for (const [i, { name, expectedS }] of FOREIGN.entries()) {
    const script = join(here, name);
    const later = FOREIGN.slice(i + 1)
      .filter((f) => existsSync(join(here, f.name)))
      .reduce((sum, f) => sum + f.expectedS, 0);
    // Its expected time at least, more when the budget has room; never past the hard stop.
    const limitS = Math.min(Math.max(expectedS, remainingS() - later - 2), hardRemainingS() - later - 2);
    const timeoutMs = Math.max(5_000, Math.floor(limitS * 1000));
    if (existsSync(script)) log(`running ${name} (time limit ${Math.round(timeoutMs / 1000)} s)`);
    out[name.replace('.mjs', '')] = await runForeign({ script, resultsDir, timeoutMs, cwd: repoRoot });
    log(`${name}: ${out[name.replace('.mjs', '')].status}`);
  }
  return out;
}

/** Runs each of {@link EXTRAS} to its end or its time limit; a failure is reported, never fatal. */
async function extrasSection() {
  const out = {};
  for (const { name, timeoutS, env: extraEnv } of EXTRAS) {
    const script = join(here, name);
    log(`running ${name} (time limit ${timeoutS} s)`);
    const key = name.replace('.mjs', '');
    out[key] = await runForeign({
      script,
      resultsDir,
      timeoutMs: timeoutS * 1000,
      cwd: repoRoot,
      env: { BENCH_PG_URL: cfg.pgUrl, ...extraEnv },
    });
    log(`${name}: ${out[key].status}${out[key].status === 'ok' ? '' : ` (${out[key].reason ?? ''})`}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

/** A few headline figures from another owner's JSON, read defensively (its shape is theirs to change). */
function foreignHeadline(name, r) {
  const n = (x) => (typeof x === 'number' ? Math.round(x).toLocaleString('en-US') : undefined);
  const parts = [];
  if (name === 'verify') {
    const ops = r?.opsPerSecond;
    const prop = r?.propagationMs?.fromRevokeReturned;
    if (n(ops?.freshNode)) parts.push(`fresh verify ${n(ops.freshNode)}/s`);
    if (n(ops?.cachedSameString)) parts.push(`cached ${n(ops.cachedSameString)}/s`);
    if (prop?.p50 !== undefined) parts.push(`revocation propagation p50 ${prop.p50} ms, p99 ${prop.p99} ms`);
  } else if (name === 'jwt-algorithms') {
    const es = r?.results?.ES256;
    const ed = r?.results?.EdDSA;
    if (n(es?.sign?.median)) parts.push(`ES256 sign ${n(es.sign.median)}/s verify ${n(es?.verify?.median)}/s`);
    if (n(ed?.sign?.median)) parts.push(`EdDSA sign ${n(ed.sign.median)}/s verify ${n(ed?.verify?.median)}/s`);
    if (parts.length > 0) parts.push('1 core');
  }
  return parts.length > 0 ? `${parts.join(', ')} ` : 'ok ';
}

function summaryRows(s) {
  const h = s.issueToken ?? {};
  const row = (name, r, note) =>
    r?.rps !== undefined
      ? [
          name,
          r.rps,
          r.p50Ms,
          r.p99Ms,
          r.serverCores,
          r.clientCores,
          r.otherCores,
          r.stealPct,
          [note, r.storeCores !== undefined ? `postgres ${r.storeCores} cores` : undefined, health(r)]
            .filter(Boolean)
            .join('; ') || undefined,
        ]
      : [name, undefined, undefined, undefined, undefined, undefined, undefined, undefined, r?.status ?? 'not run'];
  const rows = [
    row(
      '1. issue-token, SQLite, 1 process',
      h.issue,
      h.ratios ? `${h.ratios.issueOverBare}× bare POST, ${h.ratios.issueOverCombinedLimit}× combined limit` : undefined,
    ),
    row('1a. bare Fastify POST + JSON (~1 KB)', h.bare),
    [
      '1b. raw ES256 sign (async, 64 in flight)',
      h.crypto?.es256SignAsyncPerS,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'ops/s, 2 cores',
    ],
    [
      '1c. raw HMAC request check',
      h.crypto?.hmacCheckPerS,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'ops/s, 1 core',
    ],
    [
      '1d. combined limit 1/(1/a+1/b+1/c)',
      h.combinedLimit,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      'rps',
    ],
    ...(h.quietestRound
      ? [
          row(
            `1q. issue-token, quietest round (${h.quietestRound.round})`,
            h.quietestRound.issue,
            `${h.quietestRound.ratios.issueOverBare}× bare POST, ${h.quietestRound.ratios.issueOverCombinedLimit}× combined limit, ${h.quietestRound.ratios.issueOverPeer}× peer`,
          ),
          row(`1q. bare POST, quietest round (${h.quietestRound.round})`, h.quietestRound.bare),
          row(`1q. peer, quietest round (${h.quietestRound.round})`, h.quietestRound.peer),
        ]
      : []),
    row('2. create-identity, SQLite', s.createIdentity?.sqlite),
    row(
      '2. create-identity, PostgreSQL',
      s.createIdentity?.postgres,
      s.createIdentity?.postgresOverSqlite ? `${s.createIdentity.postgresOverSqlite}× SQLite` : undefined,
    ),
    row(
      '3. peer: oidc-provider client_credentials',
      h.peer,
      h.ratios ? `Tessera issue-token = ${h.ratios.issueOverPeer}× peer` : undefined,
    ),
    row(
      '5. issue-token, PostgreSQL, 1 process',
      s.scaling?.workers1 ?? (s.scaling?.status ? { status: s.scaling.status } : undefined),
    ),
    row(
      '5. issue-token, PostgreSQL, 2 processes',
      s.scaling?.workers2 ?? (s.scaling?.status ? { status: s.scaling.status } : undefined),
      s.scaling?.twoOverOne ? `${s.scaling.twoOverOne}× one process` : undefined,
    ),
  ];
  for (const [name, f] of Object.entries(s.foreign ?? {})) {
    rows.push([
      `4. ${name}.mjs`,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      f.status === 'ok'
        ? `${foreignHeadline(name, f.result)}(${f.seconds} s; JSON in summary.json)`
        : `${f.status}${f.reason ? `: ${f.reason}` : ''}`,
    ]);
  }
  return rows;
}

const HEADERS = [
  'case',
  'rps',
  'p50 ms',
  'p99 ms',
  'server cores',
  'load-gen cores',
  'other cores',
  'steal %',
  'notes',
];

/** Waits (up to maxS) for the machine to be quiet: other processes using < 0.25 cores over 1 s. */
async function waitForQuiet(maxS) {
  const until = Date.now() + maxS * 1000;
  let last;
  do {
    const a = readProcStat();
    await new Promise((r) => setTimeout(r, 1000));
    last = diffProcStat(a, readProcStat());
    if (last === undefined || last.busyCores < 0.25) return { quiet: true, busyCores: last?.busyCores };
    log(`machine busy (${last.busyCores} cores used by other processes) — waiting for quiet`);
  } while (Date.now() < until);
  return { quiet: false, busyCores: last?.busyCores };
}

async function main() {
  const machine = machineInfo();
  const stat0 = readProcStat();
  const tool = toolName();
  log(
    `Tessera bench on ${machine.cpuModel} ×${machine.cores}, Node ${machine.node}, OpenSSL ${machine.openssl}; load tool ${tool}, ${cfg.connections} connections, warm-up ${cfg.warmupS}s, ${cfg.durationS}s runs; budget ${cfg.budgetS}s`,
  );
  if (!existsSync(join(repoRoot, 'packages/cli/dist/bin.js')))
    throw new Error('packages/cli/dist/bin.js is missing: run `npx tsc -b` first.');

  const quietS = Number(env.BENCH_WAIT_QUIET_S ?? 10);
  const quiet = quietS > 0 ? await waitForQuiet(quietS) : undefined;
  if (quiet && !quiet.quiet)
    log(`WARNING: still ${quiet.busyCores} busy cores before starting; figures will be low and noisy`);
  const summary = {
    machine,
    quietAtStart: quiet,
    method: {
      tool,
      connections: cfg.connections,
      warmupS: cfg.warmupS,
      durationS: cfg.durationS,
      headlineRuns: cfg.runs,
      requestPool: '512 HMAC-signed requests per case, x-ms-date within the last 2 min, cycled by the load tool',
      budgetS: cfg.budgetS,
    },
  };

  if (wanted('issue')) {
    log('== 1 + 3: issue-token vs ceilings vs oidc-provider ==');
    summary.issueToken = await headline();
    const { profile, ...rest } = summary.issueToken;
    writeJson('issue-token.json', { machine, ...rest, profile });
    if (summary.issueToken.peer)
      writeJson('peer-oidc-provider.json', {
        machine,
        peer: summary.issueToken.peer,
        ratio: summary.issueToken.ratios?.issueOverPeer,
      });
  }
  if (wanted('create')) {
    log('== 2: create-identity ==');
    summary.createIdentity = await createSection();
    writeJson('create-identity.json', { machine, ...summary.createIdentity });
  }
  if (wanted('scaling')) {
    log('== 5: scaling on PostgreSQL ==');
    summary.scaling = await scalingSection(foreignReserveS());
    writeJson('scaling.json', { machine, ...summary.scaling });
  }
  if (wanted('foreign')) {
    log('== 4: verify.mjs / jwt-algorithms.mjs ==');
    summary.foreign = await foreignSection();
  }

  if (wanted('extras')) {
    log('== 6: chat, chat events, revocation and memory, metrics and logging cost ==');
    summary.extras = await extrasSection();
    writeJson('extras.json', { machine, ...summary.extras });
    for (const [name, r] of Object.entries(summary.extras)) {
      process.stdout.write(`${name}: ${r.status}${r.result ? ` ${JSON.stringify(r.result).slice(0, 400)}` : ''}\n`);
    }
  }

  summary.steal = diffProcStat(stat0, readProcStat());
  summary.totalSeconds = round(elapsedS(), 1);
  const rows = summaryRows(summary);
  summary.table = { headers: HEADERS, rows };
  // A partial run (BENCH_ONLY) keeps the last full summary.json and writes summary-<sections>.json instead.
  const summaryFile = cfg.only === undefined ? 'summary.json' : `summary-${[...cfg.only].sort().join('-')}.json`;
  writeJson(summaryFile, summary);

  process.stdout.write(`\n${table(HEADERS, rows)}\n\n`);
  process.stdout.write(
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, OpenSSL ${machine.openssl}; ` +
      `steal over the whole run ${summary.steal?.stealPct ?? '?'}% of vCPU time; ${summary.totalSeconds} s total; load tool ${tool}.\n`,
  );
  const p = summary.issueToken?.profile;
  if (p?.top) {
    process.stdout.write(`\nissue-token server CPU profile (self time, ${p.busyMs} ms busy):\n`);
    process.stdout.write(
      `${table(
        ['origin', 'self ms', '%'],
        p.byOrigin.slice(0, 12).map((o) => [o.origin, o.selfMs, o.pct]),
      )}\n\n`,
    );
    process.stdout.write(
      `${table(
        ['function', 'where', 'self ms', '%'],
        p.top.slice(0, 20).map((f) => [f.fn, f.where, f.selfMs, f.pct]),
      )}\n`,
    );
  }
  if (env.BENCH_MARKDOWN === '1') process.stdout.write(`\n${markdownTable(HEADERS, rows)}\n`);
  process.stdout.write(`\nJSON: ${join(resultsDir, summaryFile)} and the per-section files next to it\n`);
}

const cleanup = () => {
  killAllStarted();
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
process.on('SIGTERM', () => {
  cleanup();
  process.exit(143);
});
try {
  await main();
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exitCode = 1;
} finally {
  cleanup();
}
