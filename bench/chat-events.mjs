#!/usr/bin/env node
// Chat events benchmark (issue 13): how long a message takes to reach a subscribed participant over Tessera's event
// stream (`GET /chat/events`, docs/chat-events.md) — the target is 100 ms p99 on one machine.
//
//   one process   `tessera serve` (SQLite, chat mounted, in-process bus): Alice sends, Bob's stream is on the same
//                 process.
//   across        `tessera serve --store postgres://…` (process A) and `tessera chat-service` on the same database
//   processes     (process B): Alice sends through A, Bob's stream is on B; the event crosses LISTEN/NOTIFY.
//
// Latency = from the send request leaving this process to the event arriving on the stream (both clocks are this
// process's performance.now(), so no clock skew); the send request's own answer time is shown beside it (the event
// is published once the message is stored, before the answer, so most of the latency is the send itself). Messages go one at a time at BENCH_EVENTS_INTERVAL_MS apart —
// the latency of a live chat, not a throughput test — each with BENCH_EVENTS_CONTENT_BYTES of content; a
// BENCH_EVENTS_LARGE_EVERY-th message is 20,000 bytes, so the PostgreSQL bus also sends events by reference.
//   bus only      two PostgreSQL buses in this process (as two processes would hold them): publish on one, hear on
//                 the other — the LISTEN/NOTIFY hop alone, without the HTTP send and the chat store.
// Prints a table and one JSON line; writes bench/results/chat-events.json.
//
// Knobs (env): BENCH_EVENTS_MESSAGES (1000 per scenario), BENCH_EVENTS_WARMUP (50), BENCH_EVENTS_INTERVAL_MS (5),
// BENCH_EVENTS_CONTENT_BYTES (200), BENCH_EVENTS_LARGE_EVERY (20; 0 = never), BENCH_PG_URL
// (postgres://postgres@127.0.0.1:5432/test; `off` skips the PostgreSQL scenario), BENCH_RESULTS_DIR (bench/results).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createPostgresEventBus } from '@tessera/chat';
import { SseParser } from '@tessera/core';
import { machineInfo, round } from './lib/machine.mjs';
import { createBenchDatabase, DEFAULT_PG_URL } from './lib/postgres.mjs';
import { killAllStarted } from './lib/proc.mjs';
import { table } from './lib/table.mjs';
import { percentile } from './lib/stats.mjs';
import { createIdentity, httpCall, issueOnce, startChatService, startCliServer } from './lib/tessera.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const API = '2025-03-15';
const env = process.env;
const cfg = {
  messages: Number(env.BENCH_EVENTS_MESSAGES ?? 1000),
  warmup: Number(env.BENCH_EVENTS_WARMUP ?? 50),
  intervalMs: Number(env.BENCH_EVENTS_INTERVAL_MS ?? 5),
  contentBytes: Number(env.BENCH_EVENTS_CONTENT_BYTES ?? 200),
  largeEvery: Number(env.BENCH_EVENTS_LARGE_EVERY ?? 20),
  pgUrl: env.BENCH_PG_URL ?? DEFAULT_PG_URL,
};
const resultsDir = env.BENCH_RESULTS_DIR ?? join(here, 'results');
const log = (m) => process.stderr.write(`[chat-events] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Opens Bob's stream on `url`; calls `onMessage(content)` for each chatMessageReceived. */
async function subscribe(url, token, onMessage) {
  const abort = new AbortController();
  const response = await fetch(new URL('/chat/events', url), {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (response.status !== 200) throw new Error(`stream: HTTP ${response.status} ${await response.text()}`);
  const parser = new SseParser({
    onEvent: (e) => {
      if (e.event === 'chatMessageReceived') onMessage(JSON.parse(e.data).message.content);
    },
  });
  const decoder = new TextDecoder();
  (async () => {
    try {
      for await (const chunk of response.body) parser.push(decoder.decode(chunk, { stream: true }));
    } catch {
      // closed
    }
  })();
  return () => abort.abort();
}

function percentiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p) => percentile(s, p);
  return { n: s.length, p50: round(at(50), 2), p95: round(at(95), 2), p99: round(at(99), 2), max: round(s.at(-1), 2) };
}

/** Alice (on `sendUrl`) sends to a thread with Bob, whose stream is on `streamUrl`; returns latency stats in ms. */
async function run({ name, sendUrl, streamUrl, connectionString }) {
  const alice = await createIdentity(connectionString);
  const bob = await createIdentity(connectionString);
  const aliceToken = (await issueOnce(connectionString, alice)).token;
  const bobToken = (await issueOnce(connectionString, bob)).token;
  const auth = { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' };
  const created = await httpCall(new URL(`/chat/threads?api-version=${API}`, sendUrl), {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({
      topic: 'events bench',
      participants: [{ communicationIdentifier: { communicationUser: { id: bob } } }],
    }),
  });
  if (created.status !== 201) throw new Error(`create thread: HTTP ${created.status} ${created.body.slice(0, 300)}`);
  const thread = encodeURIComponent(JSON.parse(created.body).chatThread.id);
  const sentAt = new Map();
  const waiting = new Map();
  const latencies = [];
  const sendLatencies = [];
  const stop = await subscribe(streamUrl, bobToken, (content) => {
    const key = content.slice(0, 12);
    const t0 = sentAt.get(key);
    if (t0 === undefined) return;
    const ms = performance.now() - t0;
    waiting.get(key)?.(ms);
  });
  const pad = (n) => 'x'.repeat(Math.max(0, n - 12));
  let sends = 0;
  try {
    for (let i = 0; i < cfg.warmup + cfg.messages; i++) {
      const key = `m${String(i).padStart(11, '0')}`;
      const large = cfg.largeEvery > 0 && i % cfg.largeEvery === cfg.largeEvery - 1;
      const body = JSON.stringify({ content: key + pad(large ? 20_000 : cfg.contentBytes) });
      const heard = new Promise((resolve, reject) => {
        waiting.set(key, resolve);
        setTimeout(() => reject(new Error(`${name}: message ${i} not heard within 5 s`)), 5000).unref();
      });
      sentAt.set(key, performance.now());
      const r = await httpCall(new URL(`/chat/threads/${thread}/messages?api-version=${API}`, sendUrl), {
        method: 'POST',
        headers: auth,
        body,
      });
      if (r.status !== 201) throw new Error(`send: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      const answeredMs = performance.now() - (sentAt.get(key) ?? 0);
      sends += 1;
      const ms = await heard;
      waiting.delete(key);
      sentAt.delete(key);
      if (i >= cfg.warmup) {
        latencies.push(ms);
        sendLatencies.push(answeredMs);
      }
      await sleep(cfg.intervalMs);
    }
  } finally {
    stop();
  }
  const send = percentiles(sendLatencies);
  return { scenario: name, sends, ...percentiles(latencies), sendP50: send.p50, sendP99: send.p99 };
}

