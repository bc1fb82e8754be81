// Verifier benchmark (plain script, not a test): `npm run build && node bench/verify.mjs`.
//
// 1. Offline verify throughput on one thread, interleaved rounds, median reported:
//    - raw node:crypto ES256 verify (pre-imported KeyObject, pre-encoded bytes): the ceiling; and the same starting
//      from the token string (split, signing input to bytes, base64url signature) for context;
//    - the floor of any verifier (split, base64url-decode and JSON.parse the payload, verify) and a peer, jose's
//      jwtVerify with a KeyObject, for context;
//    - fresh verify (cache off) through @tessera/verifier with the node:crypto fast path and with WebCrypto
//      (sequential, and 64 in flight: WebCrypto runs on the libuv threadpool, so it can use the other core);
//    - cached verify: the same token strings, and a fresh copy of the string per call (as a header parse gives);
//    - the cache key, each on a fresh string: Map lookup by the full token, by its last CACHE_KEY_CHARS characters
//      (then comparing the whole token: what the cache does), and by a SHA-256 of the token.
//    Every verifier case runs with the revocation feed on (a fake in-process feed with heartbeats), so each
//    cached hit pays the revocation-state lookup.
// 2. Revocation propagation against a real identity server (startServer, SQLite, in this process): for each of
//    N identities (official @azure/communication-identity client), time from `revokeTokens()` returning until
//    `verifier.verify(token)` rejects with ERR_TOKEN_REVOKED. p50/p99/max.
// Env: ROUNDS (5), MS per case per round (500), PAIRS (15) and SLICE ms (150) for the ratios, REVOCATIONS (300).
// About 45 s on a 2-core machine.
// Prints a table; writes bench/results/verify.json.
import { generateKeyPairSync, createHash, randomUUID, sign, verify as nodeVerify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { jwtVerify } from 'jose';
import { assembleJwt, base64ToBytes, buildClaims, encodeSigningInput, formatRawId, toLowS } from '@tessera/core';
import { startServer } from '@tessera/server';
import { CACHE_KEY_CHARS, createVerifier } from '@tessera/verifier';
import { createNodeVerifier, nodeSignatureVerifier } from '@tessera/verifier/node';
import { machineInfo } from './lib/machine.mjs';
import { percentile } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const MS = Number(process.env.MS ?? 500);
const REVOCATIONS = Number(process.env.REVOCATIONS ?? 300);
const PAIRS = Number(process.env.PAIRS ?? 15);
const SLICE = Number(process.env.SLICE ?? 150);

const ISSUER = 'urn:tessera:bench';
const AUDIENCE = 'urn:tessera:user-access';
const RESOURCE = randomUUID();
const KID = 'bench-key-1';

// ---------------------------------------------------------------------------------------------------------------
// Tokens and a fake identity server (JWKS + SSE feed) behind an injected fetch.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, alg: 'ES256', use: 'sig' };

function mint() {
  const claims = buildClaims({
    issuer: ISSUER,
    audience: AUDIENCE,
    rawId: formatRawId(RESOURCE, randomUUID()),
    scopes: ['chat', 'voip'],
    nowMs: Date.now(),
    lifetimeMinutes: 1440,
    tokenId: randomUUID(),
    resourceLocation: 'unitedstates',
    region: 'amer',
    revocationEpoch: 0,
    accessKey: { name: 'primary', version: 1 },
  });
  const input = encodeSigningInput({ alg: 'ES256', typ: 'JWT', kid: KID }, claims);
  // Low-S, as the server signs (token contract version 2 refuses high-S).
  return assembleJwt(input, toLowS(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })));
}

const tokens = Array.from({ length: 256 }, mint);
const tokenBytes = tokens[0].length;

