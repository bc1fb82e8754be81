#!/usr/bin/env node
// Chat memory benchmark (issue 13: "memory per process at 100 k threads"): the memory of `tessera serve` (chat
// mounted) with a chat store holding BENCH_CHAT_THREADS threads (default 100 000), each with 2–3 participants, the
// two system messages of its creation (participantAdded, topicUpdated) and 2–4 text messages, for:
//   1. SQLite: the chat store is `<data-dir>/chat.db`;
//   2. PostgreSQL, when BENCH_PG_URL is reachable: `tessera serve --store postgres://…` in a throwaway database
//      (bench/lib/postgres.mjs, dropped at the end), the chat tables beside the identity tables.
//
// Per store: a first start on an empty store (memory read right after start), then BENCH_CHAT_USERS identities created
// and one token each issued through the server (HMAC over HTTP), the server stopped. Threads are written straight
// into the chat tables (the server stopped) in the layout the chat store writes: thread ids `19:<32 hex>@thread.v2`,
// the thread's resource = the tokens' resource, participants = the raw ids of those identities, the message columns
// of packages/chat/dist/store/chat-rows.js. First BENCH_CHAT_REF_THREADS (the reference: what the same load costs on
// a small store), then the rest up to BENCH_CHAT_THREADS; after each fill the server starts (memory read), a probe
// checks the users see their threads, then the warm load: for BENCH_DURATION_S the users list their threads (40 %),
// send a message into one of their threads at random (40 %) and read a thread's newest 20 messages (20 %), over
// BENCH_CONNECTIONS keep-alive connections (wrk or autocannon, bench/lib/load.mjs, cycling BENCH_CHAT_POOL pre-built
// requests), and memory is read at the end (with the peak, VmHWM). Memory: /proc/<pid>/status (VmRSS, VmHWM,
// RssAnon) and the server's Prometheus /metrics (--metrics-port 0 in every phase: V8 heap used/total, external), each
// read 1 s after its phase. Reported: MB; MB per 100 k threads over the empty start, and over the reference after
// the same load (the marginal cost of threads, the load's own warm-up left out). Also the store's size on disk
// (chat.db; pg_total_relation_size of the chat tables) and, on PostgreSQL, the private memory (RssAnon) of the
// server's database backends (pg_stat_activity of the bench database, /proc).
//
// Servers on 127.0.0.1 only, plain HTTP; every process started is stopped, temp dirs removed, the database dropped.
// About 2 minutes with the defaults on a 2-core machine.
//
// Knobs (env): BENCH_CHAT_THREADS (100000), BENCH_CHAT_USERS (300), BENCH_CHAT_REF_THREADS (1000, 0 = none),
// BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_CHAT_POOL (8192), BENCH_CHAT_STORES (sqlite,postgres),
// BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test), BENCH_RESULTS_DIR (bench/results).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MESSAGE_INSERT_COLUMNS, messageValues } from '../packages/chat/dist/store/chat-rows.js';
import { loadOnce, toolName } from './lib/load.mjs';
import { machineInfo, round } from './lib/machine.mjs';
import { createBenchDatabase, DEFAULT_PG_URL } from './lib/postgres.mjs';
import { killAllStarted } from './lib/proc.mjs';
import { table } from './lib/table.mjs';
import { createIdentity, httpCall, issueOnce, startCliServer } from './lib/tessera.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const API = '2025-03-15';
const env = process.env;
const cfg = {
  threads: Number(env.BENCH_CHAT_THREADS ?? 100_000),
  users: Number(env.BENCH_CHAT_USERS ?? 300),
  refThreads: Number(env.BENCH_CHAT_REF_THREADS ?? 1000),
  durationS: Number(env.BENCH_DURATION_S ?? 10),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
  pool: Number(env.BENCH_CHAT_POOL ?? 8192),
  stores: (env.BENCH_CHAT_STORES ?? 'sqlite,postgres').split(','),
  pgUrl: env.BENCH_PG_URL ?? DEFAULT_PG_URL,
};
const resultsDir = env.BENCH_RESULTS_DIR ?? join(here, 'results');
const log = (m) => process.stderr.write(`[chat-memory] ${m}\n`);
const MB = 2 ** 20;
const CHAT_TABLES = ['chat_threads', 'chat_participants', 'chat_messages', 'chat_read_receipts'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Cleanup on every way out: children, temp dirs, throwaway databases. Each action runs once, whoever asks first
// (the phase that made it, or an interrupt), and both wait for the same run.
const cleanups = [];
function onCleanup(fn) {
  let done;
  const once = () => {
    done ??= Promise.resolve().then(fn);
    return done;
  };
  cleanups.push(once);
  return once;
}
async function cleanup() {
  killAllStarted();
  for (const once of [...cleanups].reverse()) {
    try {
      await once();
    } catch (error) {
      log(`cleanup: ${error?.message ?? error}`);
    }
  }
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    process.exitCode = 130;
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

const started = Date.now();
try {
  const stores = [];
  for (const kind of cfg.stores) {
    if (kind === 'sqlite') stores.push(await measureStore('sqlite'));
    else if (kind === 'postgres') stores.push(await measurePostgres());
    else throw new Error(`BENCH_CHAT_STORES: unknown store ${kind}`);
  }
  report(stores);
} catch (error) {
  if (!interrupted) throw error;
} finally {
  await cleanup();
}

async function measurePostgres() {
  let db;
  try {
    db = await createBenchDatabase(cfg.pgUrl);
  } catch (error) {
    log(`PostgreSQL not reachable (${error?.code ?? error?.message}): skipped`);
    return { store: 'postgres', skipped: `not reachable: ${error?.code ?? error?.message}` };
  }
  const drop = onCleanup(() => db.drop());
  try {
    return await measureStore('postgres', db.url);
  } finally {
    await drop();
  }
}

/**
 * One store: empty start; identities and tokens; BENCH_CHAT_REF_THREADS threads, start, warm load (the reference:
 * what the same load costs on a small store); the rest of the threads, start, warm load.
 */
async function measureStore(kind, pgUrl) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-chat-memory-'));
  const removeDir = onCleanup(() => rmSync(dataDir, { recursive: true, force: true }));
  const serverArgs = { dataDir, store: pgUrl, extraArgs: ['--print-connection-strings', '--metrics-port', '0'] };
  const pgClient = pgUrl === undefined ? undefined : new pg.Client({ connectionString: pgUrl });
  try {
    if (pgClient !== undefined) {
      pgClient.on('error', () => {}); // the drop on an interrupt ends it (WITH (FORCE))
      await pgClient.connect();
    }
    // 1. Empty store: first start (creates the resource and the chat tables).
    log(`${kind}: first start, empty store`);
    const first = await start(serverArgs);
    const empty = await sample(first, pgClient);
    const users = await createUsers(first);
    await first.stop();

    const gen = generator(users);
    const fill = async (from, to) => {
      log(`${kind}: filling threads ${from}..${to} for ${users.length} users`);
      const t0 = Date.now();
      const stats =
        kind === 'sqlite'
          ? fillSqlite(join(dataDir, 'chat.db'), gen, from, to)
          : await fillPostgres(pgClient, gen, from, to);
      return { ...stats, seconds: round((Date.now() - t0) / 1000, 1) };
    };
    // 2. Filled to `threads` (the server stopped meanwhile): start, read, warm load, read.
    const run = async (threads) => {
      const server = await start(serverArgs);
      try {
        const atStart = await sample(server, pgClient);
        const requests = buildPool(server, users, gen.userThreads);
        await probe(server, users, gen.userThreads);
        log(
          `${kind}: ${threads} threads, warm load, ${cfg.connections} connections, ${cfg.durationS} s (${toolName()})`,
        );
        const load = await loadOnce({
          url: server.url,
          requests,
          connections: cfg.connections,
          durationS: cfg.durationS,
          serverPids: server.pids,
          storeComm: kind === 'postgres' ? 'postgres' : undefined,
        });
        const afterLoad = await sample(server, pgClient);
        return { threads, atStart, afterLoad, load: pickLoad(load) };
      } finally {
        await server.stop();
      }
    };
    const ref = Math.min(cfg.refThreads, cfg.threads);
    let reference;
    let refFill;
    if (ref > 0 && ref < cfg.threads) {
      refFill = await fill(0, ref);
      reference = await run(ref);
    }
    const mainFill = await fill(reference === undefined ? 0 : ref, cfg.threads);
    const diskAfterFill = await diskSize(kind, dataDir, pgClient);
    const full = await run(cfg.threads);
    const diskAfterLoad = await diskSize(kind, dataDir, pgClient);
    const rows = {
      threads: cfg.threads,
      participants: mainFill.participants + (refFill?.participants ?? 0),
      messages: mainFill.messages + (refFill?.messages ?? 0),
    };
    const per = (a, b, threads) =>
      a === undefined || b === undefined ? undefined : round(((a - b) * 100_000) / threads, 1);
    return {
      store: kind,
      threads: cfg.threads,
      users: users.length,
      // What the list-threads page costs grows with this (each page sorts all of the user's threads).
      threadsPerUser: round(rows.participants / users.length),
      rows,
      fillSeconds: round(mainFill.seconds + (refFill?.seconds ?? 0), 1),
      empty,
      reference,
      full,
      // MB per 100 k threads: over the empty start (everything the filled process holds more), and the marginal
      // cost after the same load (full minus the reference, per thread added).
      perHundredKThreadsMb: {
        rssAtStartOverEmpty: per(full.atStart.rssMb, empty.rssMb, cfg.threads),
        rssAfterLoadOverEmpty: per(full.afterLoad.rssMb, empty.rssMb, cfg.threads),
        heapUsedAfterLoadOverEmpty: per(full.afterLoad.heapUsedMb, empty.heapUsedMb, cfg.threads),
        ...(reference === undefined
          ? {}
          : {
              rssAfterLoadOverReference: per(full.afterLoad.rssMb, reference.afterLoad.rssMb, cfg.threads - ref),
              hwmOverReference: per(full.afterLoad.hwmMb, reference.afterLoad.hwmMb, cfg.threads - ref),
              heapUsedAfterLoadOverReference: per(
                full.afterLoad.heapUsedMb,
                reference.afterLoad.heapUsedMb,
                cfg.threads - ref,
              ),
            }),
      },
      disk: { afterFill: diskAfterFill, afterLoad: diskAfterLoad },
    };
  } finally {
    await pgClient?.end().catch(() => {});
    await removeDir();
  }
}

function pickLoad(load) {
  return {
    tool: load.tool,
    requests: load.requests,
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    non2xx: load.non2xx,
    socketErrors: load.socketErrors,
    serverCores: load.serverCores,
    storeCores: load.storeCores,
    otherTop: load.otherTop,
  };
}

/** `tessera serve` with its metrics listener; resolves once the metrics URL is known too. */
async function start(args) {
  const server = await startCliServer(args);
  let metricsUrl;
  for (let i = 0; i < 100 && metricsUrl === undefined; i++) {
    metricsUrl = /Metrics \(Prometheus\): (\S+)/.exec(server.output())?.[1];
    if (metricsUrl === undefined) await sleep(20);
  }
  return { ...server, metricsUrl };
}

/** The server process's memory now (after a second's settling), and its PostgreSQL backends'. */
async function sample(server, pgClient) {
  await sleep(1000);
  const pid = server.pids[0];
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  const out = {
    rssMb: round(kb('VmRSS') / 1024, 1),
    hwmMb: round(kb('VmHWM') / 1024, 1),
    rssAnonMb: round(kb('RssAnon') / 1024, 1),
    rssFileMb: round(kb('RssFile') / 1024, 1),
  };
  if (server.metricsUrl !== undefined) {
    try {
      const r = await httpCall(new URL(server.metricsUrl));
      const metric = (name) => {
        const v = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(r.body)?.[1];
        return v === undefined ? undefined : round(Number(v) / MB, 1);
      };
      out.heapUsedMb = metric('nodejs_heap_size_used_bytes');
      out.heapTotalMb = metric('nodejs_heap_size_total_bytes');
      out.externalMb = metric('nodejs_external_memory_bytes');
    } catch (error) {
      log(`metrics: ${error.message}`);
    }
  }
  if (pgClient !== undefined) {
    // The server's connections to the bench database (ours left out): private memory of each backend.
    const { rows } = await pgClient.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    let anon = 0;
    let seen = 0;
    for (const { pid: backend } of rows) {
      try {
        const s = readFileSync(`/proc/${backend}/status`, 'utf8');
        anon += Number(/RssAnon:\s+(\d+) kB/.exec(s)?.[1] ?? 0);
        seen++;
      } catch {
        // not on this machine, or gone
      }
    }
    out.pgBackends = rows.length;
    out.pgBackendsRssAnonMb = seen === 0 ? undefined : round(anon / 1024, 1);
  }
  return out;
}

/** BENCH_CHAT_USERS identities and a chat token each, through the server (HMAC-signed HTTP). */
async function createUsers(server) {
  const ids = await inParallel(cfg.users, 8, () => createIdentity(server.connectionString));
  const tokens = await inParallel(cfg.users, 8, async (i) => (await issueOnce(server.connectionString, ids[i])).token);
  return ids.map((id, i) => {
    const rawId = id.toLowerCase();
    const resource = /^8:acs:([0-9a-f-]+)_/.exec(rawId)?.[1];
    if (resource === undefined) throw new Error('unexpected identity raw id');
    return { rawId, resource, token: tokens[i] };
  });
}

async function inParallel(count, width, fn) {
  const out = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return out;
}

/** Small deterministic PRNG (mulberry32): the same layout for every store. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The threads, one at a time, as the chat store would have written them through the API: creation times spread over
 * the last 30 days, the creator first among 2–3 participants, participantAdded + topicUpdated at creation (ids
 * createdOn, createdOn + 1), then 2–4 text messages a minute apart from random participants. `userThreads[u]`:
 * the ids of user u's threads (for the load).
 */
function generator(users) {
  const random = prng(13);
  const pick = (n) => Math.floor(random() * n);
  const resource = users[0].resource;
  const userThreads = users.map(() => []);
  const spanMs = 30 * 24 * 3600 * 1000;
  const base = Date.now() - spanMs - 3600 * 1000;
  function thread(i) {
    const id = `19:${randomBytes(16).toString('hex')}@thread.v2`;
    const createdOn = base + Math.floor((i * spanMs) / cfg.threads);
    const count = 2 + pick(2);
    const members = [];
    while (members.length < count) {
      const u = pick(users.length);
      if (!members.includes(u)) members.push(u);
    }
    for (const u of members) userThreads[u].push(id);
    const creator = users[members[0]].rawId;
    // The creator as the API adds them (no display name), the others as a client names them.
    const participants = members.map((u, k) =>
      k === 0
        ? { rawId: users[u].rawId, shareHistoryTime: 0 }
        : { rawId: users[u].rawId, displayName: `User ${u}`, shareHistoryTime: 0 },
    );
    const topic = `Thread ${i}`;
    const messages = [];
    let last = 0;
    let seq = 0;
    const add = (draft, now) => {
      last = Math.max(now, last + 1);
      seq++;
      messages.push([id, last, seq, ...messageValues(draft, String(last), now)]);
    };
    add({ type: 'participantAdded', participants, initiatorRawId: creator }, createdOn);
    add({ type: 'topicUpdated', topic, initiatorRawId: creator }, createdOn);
    const texts = 2 + pick(3);
    for (let k = 1; k <= texts; k++) {
      const u = members[pick(members.length)];
      add(
        {
          type: 'text',
          senderRawId: users[u].rawId,
          senderDisplayName: `User ${u}`,
          content: `Message ${k} of thread ${i}: ${'lorem ipsum '.repeat(1 + pick(6))}`.trim(),
        },
        createdOn + k * 60_000,
      );
    }
    const threadRow = {
      id,
      resourceId: resource,
      topic,
      createdBy: creator,
      createdOn,
      lastMessageOn: createdOn + texts * 60_000,
      lastMessageId: last,
      lastSequence: seq,
    };
    const participantRows = participants.map((p) => [id, p.rawId, p.displayName ?? null, p.shareHistoryTime, null]);
    return { thread: threadRow, participants: participantRows, messages };
  }
  return { thread, userThreads };
}

/** Writes the threads into chat.db (its tables made by the server's first start), 5 000 threads a transaction. */
function fillSqlite(path, gen, from, to) {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insertThread = db.prepare(
      `INSERT INTO chat_threads (id, resource_id, topic, created_by, created_on, last_message_on, metadata, retention,
         last_message_id, last_sequence) VALUES (?, ?, ?, ?, ?, ?, '{}', NULL, ?, ?)`,
    );
    const insertParticipant = db.prepare(
      'INSERT INTO chat_participants (thread_id, raw_id, display_name, share_history_time, metadata) VALUES (?, ?, ?, ?, ?)',
    );
    const insertMessage = db.prepare(
      `INSERT INTO chat_messages (${MESSAGE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const stats = { threads: 0, participants: 0, messages: 0 };
    const batch = db.transaction((from, to) => {
      for (let i = from; i < to; i++) {
        const { thread: t, participants, messages } = gen.thread(i);
        insertThread.run(
          t.id,
          t.resourceId,
          t.topic,
          t.createdBy,
          t.createdOn,
          t.lastMessageOn,
          t.lastMessageId,
          t.lastSequence,
        );
        for (const p of participants) insertParticipant.run(...p);
        for (const m of messages) insertMessage.run(...m);
        stats.threads++;
        stats.participants += participants.length;
        stats.messages += messages.length;
      }
    });
    for (let i = from; i < to; i += 5000) batch(i, Math.min(to, i + 5000));
    // What the store keeps on each participant row (schema 2): its thread's last activity, for the thread list.
    db.exec(`UPDATE chat_participants SET last_message_on =
      (SELECT t.last_message_on FROM chat_threads t WHERE t.id = chat_participants.thread_id)`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return stats;
  } finally {
    db.close();
  }
}

/** Writes the threads into the PostgreSQL chat tables, 2 000 threads a statement (unnest), then ANALYZE. */
async function fillPostgres(client, gen, from, to) {
  await client.query('SET synchronous_commit = off');
  const stats = { threads: 0, participants: 0, messages: 0 };
  const columns = (rows, n) => Array.from({ length: n }, (_, c) => rows.map((r) => r[c]));
  for (let i = from; i < to; i += 2000) {
    const threads = [];
    const participants = [];
    const messages = [];
    for (let k = i; k < Math.min(to, i + 2000); k++) {
      const g = gen.thread(k);
      const t = g.thread;
      threads.push([
        t.id,
        t.resourceId,
        t.topic,
        t.createdBy,
        t.createdOn,
        t.lastMessageOn,
        t.lastMessageId,
        t.lastSequence,
      ]);
      participants.push(...g.participants);
      messages.push(...g.messages);
    }
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO chat_threads (id, resource_id, topic, created_by, created_on, last_message_on, metadata,
         last_message_id, last_sequence)
       SELECT a, b, c, d, e, f, '{}', g, h
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
         AS x(a, b, c, d, e, f, g, h)`,
      columns(threads, 8),
    );
    await client.query(
      `INSERT INTO chat_participants (thread_id, raw_id, display_name, share_history_time, metadata)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])`,
      columns(participants, 5),
    );
    await client.query(
      `INSERT INTO chat_messages (${MESSAGE_INSERT_COLUMNS})
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])`,
      columns(messages, 13),
    );
    await client.query('COMMIT');
    stats.threads += threads.length;
    stats.participants += participants.length;
    stats.messages += messages.length;
  }
  // What the store keeps on each participant row: its thread's last activity, for the thread list.
  await client.query(`UPDATE chat_participants p SET last_message_on = t.last_message_on FROM chat_threads t
    WHERE t.id = p.thread_id`);
  // What autovacuum would have done by then: the planner's statistics of the filled tables.
  await client.query('ANALYZE chat_threads, chat_participants, chat_messages');
  return stats;
}

