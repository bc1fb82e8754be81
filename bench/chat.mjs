#!/usr/bin/env node
// Chat benchmark (issue 13): send message through `tessera serve`'s mounted chat API (verify + authorize + store)
// against a bare Fastify POST of the same size, and list messages (a page of 20) in a thread holding
// BENCH_CHAT_MESSAGES messages (default 1 000 000, inserted straight into the chat store before the server starts).
//
// Every server is its own process on 127.0.0.1, over plain HTTP (the load tools speak HTTP; TLS would cost both
// sides alike). Load: wrk when installed, else autocannon (bench/lib/load.mjs), keep-alive connections cycling a
// pool of requests. Prints tables and one JSON line; writes bench/results/chat.json.
//
// Knobs (env): BENCH_DURATION_S (10), BENCH_WARMUP_S (3), BENCH_CONNECTIONS (50), BENCH_CHAT_MESSAGES (1000000),
// BENCH_CHAT_CONTENT_BYTES (200: message content size), BENCH_CHAT_SPREAD_THREADS (1000: a send case cycling over that
// many threads, default mode only, 0 = none), BENCH_CHAT_SEND_CONNECTIONS (1,<BENCH_CONNECTIONS>: the send
// cases' connection counts), BENCH_CHAT_LIST_CONNECTIONS (1,10,<BENCH_CONNECTIONS>: the list's), BENCH_CHAT_SYNCHRONOUS (full,normal: the chat store's --chat-synchronous modes, one
// server each, the first is the one quoted as sendVsBare), BENCH_CHAT_BASELINE_ROOT (a built checkout of another
// revision: its `tessera serve` is measured first as `send (baseline)`, same run), BENCH_RESULTS_DIR (bench/results).
//
// `node bench/chat.mjs --bare` is the bare server: one POST route on the send-message path that parses the JSON body
// and answers 201 {"id"} like the chat API, nothing else.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { measure, toolName } from './lib/load.mjs';
import { machineInfo, round } from './lib/machine.mjs';
import { killAllStarted, startProcess } from './lib/proc.mjs';
import { table } from './lib/table.mjs';
import { createIdentity, httpCall, issueOnce, startCliServer } from './lib/tessera.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const API = '2025-03-15';