/** Publish on one PostgreSQL bus, hear on another: the cross-process hop alone. */
async function busOnly(url) {
  const a = createPostgresEventBus({ connectionString: url, schema: 'bench_events' });
  const b = createPostgresEventBus({ connectionString: url, schema: 'bench_events' });
  await Promise.all([a.ready(), b.ready()]);
  const waiting = new Map();
  b.subscribe('u', (e) => waiting.get(e.sender.displayName)?.());
  const latencies = [];
  try {
    for (let i = 0; i < cfg.warmup + cfg.messages; i++) {
      const key = `m${i}`;
      const large = cfg.largeEvery > 0 && i % cfg.largeEvery === cfg.largeEvery - 1;
      const t0 = performance.now();
      const heard = new Promise((resolve, reject) => {
        waiting.set(key, () => resolve(performance.now() - t0));
        setTimeout(() => reject(new Error(`bus: event ${i} not heard within 5 s`)), 5000).unref();
      });
      await a.publish({
        type: 'typingIndicatorReceived',
        threadId: '19:bench@thread.v2',
        recipients: ['u'],
        occurredOn: new Date().toISOString(),
        sender: { rawId: large ? 'x'.repeat(20_000) : 's', displayName: key },
      });
      const ms = await heard;
      waiting.delete(key);
      if (i >= cfg.warmup) latencies.push(ms);
      await sleep(cfg.intervalMs);
    }
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  return {
    scenario: 'bus only (PostgreSQL LISTEN/NOTIFY)',
    sends: cfg.warmup + cfg.messages,
    ...percentiles(latencies),
  };
}

const results = [];
const dataDirs = [];
try {
  // 1. One process, SQLite, in-process bus.
  {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-events-'));
    dataDirs.push(dataDir);
    const server = await startCliServer({ dataDir });
    try {
      log('one process (SQLite)…');
      results.push(
        await run({
          name: 'one process (SQLite)',
          sendUrl: server.url,
          streamUrl: server.url,
          connectionString: server.connectionString,
        }),
      );
    } finally {
      await server.stop();
    }
  }
  // 2. Two processes on one PostgreSQL database: tessera serve (A) and tessera chat-service (B).
  if (cfg.pgUrl !== 'off') {
    const db = await createBenchDatabase(cfg.pgUrl);
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-events-pg-'));
    dataDirs.push(dataDir);
    try {
      const a = await startCliServer({ dataDir, store: db.url });
      try {
        const b = await startChatService({ identityUrl: a.url, connectionString: a.connectionString, store: db.url });
        try {
          log('across processes (PostgreSQL)…');
          results.push(
            await run({
              name: 'across processes (PostgreSQL)',
              sendUrl: a.url,
              streamUrl: b.url,
              connectionString: a.connectionString,
            }),
          );
        } finally {
          await b.stop();
        }
        log('bus only (PostgreSQL)…');
        results.push(await busOnly(db.url));
      } finally {
        await a.stop();
      }
    } finally {
      await db.drop();
    }
  }
} finally {
  killAllStarted();
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
}

const target = 100;
process.stdout.write(
  `${table(
    ['scenario', 'messages', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', `p99 < ${target} ms`, 'send answer p50/p99 ms'],
    results.map((r) => [
      r.scenario,
      r.n,
      r.p50,
      r.p95,
      r.p99,
      r.max,
      r.p99 < target ? 'yes' : 'NO',
      r.sendP50 === undefined ? '–' : `${r.sendP50} / ${r.sendP99}`,
    ]),
  )}\n`,
);
const out = { bench: 'chat-events', config: cfg, machine: machineInfo(), results, targetP99Ms: target };
process.stdout.write(`${JSON.stringify(out)}\n`);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'chat-events.json'), `${JSON.stringify(out, null, 2)}\n`);