/** Size on disk of the chat store: chat.db and its WAL; the chat tables with their indexes and TOAST. */
async function diskSize(kind, dataDir, client) {
  if (kind === 'sqlite') {
    const size = (f) => (existsSync(join(dataDir, f)) ? statSync(join(dataDir, f)).size : 0);
    return {
      chatDbMb: round(size('chat.db') / MB, 1),
      walMb: round((size('chat.db-wal') + size('chat.db-shm')) / MB, 1),
    };
  }
  const { rows } = await client.query(
    'SELECT relname, pg_total_relation_size(oid) AS bytes FROM pg_class WHERE relname = ANY($1) AND relkind = $2',
    [CHAT_TABLES, 'r'],
  );
  const out = {};
  let total = 0;
  for (const r of rows) {
    out[`${r.relname}Mb`] = round(Number(r.bytes) / MB, 1);
    total += Number(r.bytes);
  }
  return { totalMb: round(total / MB, 1), ...out };
}

/** The load's requests: each from a random user, about their own threads. */
function buildPool(server, users, userThreads) {
  const random = prng(7);
  const host = new URL(server.url).host;
  const requests = [];
  const withThreads = users.map((_, u) => u).filter((u) => userThreads[u].length > 0);
  for (let i = 0; i < cfg.pool; i++) {
    const u = withThreads[Math.floor(random() * withThreads.length)];
    const headers = { authorization: `Bearer ${users[u].token}`, host };
    const thread = encodeURIComponent(userThreads[u][Math.floor(random() * userThreads[u].length)]);
    const r = random();
    if (r < 0.4) {
      requests.push({ method: 'GET', path: `/chat/threads?api-version=${API}`, headers, body: '' });
    } else if (r < 0.8) {
      requests.push({
        method: 'POST',
        path: `/chat/threads/${thread}/messages?api-version=${API}`,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ content: `warm load message ${i}`, senderDisplayName: `User ${u}` }),
      });
    } else {
      requests.push({
        method: 'GET',
        path: `/chat/threads/${thread}/messages?api-version=${API}&maxPageSize=20`,
        headers,
        body: '',
      });
    }
  }
  return requests;
}