if (process.argv[2] === '--bare') {
  const app = Fastify({ logger: false });
  let next = Date.now();
  app.post('/chat/threads/:threadId/messages', async (request, reply) => {
    const body = request.body ?? {};
    next = Math.max(Date.now(), next + 1);
    return reply
      .code(201)
      .send({ id: String(next), length: typeof body.content === 'string' ? body.content.length : 0 });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`listening on http://127.0.0.1:${app.server.address().port}/\n`);
  const stop = () => app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await main();
}

async function main() {
  const env = process.env;
  const cfg = {
    durationS: Number(env.BENCH_DURATION_S ?? 10),
    warmupS: Number(env.BENCH_WARMUP_S ?? 3),
    connections: Number(env.BENCH_CONNECTIONS ?? 50),
    messages: Number(env.BENCH_CHAT_MESSAGES ?? 1_000_000),
    contentBytes: Number(env.BENCH_CHAT_CONTENT_BYTES ?? 200),
    // Connection counts of the send cases, and the chat store's durability modes (--chat-synchronous), first = default.
    sendConnections: (env.BENCH_CHAT_SEND_CONNECTIONS ?? `1,${env.BENCH_CONNECTIONS ?? 50}`).split(',').map(Number),
    // The list's: p99 at 50 connections on a saturated 2-vCPU server is mostly the queue (Little's law), so the
    // store's own latency is read at 1 and 10.
    listConnections: (env.BENCH_CHAT_LIST_CONNECTIONS ?? `1,10,${env.BENCH_CONNECTIONS ?? 50}`).split(',').map(Number),
    modes: (env.BENCH_CHAT_SYNCHRONOUS ?? 'full,normal').split(','),
    baselineRoot: env.BENCH_CHAT_BASELINE_ROOT,
    spreadThreads: Number(env.BENCH_CHAT_SPREAD_THREADS ?? 1000),
  };
  const resultsDir = env.BENCH_RESULTS_DIR ?? join(here, 'results');
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-chat-'));
  const log = (m) => process.stderr.write(`[chat] ${m}\n`);
  try {
    // 1. A server with chat mounted; one user, one token, two threads (one to send into, one to fill).
    let server = await startCliServer({ dataDir });
    const userId = await createIdentity(server.connectionString);
    const { token } = await issueOnce(server.connectionString, userId);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const createThread = async (topic) => {
      const r = await httpCall(new URL(`/chat/threads?api-version=${API}`, server.url), {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ topic }),
      });
      if (r.status !== 201) throw new Error(`create thread: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body).chatThread.id;
    };
    const sendThread = await createThread('send bench');
    const bigThread = await createThread('list bench');
    // The spread case: sends cycle over this many threads, so a group commit's writes land on many threads' pages.
    const spreadThreads = [];
    for (let i = 0; i < cfg.spreadThreads; i++) spreadThreads.push(await createThread(`spread ${i}`));
    await server.stop();

    // 2. Fill the big thread straight in the chat store (what a year of chat leaves behind), then restart.
    const filled = fillThread(join(dataDir, 'chat.db'), bigThread, userId.toLowerCase(), cfg.messages, log);

    // 3. Send message: the same body to the chat API (each durability mode, one server each) and to the bare
    //    server, at each connection count, in one run so the ratios share the machine's conditions.
    const content = 'm'.repeat(cfg.contentBytes);
    const sendBody = JSON.stringify({ content, senderDisplayName: 'Bench' });
    const sendPath = `/chat/threads/${encodeURIComponent(sendThread)}/messages?api-version=${API}`;
    const load = (connections) => ({ connections, warmupS: cfg.warmupS, durationS: cfg.durationS, runs: 1 });
    const bare = await startProcess({
      args: [join(here, 'chat.mjs'), '--bare'],
      ready: /listening on (http:\/\/\S+)/,
      name: 'bare fastify',
      cwd: join(here, '..'),
    });
    const bareUrl = bare.match[1];
    const bareRequests = [
      { method: 'POST', path: sendPath, headers: { ...auth, host: new URL(bareUrl).host }, body: sendBody },
    ];
    const sends = [];
    for (const connections of cfg.sendConnections) {
      log(`bare Fastify POST of the same size, ${connections} connections`);
      const bareResult = await measure({
        url: bareUrl,
        requests: bareRequests,
        serverPids: [bare.pid],
        ...load(connections),
      });
      sends.push({ case: 'bare', connections, ...pick(bareResult) });
    }
    // A baseline tree (BENCH_CHAT_BASELINE_ROOT: another checkout, built) runs first with its own defaults.
    const servers = [
      ...(cfg.baselineRoot === undefined ? [] : [{ name: 'baseline', root: cfg.baselineRoot, args: [] }]),
      ...cfg.modes.map((mode) => ({ name: mode, root: undefined, args: ['--chat-synchronous', mode] })),
    ];
    for (const { name: mode, root, args } of servers) {
      server = await startCliServer({
        dataDir,
        extraArgs: ['--print-connection-strings', ...args],
        ...(root === undefined ? {} : { root }),
      });
      const sendRequests = [
        { method: 'POST', path: sendPath, headers: { ...auth, host: new URL(server.url).host }, body: sendBody },
      ];
      const probe = await httpCall(new URL(sendPath, server.url), { method: 'POST', headers: auth, body: sendBody });
      if (probe.status !== 201) throw new Error(`send message: HTTP ${probe.status} ${probe.body.slice(0, 300)}`);
      for (const connections of cfg.sendConnections) {
        log(`send message, synchronous ${mode} (${toolName()}, ${connections} connections, ${cfg.durationS} s)`);
        const send = await measure({
          url: server.url,
          requests: sendRequests,
          serverPids: server.pids,
          ...load(connections),
        });
        sends.push({ case: `send (${mode})`, connections, ...pick(send) });
      }
      if (mode === cfg.modes[0] && spreadThreads.length > 0) {
        // The same sends cycling over spreadThreads threads (one request per thread in the pool), at the most
        // connections: the store's cost when a batch's writes are not all in one busy thread.
        const spreadRequests = spreadThreads.map((id) => ({
          method: 'POST',
          path: `/chat/threads/${encodeURIComponent(id)}/messages?api-version=${API}`,
          headers: { ...auth, host: new URL(server.url).host },
          body: sendBody,
        }));
        const connections = cfg.sendConnections[cfg.sendConnections.length - 1];
        log(`send message, synchronous ${mode}, over ${spreadThreads.length} threads (${connections} connections)`);
        const spread = await measure({
          url: server.url,
          requests: spreadRequests,
          serverPids: server.pids,
          ...load(connections),
        });
        sends.push({ case: `send (${mode}, ${spreadThreads.length} threads)`, connections, ...pick(spread) });
      }
      if (mode !== servers[servers.length - 1].name) await server.stop();
    }
    await bare.stop();

    // 4. List messages, a page of 20: half the newest page, half a page deep in the thread (continuationToken).
    const listBase = `/chat/threads/${encodeURIComponent(bigThread)}/messages?api-version=${API}&maxPageSize=20`;
    const listRequests = [];
    for (let i = 0; i < 256; i++) {
      const deep = i % 2 === 1 ? `&continuationToken=${filled.firstId + Math.floor(Math.random() * filled.count)}` : '';
      listRequests.push({
        method: 'GET',
        path: `${listBase}${deep}`,
        headers: { authorization: auth.authorization, host: new URL(server.url).host },
        body: '',
      });
    }
    const page = await httpCall(new URL(listRequests[1].path, server.url), {
      headers: { authorization: auth.authorization },
    });
    if (page.status !== 200 || JSON.parse(page.body).value.length !== 20) {
      throw new Error(`list messages: HTTP ${page.status} ${page.body.slice(0, 300)}`);
    }
    log(`list messages, page of 20, thread of ${filled.count} messages`);
    const lists = [];
    for (const connections of cfg.listConnections) {
      const r = await measure({
        url: server.url,
        requests: listRequests,
        serverPids: server.pids,
        ...load(connections),
      });
      lists.push({ connections, ...pick(r) });
    }
    const list = lists.find((r) => r.connections === cfg.connections) ?? lists[lists.length - 1];
    await server.stop();

    const find = (name, connections) => sends.find((r) => r.case === name && r.connections === connections);
    for (const r of sends) {
      const b = find('bare', r.connections);
      r.vsBare = b === undefined || b.rps === 0 ? null : round(r.rps / b.rps, 2);
    }
    const send = find(`send (${cfg.modes[0]})`, cfg.connections) ?? sends[sends.length - 1];
    const bareResult = find('bare', cfg.connections) ?? sends[0];
    const ratio = send.vsBare;
    const result = {
      name: 'chat',
      at: new Date().toISOString(),
      machine: machineInfo(),
      tool: toolName(),
      config: cfg,
      sendMessage: send,
      bareFastifyPost: bareResult,
      sendVsBare: ratio,
      sends,
      listMessages: { ...list, threadMessages: filled.count, pageSize: 20 },
      lists,
      targets: { sendVsBareAtLeast: 0.6, listP99MsBelow: 10 },
    };
    process.stdout.write(
      `${table(
        ['case', 'connections', 'rps', 'p50 ms', 'p99 ms', 'non-2xx', 'server cores', 'vs bare'],
        [
          ...sends.map((r) => [r.case, r.connections, r.rps, r.p50Ms, r.p99Ms, r.non2xx, r.serverCores, r.vsBare]),
          ...lists.map((r) => [
            `list 20 of ${filled.count} messages`,
            r.connections,
            r.rps,
            r.p50Ms,
            r.p99Ms,
            r.non2xx,
            r.serverCores,
            '',
          ]),
        ],
      )}\nsend / bare = ${ratio} (target ≥ 0.6); list p99 = ${lists
        .map((r) => `${r.p99Ms} ms at ${r.connections}`)
        .join(', ')} connections (target < 10 ms)\n`,
    );
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'chat.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    killAllStarted();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function pick(r) {
  return {
    rps: r.rps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    maxMs: r.maxMs,
    non2xx: r.non2xx,
    socketErrors: r.socketErrors,
    serverCores: r.serverCores,
    clientCores: r.clientCores,
    otherCores: r.otherCores,
  };
}

/**
 * Appends `count` text messages to `threadId` directly in the chat SQLite file, in the layout the chat store
 * writes (ids continue the thread's; the thread row's counters are moved on), in batches of 50 000.
 */
function fillThread(path, threadId, sender, count, log) {
  const db = new Database(path);
  try {
    const thread = db.prepare('SELECT last_message_id, last_sequence FROM chat_threads WHERE id = ?').get(threadId);
    const insert = db.prepare(
      `INSERT INTO chat_messages (thread_id, id, sequence_id, type, sender, sender_display_name, content, version, created_on)
       VALUES (?, ?, ?, 'text', ?, 'Bench', ?, ?, ?)`,
    );
    const start = Date.now();
    let id = Number(thread.last_message_id);
    let seq = Number(thread.last_sequence);
    const firstId = id + 1;
    const batch = db.transaction((n) => {
      for (let i = 0; i < n; i++) {
        id++;
        seq++;
        insert.run(threadId, id, seq, sender, `message number ${seq} of the list bench`, String(id), id);
      }
    });
    for (let done = 0; done < count; done += 50_000) batch(Math.min(50_000, count - done));
    db.prepare('UPDATE chat_threads SET last_message_id = ?, last_sequence = ?, last_message_on = ? WHERE id = ?').run(
      id,
      seq,
      id,
      threadId,
    );
    log(`filled ${count} messages in ${((Date.now() - start) / 1000).toFixed(1)} s`);
    return { firstId, count };
  } finally {
    db.close();
  }
}
