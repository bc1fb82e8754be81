// Shared helpers of the end-to-end suites: they drive a real server (in-process via `startServer`, or the
// `tessera` CLI as a child process) strictly from outside — HTTP on a real socket, the official SDK, and an
// HMAC signer of our own that is checked against the SDK's (sdk-identity.test.ts).
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createHash, createHmac, createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CommunicationIdentityClient, type CommunicationIdentityClientOptions } from '@azure/communication-identity';
import {
  buildStringToSign,
  decodeJwt,
  formatHmacAuthorization,
  parseConnectionString,
  type DecodedJwt,
} from '@tessera/core';
import { type RunningServer, type ServerOptions, startServer } from '@tessera/server';

/** The repository root (`/work/main`). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
/** The built CLI entry point. */
export const CLI_BIN = join(REPO_ROOT, 'packages/cli/dist/bin.js');

/** Every api-version Tessera serves, oldest first. */
export const ALL_API_VERSIONS = [
  '2021-03-07',
  '2022-06-01',
  '2022-10-01',
  '2023-08-01',
  '2023-10-01',
  '2025-03-02-preview',
  '2025-06-30',
] as const;
/** The five scopes of 2023-10-01 and later. */
export const ALL_SCOPES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'] as const;
/** api-version the official JS SDK 1.3.1 sends. */
export const SDK_API_VERSION = '2023-10-01';
export const PREVIEW = '2025-03-02-preview';

// ---------------------------------------------------------------------------------------------------------------
// temp dirs and servers

/** Creates a temp dir under the OS temp folder; `cleanup()` removes it. */
export function tempDir(prefix = 'tessera-e2e-'): { readonly path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A server started in-process on a fresh temp data dir. */
export interface TestServer {
  readonly server: RunningServer;
  readonly dataDir: string;
  /** Endpoint with trailing slash, e.g. `http://127.0.0.1:4567/`. */
  readonly url: string;
  readonly primaryKey: string;
  readonly verifierKey: string;
  /** Closes the server; removes the data dir unless it was passed in. */
  close(): Promise<void>;
}

/** Starts `startServer({ port: 0, logLevel: 'silent', dataDir: <fresh temp dir> , ...options })`. */
export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const dir = options.dataDir === undefined ? tempDir() : undefined;
  let server: RunningServer;
  try {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      ...options,
      dataDir: options.dataDir ?? dir?.path ?? '',
    });
  } catch (error) {
    dir?.cleanup();
    throw error;
  }
  return {
    server,
    dataDir: options.dataDir ?? dir?.path ?? '',
    url: server.url,
    primaryKey: parseConnectionString(server.connectionString).accessKey,
    verifierKey: parseConnectionString(server.verifierConnectionString).accessKey,
    async close() {
      await server.close();
      dir?.cleanup();
    },
  };
}

/** The official SDK client, allowed to speak plain HTTP (docs/spec/wire-protocol.md §0.2). `apiVersion` is passed through untyped. */
export function identityClient(
  connectionString: string,
  extra: CommunicationIdentityClientOptions & { apiVersion?: string } = {},
): CommunicationIdentityClient {
  const options: CommunicationIdentityClientOptions = { allowInsecureConnection: true, ...extra };
  return new CommunicationIdentityClient(connectionString, options);
}

export { freePort } from '../../../../test/support/free-port.js';

// ---------------------------------------------------------------------------------------------------------------
// HMAC signing (docs/spec/wire-protocol.md §2.1), independent of the SDK

/** What one signature covers. */
export interface SignInput {
  readonly method: string;
  /** Path and query exactly as sent, percent-encoded. */
  readonly pathAndQuery: string;
  /** Authority as signed, with port. */
  readonly host: string;
  readonly body: string | Buffer;
  /** base64 access key. */
  readonly accessKey: string;
  /** RFC 1123 date; default now. */
  readonly date?: string;
}

/** The headers an ACS HMAC-SHA256 request carries. */
export interface SignedHeaders {
  readonly date: string;
  readonly contentHash: string;
  readonly signature: string;
  readonly authorization: string;
}

