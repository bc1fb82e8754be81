import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { buildStringToSign, formatHmacAuthorization, parseConnectionString } from '@tessera/core';

const BIN = new URL('../../../cli/dist/bin.js', import.meta.url).pathname;

/** A `tessera serve` child process and what it printed. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly connectionString: string;
  readonly url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const spawned = new Set<ChildProcess>();

/**
 * Kills every server this module spawned and that is still running — including those whose siblings failed to
 * start, which a `Promise.all` of spawns would otherwise leak. Call from `afterAll`.
 */
export async function killAllServers(): Promise<void> {
  await Promise.all(
    [...spawned].map(
      (child) =>
        new Promise<void>((resolve) => {
          spawned.delete(child);
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Spawns `tessera serve` with the given flags and waits for its connection string line. */
export async function spawnServer(flags: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'silent', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let out = '';
  let err = '';
  const connectionString = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 20_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^Connection string: (.+)$/m.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1].trim());
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
  return {
    child,
    connectionString,
    url: parseConnectionString(connectionString).endpoint,
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
  };
}

/** Builds HMAC-SHA256 headers for a request, as the official SDKs sign. */
export function signedHeaders(
  connectionString: string,
  method: string,
  url: URL,
  body: string,
): Record<string, string> {
  const { accessKey } = parseConnectionString(connectionString);
  const date = new Date().toUTCString();
  const contentHash = createHash('sha256').update(body).digest('base64');
  const signature = createHmac('sha256', Buffer.from(accessKey, 'base64'))
    .update(buildStringToSign({ method, pathAndQuery: url.pathname + url.search, date, host: url.host, contentHash }))
    .digest('base64');
  return { 'x-ms-date': date, 'x-ms-content-sha256': contentHash, authorization: formatHmacAuthorization(signature) };
}

/** An HMAC-signed JSON request; returns status and parsed body. */
export async function call(
  connectionString: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(path, parseConnectionString(connectionString).endpoint);
  const text = body === undefined ? '' : JSON.stringify(body);
  const response = await fetch(url, {
    method,
    headers: { ...signedHeaders(connectionString, method, url, text), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: text }),
  });
  const raw = await response.text();
  return { status: response.status, json: raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>) };
}

/** A parsed server-sent event. */
export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: Record<string, unknown>;
}

/** Subscribes to GET /revocations and collects events until `close()`. */
export async function subscribeFeed(
  connectionString: string,
  lastEventId?: string,
): Promise<{ events: SseEvent[]; close(): void }> {
  const url = new URL('/revocations', parseConnectionString(connectionString).endpoint);
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: {
      ...signedHeaders(connectionString, 'GET', url, ''),
      accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
    signal: controller.signal,
  });
  if (response.status !== 200 || response.body === null) throw new Error(`feed answered ${response.status}`);
  const events: SseEvent[] = [];
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = new Map<string, string>();
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
          }
          const data = fields.get('data');
          if (fields.has('event') && data !== undefined) {
            events.push({ event: fields.get('event') ?? '', id: fields.get('id'), data: JSON.parse(data) });
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => controller.abort() };
}

/** Polls `check` every 10 ms until it returns true or `timeoutMs` passes; resolves to the elapsed ms. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
