import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { RoomsClient } from '@azure/communication-rooms';
import { buildStringToSign, formatHmacAuthorization } from '@tessera/core';
import type { Verifier } from '@tessera/verifier';
import Fastify, { type FastifyInstance } from 'fastify';
import { chatPlugin } from '../../src/chat-plugin.js';
import type { RoomsStore } from '../../src/rooms/rooms-store.js';
import { createSqliteChatStore } from '../../src/store/sqlite-chat-store.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A `tessera serve` identity server in its own process (the chat package never imports server code). */
export interface IdentityServer {
  readonly endpoint: string;
  readonly connectionString: string;
  readonly verifierConnectionString: string;
  readonly accessKey: string;
  stop(): Promise<void>;
}

/** Starts `tessera serve --port 0` on a temp data dir with a known primary key and waits for its banner. */
export async function startIdentityServer(): Promise<IdentityServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rooms-id-'));
  const accessKey = randomBytes(32).toString('base64');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_')) env[k] = v;
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'packages/cli/dist/bin.js'),
      'serve',
      '--port',
      '0',
      '--data-dir',
      dir,
      '--primary-key',
      accessKey,
    ],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<void>((done) => child.once('close', () => done()));
  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const cs = /^Connection string: (\S+)$/m.exec(out)?.[1];
    const verifier = /^Verifier \(read-only\) connection string: (\S+)$/m.exec(out)?.[1];
    if (cs !== undefined && verifier !== undefined) {
      const endpoint = /endpoint=([^;]+);/.exec(cs)?.[1] ?? '';
      return { endpoint, connectionString: cs, verifierConnectionString: verifier, accessKey, stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`tessera serve did not start: ${err.slice(-800)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A request signed with an access key exactly as the ACS SDKs sign it (for what the SDK cannot send). */
export async function signedFetch(
  accessKey: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  nowMs: number = Date.now(),
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> | undefined }> {
  const target = new URL(url);
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const hash = createHash('sha256').update(text).digest('base64');
  const date = new Date(nowMs).toUTCString();
  const stringToSign = buildStringToSign({
    method,
    pathAndQuery: `${target.pathname}${target.search}`,
    date,
    host: target.host,
    contentHash: hash,
  });
  const signature = createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign).digest('base64');
  const res = await fetch(target, {
    method,
    headers: {
      ...(text === '' ? {} : { 'content-type': 'application/json' }),
      'x-ms-date': date,
      'x-ms-content-sha256': hash,
      authorization: formatHmacAuthorization(signature),
      ...headers,
    },
    ...(text === '' ? {} : { body: text }),
  });
  const raw = await res.text();
  return { status: res.status, headers: res.headers, json: raw === '' ? undefined : JSON.parse(raw) };
}

/** The chat plugin with rooms, listening on a free port. */
export interface Plane {
  readonly app: FastifyInstance;
  readonly endpoint: string;
  /** The official client, on this plane with the identity server's access key. */
  readonly client: RoomsClient;
  readonly connectionString: string;
}

/**
 * Starts the chat plugin with `rooms` on `store` (as `tessera chat-service` would run it), accepting the identity
 * server's access key; `skewMs` shifts the plane's clock (rooms windows and x-ms-date alike).
 */
export async function startPlane(options: {
  readonly identity: IdentityServer;
  readonly verifier: Verifier;
  readonly store: RoomsStore;
  readonly dir: string;
  readonly skewMs?: number;
}): Promise<Plane> {
  const chatStore = createSqliteChatStore({ path: join(options.dir, `chat-${randomBytes(3).toString('hex')}.db`) });
  await chatStore.migrate();
  const app = Fastify();
  const secret = Buffer.from(options.identity.accessKey, 'base64');
  const skew = options.skewMs ?? 0;
  await app.register(chatPlugin, {
    verifier: options.verifier,
    store: chatStore,
    clock: () => Date.now() + skew,
    rooms: { store: options.store, accessKeys: () => [{ name: 'primary', secret }], pageSize: 3, maxParticipants: 20 },
  });
  app.addHook('onClose', () => chatStore.close());
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const endpoint = `${address}/`;
  const connectionString = `endpoint=${endpoint};accesskey=${options.identity.accessKey}`;
  const client = new RoomsClient(connectionString, { allowInsecureConnection: true });
  return { app, endpoint, client, connectionString };
}
