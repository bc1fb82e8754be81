// Starting Tessera servers for the bench (CLI process or node:cluster wrapper) and talking to them.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from './proc.mjs';
import { presign } from './signed-requests.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const API_VERSION = '2025-06-30';
/** The V8 settings `npm start` runs the server with (README, `tessera serve`): an 8 MB semi-space. */
export const SERVER_NODE_ARGS = ['--max-semi-space-size=8'];

const READY = /listening on (http:\/\/\S+)[\s\S]*Connection string: (\S+)/;

/**
 * `node <root>/packages/cli/bin/tessera.cjs serve --port 0 --data-dir <dir> --log-level silent --rate-limit off [--store …]`
 * as its own process (`root`: a checkout, default this one; `env`: extra variables). The per-credential rate limiter (ACS-like defaults, ~33 issue/s) is switched off: the bench
 * measures the service, not the limiter. Falls back to no --rate-limit flag on builds that do not know it.
 */
export async function startCliServer({ dataDir, store, extraArgs = [], nodeArgs = [], root = repoRoot, env }) {
  const base = [
    ...SERVER_NODE_ARGS,
    ...nodeArgs,
    join(root, 'packages/cli/bin/tessera.cjs'),
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'silent',
  ];
  if (store) base.push('--store', store);
  const start = (args) => startProcess({ args, env, ready: READY, name: `tessera serve (${root})`, cwd: root });
  let p;
  try {
    p = await start([...base, '--rate-limit', 'off', ...extraArgs]);
  } catch (error) {
    if (!/rate-limit/.test(String(error?.message))) throw error;
    p = await start([...base, ...extraArgs]);
  }
  return { url: p.match[1], connectionString: p.match[2], pids: [p.pid], stop: p.stop, output: p.output };
}

/**
 * `tessera chat-service` of this checkout as its own process on 127.0.0.1 (plain HTTP, silent logging): it verifies
 * tokens of `identityUrl` with `connectionString` (a verifier or full key) and keeps chat in `store` (a PostgreSQL
 * URL) or under `dataDir` (SQLite).
 */
export async function startChatService({ identityUrl, connectionString, dataDir, store }) {
  const p = await startProcess({
    args: [
      join(repoRoot, 'packages/cli/bin/tessera.cjs'),
      'chat-service',
      '--identity-endpoint',
      identityUrl,
      '--connection-string',
      connectionString,
      ...(store === undefined ? ['--data-dir', dataDir] : ['--store', store]),
      '--port',
      '0',
      '--log-level',
      'silent',
    ],
    ready: /chat service listening on (http:\/\/\S+)/,
    name: 'tessera chat-service',
    cwd: repoRoot,
  });
  return { url: p.match[1], pid: p.pid, stop: p.stop };
}

/** N `startServer` workers sharing one port through node:cluster (bench/lib/cluster-serve.mjs). */
export async function startClusterServer({ workers, dataDir, store, masterKey, primaryKey }) {
  const p = await startProcess({
    args: [...SERVER_NODE_ARGS, join(here, 'cluster-serve.mjs')], // cluster.fork passes them on to the workers
    env: {
      BENCH_WORKERS: String(workers),
      BENCH_DATA_DIR: dataDir,
      BENCH_STORE: store,
      BENCH_MASTER_KEY: masterKey,
      BENCH_PRIMARY_KEY: primaryKey,
    },
    ready: /listening on (http:\/\/\S+)[\s\S]*Connection string: (\S+)[\s\S]*pids: ([\d,]+)/,
    name: `cluster x${workers}`,
    cwd: repoRoot,
    timeoutMs: 60_000,
  });
  return {
    url: p.match[1],
    connectionString: p.match[2],
    pids: p.match[3].split(',').map(Number),
    stop: p.stop,
  };
}

/** One plain HTTP request with node:http (no keep-alive); resolves { status, body }. */
export function httpCall(url, { method = 'GET', headers = {}, body = '' } = {}) {
  return new Promise((resolve, reject) => {
    const r = request(
      url,
      { method, headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: false, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      },
    );
    r.on('timeout', () => r.destroy(new Error(`${method} ${url}: timed out`)));
    r.on('error', reject);
    r.end(body);
  });
}

/** One HMAC-signed request; resolves { status, body }. */
export function signedCall({ connectionString, method, path, body = '' }) {
  const [req] = presign({ connectionString, method, path, body, count: 1 });
  const endpoint = connectionString.match(/endpoint=([^;]+)/i)[1];
  return httpCall(new URL(path, endpoint), { method, headers: req.headers, body });
}

/** Creates one identity and returns its raw id. */
export async function createIdentity(connectionString) {
  const res = await signedCall({ connectionString, method: 'POST', path: `/identities?api-version=${API_VERSION}` });
  if (res.status !== 201) throw new Error(`create identity: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return JSON.parse(res.body).identity.id;
}

export const ISSUE_BODY = '{"scopes":["chat","voip"]}';

export function issuePath(identityId) {
  return `/identities/${encodeURIComponent(identityId)}/:issueAccessToken?api-version=${API_VERSION}`;
}

/** Issues one token (sanity check before load); returns { token, expiresOn, responseBytes }. */
export async function issueOnce(connectionString, identityId) {
  const res = await signedCall({ connectionString, method: 'POST', path: issuePath(identityId), body: ISSUE_BODY });
  if (res.status !== 200) throw new Error(`issue token: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return { ...JSON.parse(res.body), responseBytes: Buffer.byteLength(res.body) };
}

/**
 * A `tessera serve` of checkout `root` on a throwaway SQLite directory, one identity, and a pool of pre-signed
 * issue-token requests for it: what the A/B scripts load (`extraArgs`: more `tessera serve` flags). `stop()` also
 * removes the directory.
 */
export async function startIssueTarget({ root = repoRoot, nodeArgs = [], env, extraArgs = [] } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-issue-'));
  try {
    const server = await startCliServer({ dataDir, root, nodeArgs, env, extraArgs });
    const id = await createIdentity(server.connectionString);
    const requests = presign({
      connectionString: server.connectionString,
      method: 'POST',
      path: issuePath(id),
      body: ISSUE_BODY,
    });
    return {
      ...server,
      root,
      requests,
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