/** base64 SHA-256 of the body. */
export function sha256Base64(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

/** Signs a request as the official SDK does: HMAC-SHA256(base64-decoded key, VERB\npath\ndate;host;hash). */
export function signRequest(input: SignInput): SignedHeaders {
  const date = input.date ?? new Date().toUTCString();
  const contentHash = sha256Base64(input.body);
  const stringToSign = buildStringToSign({
    method: input.method,
    pathAndQuery: input.pathAndQuery,
    date,
    host: input.host,
    contentHash,
  });
  const signature = createHmac('sha256', Buffer.from(input.accessKey, 'base64')).update(stringToSign).digest('base64');
  return { date, contentHash, signature, authorization: formatHmacAuthorization(signature) };
}

// ---------------------------------------------------------------------------------------------------------------
// raw HTTP

/** A response read to the end. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  readonly json: unknown;
}

/** The ACS error body, loosely typed for assertions. */
export interface WireErrorBody {
  error: { code: string; message: string; target?: string; innererror?: { code: string; message: string } };
}

/** Options of {@link rawRequest}. */
export interface RawRequestInput {
  /** Server base URL, e.g. `http://127.0.0.1:4567/`. */
  readonly baseUrl: string;
  readonly method: string;
  /** Request target exactly as sent on the request line. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Send the body in these pieces with Transfer-Encoding: chunked. */
  readonly chunked?: boolean;
}

/** One HTTP request with node:http, so Host, path bytes and framing are exactly what the test says. */
export function rawRequest(input: RawRequestInput): Promise<RawResponse> {
  const base = new URL(input.baseUrl);
  return new Promise((done, fail) => {
    const headers: Record<string, string> = { ...input.headers };
    if (input.body !== undefined && !input.chunked && !hasHeader(headers, 'content-length')) {
      headers['content-length'] = String(Buffer.byteLength(input.body));
    }
    const req = httpRequest(
      { host: base.hostname, port: base.port, method: input.method, path: input.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          done({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', fail);
    if (input.body !== undefined) req.write(input.body);
    req.end();
  });
}

function hasHeader(headers: Readonly<Record<string, string>>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** Options of {@link acsRequest}. */
export interface AcsRequestInput {
  /** JSON-serialised into the body. */
  readonly json?: unknown;
  /** Raw body (wins over `json`). */
  readonly body?: string | Buffer;
  /** Extra headers; they override the signed ones (to tamper). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Headers to leave out after signing. */
  readonly omit?: readonly string[];
  /** Sign with this key instead of the target's. */
  readonly accessKey?: string;
  /** Sign with this date. */
  readonly date?: string;
  /** Sign with this host instead of the one connected to. */
  readonly signHost?: string;
  /** Sign this path instead of the one sent. */
  readonly signPath?: string;
  /** Sign this body instead of the one sent. */
  readonly signBody?: string;
  /** `x-ms-client-request-id`. */
  readonly requestId?: string;
}

/** Where to send: a server URL and the access key to sign with. */
export interface Target {
  readonly url: string;
  readonly accessKey: string;
}

/** Turns a connection string into a {@link Target}. */
export function targetOf(connectionString: string): Target {
  const { endpoint, accessKey } = parseConnectionString(connectionString);
  return { url: endpoint, accessKey };
}

/** An HMAC-signed request, as an ACS client would send it; every part can be tampered with for negative tests. */
export async function acsRequest(
  target: Target,
  method: string,
  path: string,
  input: AcsRequestInput = {},
): Promise<RawResponse & { readonly signed: SignedHeaders }> {
  const body = input.body ?? (input.json === undefined ? '' : JSON.stringify(input.json));
  const signed = signRequest({
    method,
    pathAndQuery: input.signPath ?? path,
    host: input.signHost ?? new URL(target.url).host,
    body: input.signBody ?? body,
    accessKey: input.accessKey ?? target.accessKey,
    ...(input.date === undefined ? {} : { date: input.date }),
  });
  const headers: Record<string, string> = {
    'x-ms-date': signed.date,
    'x-ms-content-sha256': signed.contentHash,
    authorization: signed.authorization,
  };
  if (body !== '') headers['content-type'] = 'application/json';
  if (input.requestId !== undefined) headers['x-ms-client-request-id'] = input.requestId;
  Object.assign(headers, input.headers);
  for (const name of input.omit ?? []) delete headers[name];
  const response = await rawRequest({
    baseUrl: target.url,
    method,
    path,
    headers,
    ...(body === '' ? {} : { body }),
  });
  return { ...response, signed };
}

/** `/identities/<encoded id><suffix>?api-version=<v>`, as the SDK encodes the id. */
export function identityPath(id: string, suffix = '', apiVersion: string = SDK_API_VERSION): string {
  return `/identities/${encodeURIComponent(id)}${suffix}?api-version=${apiVersion}`;
}

/** The error body of a response, asserting its shape loosely. */
export function errorOf(response: RawResponse): WireErrorBody['error'] {
  const body = response.json as WireErrorBody | undefined;
  if (body === undefined || typeof body !== 'object' || body.error === undefined) {
    throw new Error(`expected an ACS error body, got ${response.status} ${response.text.slice(0, 200)}`);
  }
  return body.error;
}

/** True when a body looks like it carries a JS stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\bat [\w.<>]+ \(|\bat (?:file|node):|\.(?:ts|js):\d+:\d+/.test(text);
}

// ---------------------------------------------------------------------------------------------------------------
// identity operations over raw HTTP

/** Identity result of create. */
export interface CreatedIdentity {
  identity: { id: string; customId?: string; lastTokenIssuedAt?: string };
  accessToken?: { token: string; expiresOn: string };
}

/** POST /identities, asserting 201. */
export async function createIdentity(
  target: Target,
  body: unknown = undefined,
  apiVersion: string = SDK_API_VERSION,
): Promise<CreatedIdentity> {
  const res = await acsRequest(target, 'POST', `/identities?api-version=${apiVersion}`, { json: body });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.json as CreatedIdentity;
}

/** POST /identities/{id}/:issueAccessToken, asserting 200. */
export async function issueToken(
  target: Target,
  id: string,
  scopes: readonly string[] = ['chat'],
  apiVersion: string = SDK_API_VERSION,
): Promise<{ token: string; expiresOn: string }> {
  const res = await acsRequest(target, 'POST', identityPath(id, '/:issueAccessToken', apiVersion), {
    json: { scopes },
  });
  if (res.status !== 200) throw new Error(`issue failed: ${res.status} ${res.text}`);
  return res.json as { token: string; expiresOn: string };
}

/** Introspection answer. */
export type Introspection =
  | { active: true; sub: string; scope: string; exp: number; iat: number; jti: string }
  | { active: false; reason: string };

/** POST /tokens/:introspect, asserting 200. */
export async function introspect(target: Target, token: string): Promise<Introspection> {
  const res = await acsRequest(target, 'POST', '/tokens/:introspect', { json: { token } });
  if (res.status !== 200) throw new Error(`introspect failed: ${res.status} ${res.text}`);
  return res.json as Introspection;
}

// ---------------------------------------------------------------------------------------------------------------
// tokens

/** Decodes a token with core's decodeJwt (no verification). */
export function decodeToken(token: string): DecodedJwt {
  return decodeJwt(token);
}

/** The public JWKS of a server. */
export interface Jwks {
  keys: Array<{ kty: string; crv: string; x: string; y: string; kid: string; alg: string; use: string }>;
}

/** GET /.well-known/jwks.json (no auth). */
export async function fetchJwks(baseUrl: string): Promise<Jwks> {
  const res = await rawRequest({ baseUrl, method: 'GET', path: '/.well-known/jwks.json' });
  if (res.status !== 200) throw new Error(`jwks: ${res.status}`);
  return res.json as Jwks;
}

/** Verifies a token's ES256 signature against the server's published JWKS (by kid). */
export function verifiesAgainstJwks(token: string, jwks: Jwks): boolean {
  const decoded = decodeJwt(token);
  const jwk = jwks.keys.find((k) => k.kid === decoded.header.kid);
  if (jwk === undefined) return false;
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
  return verifySignature(
    'sha256',
    Buffer.from(decoded.signingInput),
    { key, dsaEncoding: 'ieee-p1363' },
    decoded.signature,
  );
}

/** Re-encodes a token with a changed payload and the original signature. */
export function tamperPayload(token: string, change: (payload: Record<string, unknown>) => void): string {
  const [h = '', p = '', s = ''] = token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(payload);
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

// ---------------------------------------------------------------------------------------------------------------
// child processes

/** A spawned CLI process whose output is captured line by line. */
export interface Spawned {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** All stdout so far. */
  stdout(): string;
  /** All stderr so far. */
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout (already seen or future); rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the process if it is still running and waits for it. */
  kill(): Promise<void>;
}

/** The parent's env without any TESSERA_* variable, plus `env`. */
export function cleanEnv(env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) out[k] = v;
  return { ...out, ...env };
}

/** Every child still running, so a failed or timed-out test cannot leak a server process. */
const running = new Set<ChildProcessByStdio<Writable, Readable, Readable>>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * SIGKILLs every CLI process this worker spawned that is still running — each is registered the moment it is
 * spawned, so siblings of a spawn that failed (a rejected `Promise.all`) are covered too. Call from `afterAll`.
 */
export async function killAllSpawned(): Promise<void> {
  const waits = [...running].map((child) => new Promise((done) => child.once('close', done)));
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(waits);
}

/** Spawns `node packages/cli/dist/bin.js ...args` from the repo root. */
export function spawnCli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Spawned {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  let out = '';
  let err = '';
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
    for (const l of listeners) l();
  });
  child.stderr.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      for (const l of listeners) l();
      done(exitInfo);
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 15_000) {
      return new Promise((done, fail) => {
        const check = () => {
          const m = out.match(pattern);
          if (m !== null) {
            finish();
            done(m);
          } else if (exitInfo !== undefined) {
            finish();
            fail(new Error(`process exited (${JSON.stringify(exitInfo)}) before ${pattern}; stderr: ${err}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          fail(new Error(`timed out waiting for ${pattern}; stdout: ${out.slice(-500)}; stderr: ${err.slice(-500)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill() {
      if (exitInfo === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, env);
  p.child.stdin.end();
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** A `tessera serve` process after it printed its connection string. */
export interface ServeProcess extends Spawned {
  readonly connectionString: string;
  readonly url: string;
  readonly accessKey: string;
  readonly resourceId: string;
}

/**
 * Spawns `tessera serve ...args --print-connection-strings` and waits for the banner. The flag makes a restart on an
 * existing store print its connection string too (without it only the first start, which creates the resource, does).
 */
export async function spawnServe(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ServeProcess> {
  const p = spawnCli(['serve', ...args, '--print-connection-strings'], env);
  try {
    const [, resourceId = ''] = await p.waitFor(/^Resource id: ([0-9a-f-]{36})/m);
    const [, connectionString = ''] = await p.waitFor(/^Connection string: (\S+)$/m);
    const { endpoint, accessKey } = parseConnectionString(connectionString);
    return Object.assign(p, { connectionString, url: endpoint, accessKey, resourceId });
  } catch (error) {
    await p.kill();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// misc

/** The seeded PRNG of every fuzz loop (test/support/property-seed.ts). */
export { prng } from '../../../../test/support/property-seed.js';

/** A communication user id of some other resource. */
export const FOREIGN_ID = '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000';

/** `8:acs:<resourceId>_<uuid>` */
export const RAW_ID = /^8:acs:([0-9a-f-]{36})_([0-9a-f-]{36})$/;

/** .NET DateTimeOffset text as the service emits (docs/spec/wire-protocol.md §0.5). */
export const SERVICE_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/;

/** The parts of the SDK's RestError a test looks at (checked by name: the SDK ships CJS and ESM copies of the class). */
export function restErrorOf(error: unknown): {
  statusCode: number | undefined;
  code: string | undefined;
  message: string;
} {
  if (!(error instanceof Error) || error.name !== 'RestError') {
    throw new Error(`expected a RestError, got ${String(error)}`);
  }
  const e = error as Error & { statusCode?: number; code?: string };
  return { statusCode: e.statusCode, code: e.code, message: e.message };
}

/** Polls `check` every 10 ms until it returns true; rejects once `timeoutMs` passed without. Resolves to the elapsed ms. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 10));
  }
}

/** One complete server-sent event. */
export interface ServerSentEvent {
  /** `event:` field, `message` when absent. */
  readonly event: string;
  /** This event's own `id:` field. */
  readonly id: string | undefined;
  /** The `data:` lines joined by newlines. */
  readonly data: string;
  /** `data` parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** Parses the complete events of an event-stream text (a trailing incomplete event is left out). */
export function parseEventStream(text: string): ServerSentEvent[] {
  const blocks = text.split(/\r?\n\r?\n/);
  blocks.pop();
  const events: ServerSentEvent[] = [];
  for (const block of blocks) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const raw = colon < 0 ? '' : line.slice(colon + 1);
      const value = raw.startsWith(' ') ? raw.slice(1) : raw;
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length === 0) continue;
    const joined = data.join('\n');
    let json: unknown;
    try {
      json = JSON.parse(joined);
    } catch {
      json = undefined;
    }
    events.push({ event, id, data: joined, json });
  }
  return events;
}

/** An open server-sent-event stream that keeps collecting until {@link EventStream.close}. */
export interface EventStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** The complete events received so far. */
  events(): ServerSentEvent[];
  /** True once the server ended the response (or it was closed). */
  ended(): boolean;
  /** Resolves once the text so far matches `pattern` or the stream ends; rejects after `timeoutMs`. */
  until(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Hangs up. */
  close(): void;
}

/** GETs an event stream and resolves as soon as the response head arrived, i.e. once the subscription is live. */
export function openEventStream(
  baseUrl: string,
  path: string,
  headers: Readonly<Record<string, string>>,
): Promise<EventStream> {
  const base = new URL(baseUrl);
  return new Promise((done, fail) => {
    let closed = false;
    const req = httpRequest(
      { host: base.hostname, port: base.port, method: 'GET', path, headers, agent: false },
      (res) => {
        let text = '';
        let ended = false;
        const listeners = new Set<() => void>();
        const notify = () => {
          for (const listener of listeners) listener();
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          notify();
        });
        const end = () => {
          ended = true;
          notify();
        };
        res.on('end', end);
        res.on('close', end);
        res.on('error', () => undefined);
        done({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: () => text,
          events: () => parseEventStream(text),
          ended: () => ended,
          until(pattern, timeoutMs = 5000) {
            return new Promise((resolved, rejected) => {
              const check = () => {
                if (pattern.test(text) || ended) {
                  finish();
                  resolved();
                }
              };
              const timer = setTimeout(() => {
                finish();
                rejected(new Error(`event stream: timed out; got ${text.slice(0, 300)}`));
              }, timeoutMs);
              const finish = () => {
                clearTimeout(timer);
                listeners.delete(check);
              };
              listeners.add(check);
              check();
            });
          },
          close() {
            closed = true;
            req.destroy();
          },
        });
      },
    );
    req.on('error', (error) => {
      if (!closed) fail(error);
    });
    req.end();
  });
}

/** Opens a server-sent-event stream and resolves with its status and text once `until` matches (then hangs up). */
export async function readEventStream(
  baseUrl: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  until: RegExp,
  timeoutMs = 5000,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const stream = await openEventStream(baseUrl, path, headers);
  try {
    await stream.until(until, timeoutMs);
    return { status: stream.status, headers: stream.headers, text: stream.text() };
  } finally {
    stream.close();
  }
}

/** Signed headers for a bodiless GET, for streams read with {@link readEventStream}. */
export function signedGetHeaders(target: Target, path: string): Record<string, string> {
  const signed = signRequest({
    method: 'GET',
    pathAndQuery: path,
    host: new URL(target.url).host,
    body: '',
    accessKey: target.accessKey,
  });
  return {
    'x-ms-date': signed.date,
    'x-ms-content-sha256': signed.contentHash,
    authorization: signed.authorization,
    accept: 'text/event-stream',
  };
}