const feeds = new Set();
function fakeFetch(url, init) {
  if (url.endsWith('/.well-known/jwks.json')) return Promise.resolve(Response.json({ keys: [jwk] }));
  if (url.endsWith('/revocations')) {
    const enc = new TextEncoder();
    let timer;
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(
          enc.encode(`id: 0\nevent: snapshot\ndata: {"seq":0,"identities":[],"keys":{"primary":1,"secondary":1}}\n\n`),
        );
        timer = setInterval(
          () => c.enqueue(enc.encode(`event: heartbeat\ndata: {"seq":0,"at":${Date.now()}}\n\n`)),
          1000,
        );
        feeds.add(timer);
        init?.signal?.addEventListener('abort', () => {
          clearInterval(timer);
          c.error(new DOMException('aborted', 'AbortError'));
        });
      },
      cancel() {
        clearInterval(timer);
      },
    });
    return Promise.resolve(new Response(stream, { headers: { 'content-type': 'text/event-stream' } }));
  }
  return Promise.resolve(new Response('not found', { status: 404 }));
}

const FAKE_CS = `endpoint=http://bench.invalid/;accesskey=${Buffer.alloc(32, 7).toString('base64')}`;
function benchVerifier(extra) {
  return createVerifier({ connectionString: FAKE_CS, issuer: ISSUER, audience: AUDIENCE, fetch: fakeFetch, ...extra });
}

// ---------------------------------------------------------------------------------------------------------------
// Measurement helpers.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = percentile;
const round = (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

function syncRate(fn, ms) {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 256; k++) fn(n++);
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

async function asyncRate(fn, ms) {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 256; k++) await fn(n++);
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

async function concurrentRate(fn, ms, inFlight) {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    while (performance.now() < end) await fn(n++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return (n * 1000) / (performance.now() - start);
}

// Fresh string objects with the token's content: no cached hash, like a freshly parsed header.
const freshCopy = (t) => Buffer.from(t, 'latin1').toString('latin1');

// ---------------------------------------------------------------------------------------------------------------
// Part 1: throughput.
const rawKey = publicKey;
const rawData = tokens.map((t) => Buffer.from(t.slice(0, t.lastIndexOf('.')), 'latin1'));
const rawSigs = tokens.map((t) => Buffer.from(base64ToBytes(t.slice(t.lastIndexOf('.') + 1))));
const rawOpts = { key: rawKey, dsaEncoding: 'ieee-p1363' };

const vNodeFresh = benchVerifier({ signatureVerifier: nodeSignatureVerifier(), cache: false });
const vWebFresh = benchVerifier({ cache: false });
const vNodeCached = benchVerifier({ signatureVerifier: nodeSignatureVerifier() });
const all = [vNodeFresh, vWebFresh, vNodeCached];
await Promise.all(all.map((v) => v.ready()));
for (const t of tokens) await vNodeCached.verify(t);

const keyMap = new Map(tokens.map((t) => [t, 1]));
const suffixMap = new Map(tokens.map((t) => [t.slice(-CACHE_KEY_CHARS), t]));
const hashMap = new Map(tokens.map((t) => [createHash('sha256').update(t).digest('base64'), 1]));

// Raw verification starting from the token string: split, signing input and signature to bytes, and with
// `parsePayload` also base64url-decode and JSON.parse the payload.
function verifyTokenString(t, parsePayload) {
  const dot = t.lastIndexOf('.');
  if (parsePayload) JSON.parse(Buffer.from(t.slice(t.indexOf('.') + 1, dot), 'base64url').toString('utf8'));
  return nodeVerify(
    'sha256',
    Buffer.from(t.slice(0, dot), 'latin1'),
    rawOpts,
    Buffer.from(t.slice(dot + 1), 'base64url'),
  );
}

const cases = {
  rawNodeCrypto: (ms = MS) => syncRate((i) => nodeVerify('sha256', rawData[i & 255], rawOpts, rawSigs[i & 255]), ms),
  rawFromTokenString: (ms = MS) => syncRate((i) => verifyTokenString(tokens[i & 255], false), ms),
  // The least any JWT verifier does: split, decode and parse the payload, check the signature. No claim checks.
  floorDecodeParseVerify: (ms = MS) => syncRate((i) => verifyTokenString(tokens[i & 255], true), ms),
  // A peer: jose's jwtVerify with a node:crypto KeyObject (issuer, audience, times; no revocation).
  joseJwtVerify: (ms = MS) =>
    asyncRate(
      (i) => jwtVerify(tokens[i & 255], rawKey, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] }),
      ms,
    ),
  freshNode: (ms = MS) => asyncRate((i) => vNodeFresh.verify(tokens[i & 255]), ms),
  freshWebCrypto: (ms = MS) => asyncRate((i) => vWebFresh.verify(tokens[i & 255]), ms),
  freshWebCrypto64: (ms = MS) => concurrentRate((i) => vWebFresh.verify(tokens[i & 255]), ms, 64),
  cachedSameString: (ms = MS) => asyncRate((i) => vNodeCached.verify(tokens[i & 255]), ms),
  cachedFreshString: (ms = MS) => asyncRate((i) => vNodeCached.verify(freshCopy(tokens[i & 255])), ms),
  stringCopyOnly: (ms = MS) => syncRate((i) => freshCopy(tokens[i & 255]), ms),
  keyFullString: (ms = MS) => syncRate((i) => keyMap.get(freshCopy(tokens[i & 255])), ms),
  keySuffix: (ms = MS) =>
    syncRate((i) => {
      const t = freshCopy(tokens[i & 255]);
      return suffixMap.get(t.slice(-CACHE_KEY_CHARS)) === t;
    }, ms),
  keySha256: (ms = MS) =>
    syncRate(
      (i) =>
        hashMap.get(
          createHash('sha256')
            .update(freshCopy(tokens[i & 255]))
            .digest('base64'),
        ),
      ms,
    ),
};

