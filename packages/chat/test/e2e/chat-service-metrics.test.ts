// `tessera chat-service --metrics-port`: GET /metrics on its own listener with per-route request counts and the
// chat counters (messages, threads, rooms, call decisions, SSE streams and events), driven over real HTTP against a
// real identity server process. No thread, room or identity id ever appears as a label value.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStream } from '../events/sse-reader.js';
import { type IdentityServer, signedFetch, startIdentityServer } from '../rooms/rooms-helpers.js';
import { type CliProcess, spawnTessera, stopAll } from './processes.js';

const CHAT_API = 'api-version=2024-03-07';
const ROOMS_API = 'api-version=2025-03-13';
const insecure = { allowInsecureConnection: true };
const keyOf = (cs: string) => /accesskey=([^;]+)/.exec(cs)?.[1] ?? '';

const dir = mkdtempSync(join(tmpdir(), 'tessera-chat-metrics-'));
let identity: IdentityServer;
beforeAll(async () => {
  identity = await startIdentityServer();
}, 60_000);
afterAll(async () => {
  await stopAll();
  await identity?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function chatService(extra: readonly string[], name: string): CliProcess {
  return spawnTessera([
    'chat-service',
    '--connection-string',
    identity.verifierConnectionString,
    '--port',
    '0',
    '--data-dir',
    join(dir, name),
    '--log-level',
    'error',
    ...extra,
  ]);
}

/** `name{labels} value` lines of a scrape whose name starts with `prefix`. */
function samples(text: string, prefix: string): Array<{ name: string; labels: string; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => {
      const m = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
      return { name: m?.[1] ?? '', labels: m?.[2] ?? '', value: Number(m?.[3]) };
    });
}

function sampleOf(text: string, name: string, labels = ''): number {
  const found = samples(text, name).find((s) => s.name === name && s.labels === labels);
  return found?.value ?? Number.NaN;
}

async function bearer(method: string, url: string, token: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

it('counts requests by route, messages, threads, rooms, call decisions and SSE streams, with no ids as labels', async () => {
  const roomsKey = randomBytes(32).toString('base64');
  const p = chatService(['--rooms-key', roomsKey, '--metrics-port', '0'], 'on');
  const endpoint = (await p.waitFor(/listening on (http:\/\/\S+)/))[1] as string;
  const metricsUrl = (await p.waitFor(/Metrics at (http:\/\/\S+)/))[1] as string;
  expect(new URL(metricsUrl).port).not.toBe(new URL(endpoint).port);
  // Not on the API port.
  expect((await fetch(`${endpoint}metrics`)).status).toBe(404);

  const ids = new CommunicationIdentityClient(identity.connectionString, insecure);
  const alice = await ids.createUserAndToken(['chat']);
  const voip = await ids.createUserAndToken(['voip']);

  const stream = await openStream(`${endpoint}chat/events`, { authorization: `Bearer ${alice.token}` });
  expect(stream.status).toBe(200);
  const created = await bearer('POST', `${endpoint}chat/threads?${CHAT_API}`, alice.token, { topic: 'metrics' });
  expect(created.status).toBe(201);
  const threadId = String((created.json?.chatThread as { id?: string } | undefined)?.id);
  for (const content of ['one', 'two']) {
    const sent = await bearer(
      'POST',
      `${endpoint}chat/threads/${encodeURIComponent(threadId)}/messages?${CHAT_API}`,
      alice.token,
      { content },
    );
    expect(sent.status).toBe(201);
  }
  const missing = await bearer('GET', `${endpoint}chat/threads/19%3Anope%40thread.v2?${CHAT_API}`, alice.token);
  expect(missing.status).toBeGreaterThanOrEqual(400);
  await stream.until((events) => events.filter((e) => e.event === 'chatMessageReceived').length >= 2);

  const room = await signedFetch(roomsKey, 'POST', `${endpoint}rooms?${ROOMS_API}`, {
    participants: { [voip.user.communicationUserId]: { role: 'Attendee' } },
  });
  expect(room.status).toBe(201);
  const roomId = String(room.json?.id);
  const verifierKey = keyOf(identity.verifierConnectionString);
  const joined = await signedFetch(verifierKey, 'POST', `${endpoint}rooms/${roomId}/decisions:evaluate?${ROOMS_API}`, {
    token: voip.token,
    action: 'join',
  });
  expect(joined.json).toMatchObject({ allowed: true });
  const denied = await signedFetch(verifierKey, 'POST', `${endpoint}calls/decisions:evaluate?${ROOMS_API}`, {
    token: alice.token,
    action: 'start',
  });
  expect(denied.json).toMatchObject({ allowed: false });

  let text = await (await fetch(metricsUrl)).text();
  expect(sampleOf(text, 'tessera_chat_threads_created_total')).toBe(1);
  expect(sampleOf(text, 'tessera_chat_messages_sent_total')).toBe(2);
  expect(sampleOf(text, 'tessera_chat_rooms_created_total')).toBe(1);
  expect(sampleOf(text, 'tessera_chat_call_decisions_total', '{outcome="allowed"}')).toBe(1);
  expect(sampleOf(text, 'tessera_chat_call_decisions_total', '{outcome="denied"}')).toBe(1);
  expect(sampleOf(text, 'tessera_chat_event_streams_open')).toBe(1);
  // Thread created (1 event) and two messages reached alice's stream.
  expect(sampleOf(text, 'tessera_chat_events_delivered_total')).toBeGreaterThanOrEqual(3);
  expect(sampleOf(text, 'tessera_chat_event_publish_failures_total')).toBe(0);
  expect(
    sampleOf(text, 'tessera_chat_requests_total', '{operation="POST /chat/threads/:threadId/messages",status="201"}'),
  ).toBe(2);
  expect(sampleOf(text, 'tessera_chat_requests_total', '{operation="POST /chat/threads",status="201"}')).toBe(1);
  expect(sampleOf(text, 'tessera_chat_requests_total', '{operation="GET /metrics",status="404"}')).toBeNaN();
  expect(
    sampleOf(
      text,
      'tessera_chat_request_duration_seconds_count',
      '{operation="POST /chat/threads/:threadId/messages"}',
    ),
  ).toBe(2);
  expect(text).toMatch(/^process_resident_memory_bytes \d/m);
  expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);

  // No id of any kind as a label value: not the thread, room or users, nor their hex parts.
  for (const secret of [
    threadId,
    encodeURIComponent(threadId),
    roomId,
    alice.user.communicationUserId,
    voip.user.communicationUserId,
    alice.token,
  ]) {
    expect(text).not.toContain(secret);
  }
  // Every label value is short and from a closed set: no long hex or digit runs (ids, tokens) in any label.
  const labelSets = samples(text, 'tessera_chat_').map((s) => s.labels);
  expect(labelSets.filter((l) => /[0-9a-f]{12,}/i.test(l))).toEqual([]);

  stream.close();
  await stream.ended;
  for (let i = 0; i < 100 && sampleOf(text, 'tessera_chat_event_streams_open') !== 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    text = await (await fetch(metricsUrl)).text();
  }
  expect(sampleOf(text, 'tessera_chat_event_streams_open')).toBe(0);
  await p.stop();
}, 60_000);

it('without --metrics-port there is no metrics listener, and /metrics is not on the API port', async () => {
  const p = chatService([], 'off');
  const endpoint = (await p.waitFor(/listening on (http:\/\/\S+)/))[1] as string;
  expect((await fetch(`${endpoint}metrics`)).status).toBe(404);
  expect(p.stdout()).not.toContain('Metrics at');
  await p.stop();
}, 30_000);

it('a bad --metrics-port stops the start naming the setting', async () => {
  const p = chatService(['--metrics-port', 'nine'], 'bad');
  expect(
    await p.waitFor(/listening on/).then(
      () => 'started',
      () => 'refused',
    ),
  ).toBe('refused');
  expect(p.stderr()).toContain('--metrics-port');
}, 30_000);

it('mounted in tessera serve, the chat counters are on the server /metrics and chat routes count as server requests', async () => {
  const p = spawnTessera(['serve', '--port', '0', '--data-dir', join(dir, 'serve'), '--metrics-port', '0']);
  const connectionString = (await p.waitFor(/^Connection string: (\S+)$/m))[1] as string;
  const metricsUrl = (await p.waitFor(/^Metrics \(Prometheus\): (\S+)$/m))[1] as string;
  const endpoint = /endpoint=([^;]+);/.exec(connectionString)?.[1] ?? '';
  const alice = await new CommunicationIdentityClient(connectionString, insecure).createUserAndToken(['chat']);
  const created = await bearer('POST', `${endpoint}chat/threads?${CHAT_API}`, alice.token, { topic: 'mounted' });
  expect(created.status).toBe(201);
  const threadId = String((created.json?.chatThread as { id?: string } | undefined)?.id);
  const sent = await bearer(
    'POST',
    `${endpoint}chat/threads/${encodeURIComponent(threadId)}/messages?${CHAT_API}`,
    alice.token,
    { content: 'hi' },
  );
  expect(sent.status).toBe(201);
  const text = await (await fetch(metricsUrl)).text();
  expect(sampleOf(text, 'tessera_chat_threads_created_total')).toBe(1);
  expect(sampleOf(text, 'tessera_chat_messages_sent_total')).toBe(1);
  // Requests are the server's own families (counted once), not a second tessera_chat_requests_total.
  expect(text).not.toContain('tessera_chat_requests_total');
  expect(
    sampleOf(text, 'tessera_requests_total', '{operation="POST /chat/threads/:threadId/messages",status="201"}'),
  ).toBe(1);
  expect(text).not.toContain(threadId);
  expect(text).not.toContain(alice.user.communicationUserId);
  await p.stop();
}, 60_000);