/** One of each request before the load: the filled threads must be the users' (resource, raw ids, layout). */
async function probe(server, users, userThreads) {
  const u = userThreads.findIndex((t) => t.length > 0);
  const auth = { authorization: `Bearer ${users[u].token}` };
  const list = await httpCall(new URL(`/chat/threads?api-version=${API}`, server.url), { headers: auth });
  const listed = list.status === 200 ? JSON.parse(list.body).value : [];
  if (listed.length === 0) throw new Error(`list threads: HTTP ${list.status}, ${listed.length} threads`);
  const thread = encodeURIComponent(userThreads[u].at(-1)); // filled last: no load has written to it
  const send = await httpCall(new URL(`/chat/threads/${thread}/messages?api-version=${API}`, server.url), {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'probe' }),
  });
  if (send.status !== 201) throw new Error(`send message: HTTP ${send.status} ${send.body.slice(0, 300)}`);
  const page = await httpCall(new URL(`/chat/threads/${thread}/messages?api-version=${API}`, server.url), {
    headers: auth,
  });
  const messages = page.status === 200 ? JSON.parse(page.body).value : [];
  if (!messages.some((m) => m.type === 'participantAdded') || !messages.some((m) => m.type === 'text')) {
    throw new Error(`list messages: HTTP ${page.status}, ${messages.length} messages without the filled ones`);
  }
}