// Warm-up, then interleaved rounds.
for (const run of Object.values(cases)) await run(200);
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(cases)) samples[name].push(await run());
}
const rate = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, round(median(xs))]));

// Ratios against raw crypto, robust to a noisy host: PAIRS short back-to-back slices of raw and candidate (order
// alternating), one ratio per pair, median of the ratios.
async function pairedRatio(candidate) {
  const ratios = [];
  for (let i = 0; i < PAIRS; i++) {
    let raw;
    let cand;
    if (i % 2 === 0) {
      raw = await cases.rawNodeCrypto(SLICE);
      cand = await candidate(SLICE);
    } else {
      cand = await candidate(SLICE);
      raw = await cases.rawNodeCrypto(SLICE);
    }
    ratios.push(cand / raw);
  }
  return round(median(ratios), 3);
}
const paired = {
  freshNodeVsRaw: await pairedRatio(cases.freshNode),
  floorVsRaw: await pairedRatio(cases.floorDecodeParseVerify),
  joseVsRaw: await pairedRatio(cases.joseJwtVerify),
  freshWebCryptoVsRaw: await pairedRatio(cases.freshWebCrypto),
  freshWebCrypto64VsRaw: await pairedRatio(cases.freshWebCrypto64),
};
for (const v of all) await v.close();
for (const t of feeds) clearInterval(t);