function report(stores) {
  const measured = stores.filter((s) => s.skipped === undefined);
  const rows = [];
  for (const s of measured) {
    const phases = [
      [0, 'empty, at start', s.empty],
      ...(s.reference === undefined
        ? []
        : [
            [s.reference.threads, 'at start', s.reference.atStart],
            [s.reference.threads, 'after load', s.reference.afterLoad],
          ]),
      [s.full.threads, 'at start', s.full.atStart],
      [s.full.threads, 'after load', s.full.afterLoad],
    ];
    for (const [threads, label, m] of phases) {
      rows.push([
        s.store,
        threads,
        label,
        m.rssMb,
        m.hwmMb,
        m.rssAnonMb,
        m.heapUsedMb,
        m.heapTotalMb,
        m.externalMb,
        m === s.empty ? undefined : round(m.rssMb - s.empty.rssMb, 1),
        m.pgBackendsRssAnonMb,
      ]);
    }
  }
  const summary = measured.map((s) => [
    s.store,
    s.threads,
    s.threadsPerUser,
    s.rows.messages,
    s.fillSeconds,
    s.store === 'sqlite' ? s.disk.afterFill.chatDbMb : s.disk.afterFill.totalMb,
    s.perHundredKThreadsMb.rssAtStartOverEmpty,
    s.perHundredKThreadsMb.rssAfterLoadOverEmpty,
    s.perHundredKThreadsMb.rssAfterLoadOverReference,
    s.perHundredKThreadsMb.heapUsedAfterLoadOverReference,
    s.reference?.load.rps,
    s.full.load.rps,
    s.full.load.p99Ms,
    (s.reference?.load.non2xx ?? 0) + s.full.load.non2xx,
  ]);
  process.stdout.write(
    `${table(
      [
        'store',
        'threads',
        'phase',
        'RSS MB',
        'HWM MB',
        'anon MB',
        'heap used MB',
        'heap total MB',
        'external MB',
        'Δ RSS vs empty',
        'pg backends anon MB',
      ],
      rows,
    )}\n\n${table(
      [
        'store',
        'threads',
        'threads/user',
        'messages',
        'fill s',
        'on disk MB',
        'MB/100k at start',
        'MB/100k after load',
        'MB/100k vs ref',
        'heap MB/100k vs ref',
        'ref rps',
        'rps',
        'p99 ms',
        'non-2xx',
      ],
      summary,
    )}\n` +
      'MB/100k: RSS over the empty start per 100k threads (at start, after the load); vs ref: RSS after the load\n' +
      `minus RSS after the same load on ${cfg.refThreads} threads, per 100k threads added.\n` +
      stores
        .filter((s) => s.skipped !== undefined)
        .map((s) => `${s.store}: skipped (${s.skipped})\n`)
        .join(''),
  );
  const result = {
    name: 'chat-memory',
    at: new Date().toISOString(),
    machine: machineInfo(),
    tool: toolName(),
    config: { ...cfg, pgUrl: undefined },
    seconds: round((Date.now() - started) / 1000),
    stores,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'chat-memory.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`machine: ${JSON.stringify(result.machine)}\n`);
  process.stdout.write(`chat-memory ${JSON.stringify(result)}\n`);
}