// ---------------------------------------------------------------------------------------------------------------
// Part 2: revocation propagation against a real server.
const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-verify-'));
const server = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', rateLimit: 'off' });
const propagation = [];
const sendToReject = [];
let heartbeatStatus;
try {
  const client = new CommunicationIdentityClient(server.connectionString, { allowInsecureConnection: true });
  const verifier = createNodeVerifier({ connectionString: server.verifierConnectionString });
  await verifier.ready();
  const users = [];
  for (let i = 0; i < REVOCATIONS; i++) {
    const { user, token } = await client.createUserAndToken(['chat']);
    await verifier.verify(token); // cached: the rejection must come from the revocation state, not a re-verify
    users.push({ user, token });
  }
  for (const { user, token } of users) {
    const sent = performance.now();
    await client.revokeTokens(user);
    const returned = performance.now();
    for (;;) {
      try {
        await verifier.verify(token);
      } catch (error) {
        if (error.code !== 'ERR_TOKEN_REVOKED') throw error;
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const rejected = performance.now();
    propagation.push(rejected - returned);
    sendToReject.push(rejected - sent);
  }
  heartbeatStatus = verifier.status();
  await verifier.close();
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Report.
const ms2 = (x) => round(x, 2);
const result = {
  machine: machineInfo(),
  settings: { rounds: ROUNDS, msPerCase: MS, pairs: PAIRS, sliceMs: SLICE, tokenBytes, revocations: REVOCATIONS },
  loadAverage: os.loadavg().map((x) => round(x, 2)),
  opsPerSecond: rate,
  // Median over PAIRS back-to-back slices (see pairedRatio), not the ratio of the medians above.
  ratios: paired,
  propagationMs: {
    fromRevokeReturned: {
      p50: ms2(pct(propagation, 50)),
      p99: ms2(pct(propagation, 99)),
      max: ms2(Math.max(...propagation)),
    },
    fromRevokeSent: { p50: ms2(pct(sendToReject, 50)), p99: ms2(pct(sendToReject, 99)) },
    samples: propagation.length,
  },
  feedStatusAtEnd: heartbeatStatus,
  targets: {
    cachedAtLeast1M: rate.cachedSameString >= 1_000_000,
    freshAtLeast90PctOfRaw: paired.freshNodeVsRaw >= 0.9,
    propagationP99Under100ms: pct(propagation, 99) < 100,
  },
};

const rows = [
  ['raw node:crypto ES256 verify (ceiling)', rate.rawNodeCrypto, '1.000'],
  ['  raw, from the token string (split, decode)', rate.rawFromTokenString, ''],
  ['  floor: split, decode + parse payload, verify', rate.floorDecodeParseVerify, result.ratios.floorVsRaw.toFixed(3)],
  ['  peer: jose jwtVerify (KeyObject)', rate.joseJwtVerify, result.ratios.joseVsRaw.toFixed(3)],
  ['fresh verify, node:crypto fast path', rate.freshNode, result.ratios.freshNodeVsRaw.toFixed(3)],
  ['fresh verify, WebCrypto, sequential', rate.freshWebCrypto, result.ratios.freshWebCryptoVsRaw.toFixed(3)],
  ['fresh verify, WebCrypto, 64 in flight', rate.freshWebCrypto64, result.ratios.freshWebCrypto64VsRaw.toFixed(3)],
  ['cached verify, same string', rate.cachedSameString, ''],
  ['cached verify, fresh string copy per call', rate.cachedFreshString, ''],
  ['  (string copy alone)', rate.stringCopyOnly, ''],
  ['cache key: Map.get(full token), fresh string', rate.keyFullString, ''],
  [`cache key: last ${CACHE_KEY_CHARS} chars + full compare (used)`, rate.keySuffix, ''],
  ['cache key: Map.get(sha256(token)), fresh string', rate.keySha256, ''],
];
const m = result.machine;
console.log(`\n@tessera/verifier bench — ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, OpenSSL ${m.openssl}`);
console.log(
  `token ${tokenBytes} bytes; ${ROUNDS} interleaved rounds × ${MS} ms per case, median; "vs raw" = median of ` +
    `${PAIRS} back-to-back ${SLICE} ms pairs; load average ${result.loadAverage.join(' ')}\n`,
);
console.log(`${'case'.padEnd(46)} ${'ops/s'.padStart(12)}  vs raw`);
for (const [name, ops, ratio] of rows) {
  console.log(`${name.padEnd(46)} ${Math.round(ops).toLocaleString('en-US').padStart(12)}  ${ratio}`);
}
const p = result.propagationMs;
console.log(
  `\nrevocation propagation over ${p.samples} revocations (real server, SSE feed): ` +
    `p50 ${p.fromRevokeReturned.p50} ms, p99 ${p.fromRevokeReturned.p99} ms, max ${p.fromRevokeReturned.max} ms ` +
    `(from revokeTokens() returning; from sending: p50 ${p.fromRevokeSent.p50} ms, p99 ${p.fromRevokeSent.p99} ms)`,
);
console.log('targets:', result.targets);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'verify.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('wrote bench/results/verify.json');
