#!/usr/bin/env node
// JWT signing-algorithm benchmark: ES256 vs EdDSA (Ed25519), RS256 for reference, raw node:crypto.
//
//   node bench/jwt-algorithms.mjs            # after `npx tsc -b` (uses @tessera/core's compiled output)
//   ROUNDS=9 MS=300 node bench/jwt-algorithms.mjs   (defaults: ROUNDS=7, MS=300; ROUNDS >= 5)
//   PIN=0 node bench/jwt-algorithms.mjs      # do not pin to one CPU
//
// What one operation is (per algorithm):
//   prim-sign / prim-verify  the crypto call alone on a fixed Tessera signing input
//   sign                     buildClaims (fresh jti) + encodeSigningInput + sync crypto.sign + assembleJwt
//   sign-async               the same with crypto.sign's callback form (libuv threadpool), 64 in flight
//   verify                   decodeJwt + crypto.verify + parseClaims + checkTokenTimes, round-robin over 256 tokens
// Keys are pre-imported KeyObjects; the header (alg, typ, kid) is fixed. Cases are interleaved, their order
// rotated each round; each figure is the median of ROUNDS rounds of about MS milliseconds.
// By default the process re-executes itself under `taskset -c 0`, so everything (threadpool included) shares
// one core. Writes bench/results/jwt-algorithms.json.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  assembleJwt,
  buildClaims,
  checkTokenTimes,
  decodeJwt,
  encodeSigningInput,
  parseClaims,
  uuidV7,
} from '@tessera/core';

const PIN = process.env.PIN !== '0';
if (PIN && process.env.JWT_BENCH_CHILD !== '1' && existsSync('/usr/bin/taskset')) {
  const child = spawnSync('/usr/bin/taskset', ['-c', '0', process.execPath, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, JWT_BENCH_CHILD: '1' },
  });
  process.exit(child.status ?? 1);
}

const ROUNDS = Math.max(5, Number(process.env.ROUNDS ?? 7));
const MS = Math.max(50, Number(process.env.MS ?? 300));
const IN_FLIGHT = 64;
const started = performance.now();

const RAW_ID = '8:acs:6f1c4f2e-9d3a-4b7e-8c21-5a0b7d3e9f10_0192f3a4-5b6c-7d8e-9f01-23456789abcd';
const NOW_MS = Date.UTC(2026, 0, 1);

const ALGORITHMS = {
  ES256: {
    keys: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    hash: 'sha256',
    wrap: (key) => ({ key, dsaEncoding: 'ieee-p1363' }),
  },
  EdDSA: { keys: () => generateKeyPairSync('ed25519'), hash: null, wrap: (key) => key },
  RS256: {
    keys: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    hash: 'sha256',
    wrap: (key) => key,
  },
};

/** Fresh claims per token, as the server mints them: new jti, access-key reference, 24 h lifetime. */
function claimsFor(i) {
  return buildClaims({
    issuer: 'https://tessera.example.com/',
    audience: 'https://tessera.example.com/communication',
    rawId: RAW_ID,
    scopes: ['chat', 'voip'],
    nowMs: NOW_MS + i,
    lifetimeMinutes: 1440,
    tokenId: uuidV7(NOW_MS + i, randomBytes(10)),
    resourceLocation: 'unitedstates',
    region: 'amer',
    revocationEpoch: 0,
    accessKey: { name: 'primary', version: 1 },
  });
}

function setup(alg) {
  const spec = ALGORITHMS[alg];
  const { privateKey, publicKey } = spec.keys();
  const signKey = spec.wrap(privateKey);
  const verifyKey = spec.wrap(publicKey);
  const header = { alg, typ: 'JWT', kid: `${alg.toLowerCase()}-bench-1` };
  const mint = (i) => {
    const input = encodeSigningInput(header, claimsFor(i));
    return assembleJwt(input, sign(spec.hash, Buffer.from(input), signKey));
  };
  const tokens = Array.from({ length: 256 }, (_, i) => mint(i));
  const fixedInput = Buffer.from(decodeJwt(tokens[0]).signingInput);
  const fixedSignature = decodeJwt(tokens[0]).signature;
  const verifyNow = NOW_MS + 60_000;
  let n = 0;
  return {
    tokenLength: tokens[0].length,
    signatureBytes: fixedSignature.length,
    'prim-sign': () => sign(spec.hash, fixedInput, signKey),
    'prim-verify': () => {
      if (!verify(spec.hash, fixedInput, verifyKey, fixedSignature)) throw new Error('verify failed');
    },
    sign: () => mint(n++),
    'sign-async': (done) => {
      const input = encodeSigningInput(header, claimsFor(n++));
      sign(spec.hash, Buffer.from(input), signKey, (error, signature) => {
        if (error) throw error;
        assembleJwt(input, signature);
        done();
      });
    },
    verify: () => {
      const decoded = decodeJwt(tokens[n++ & 255]);
      if (!verify(spec.hash, Buffer.from(decoded.signingInput), verifyKey, decoded.signature)) {
        throw new Error('verify failed');
      }
      checkTokenTimes(parseClaims(decoded.payload), { nowMs: verifyNow });
    },
  };
}

function runSync(op, ms) {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let ops = 0;
  let now = start;
  do {
    for (let i = 0; i < 16; i++) op();
    ops += 16;
    now = process.hrtime.bigint();
  } while (now < deadline);
  return ops / (Number(now - start) / 1e9);
}

function runAsync(op, ms) {
  return new Promise((resolve) => {
    const start = performance.now();
    const deadline = start + ms;
    let ops = 0;
    let inFlight = 0;
    const done = () => {
      ops++;
      inFlight--;
      if (performance.now() < deadline) {
        inFlight++;
        op(done);
      } else if (inFlight === 0) {
        resolve(ops / ((performance.now() - start) / 1000));
      }
    };
    for (let i = 0; i < IN_FLIGHT; i++) {
      inFlight++;
      op(done);
    }
  });
}

function readSteal() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    return { total: cpu.reduce((a, b) => a + b, 0), steal: cpu[7] ?? 0 };
  } catch {
    return undefined;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const CASES = ['prim-sign', 'sign', 'sign-async', 'prim-verify', 'verify'];
const algs = Object.keys(ALGORITHMS);
const benches = Object.fromEntries(algs.map((alg) => [alg, setup(alg)]));
// The algorithm-independent part of minting: claims with a fresh jti + the base64url signing input.
const assembleHeader = { alg: 'ES256', typ: 'JWT', kid: 'es256-bench-1' };
let assembled = 0;
const assemble = () => encodeSigningInput(assembleHeader, claimsFor(assembled++));
// Cases of one kind sit next to each other (ES256, EdDSA, RS256 back to back), so each round yields a paired
// comparison taken within about a second; whole groups rotate and the algorithm order flips every round.
const groups = [...CASES.map((kase) => algs.map((alg) => ({ alg, kase }))), [{ alg: 'none', kase: 'assemble' }]];
const samples = {};
const record = (item, value) => {
  const key = `${item.alg} ${item.kase}`;
  samples[key] ??= [];
  samples[key].push(value);
};

const measure = ({ alg, kase }, ms) => {
  if (kase === 'assemble') return runSync(assemble, ms);
  return kase === 'sign-async' ? runAsync(benches[alg][kase], ms) : runSync(benches[alg][kase], ms);
};

const stealBefore = readSteal();
for (const group of groups) for (const item of group) await measure(item, Math.min(100, MS)); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const shift = round % groups.length;
  for (const group of [...groups.slice(shift), ...groups.slice(0, shift)]) {
    for (const item of round % 2 === 0 ? group : [...group].reverse()) record(item, await measure(item, MS));
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
}
const stealAfter = readSteal();

const results = Object.fromEntries(
  algs.map((alg) => [
    alg,
    {
      tokenLength: benches[alg].tokenLength,
      signatureBytes: benches[alg].signatureBytes,
      ...Object.fromEntries(
        CASES.map((kase) => {
          const xs = samples[`${alg} ${kase}`];
          return [
            kase,
            {
              median: Math.round(median(xs)),
              min: Math.round(Math.min(...xs)),
              max: Math.round(Math.max(...xs)),
              rounds: xs.map(Math.round),
            },
          ];
        }),
      ),
    },
  ]),
);

// Paired: the ratio within each round (cases measured back to back), then the median over rounds.
const pairedRatio = (a, b, kase) => {
  const xs = samples[`${a} ${kase}`];
  const ys = samples[`${b} ${kase}`];
  return Number(median(xs.map((x, i) => x / ys[i])).toFixed(2));
};
const ratios = Object.fromEntries(
  [
    ['ES256/EdDSA', 'ES256', 'EdDSA'],
    ['ES256/RS256', 'ES256', 'RS256'],
  ].map(([name, a, b]) => [name, Object.fromEntries(CASES.map((kase) => [kase, pairedRatio(a, b, kase)]))]),
);
const assembleSamples = samples['none assemble'];
const assembleResult = {
  median: Math.round(median(assembleSamples)),
  min: Math.round(Math.min(...assembleSamples)),
  max: Math.round(Math.max(...assembleSamples)),
  microsecondsPerToken: Number((1e6 / median(assembleSamples)).toFixed(2)),
  rounds: assembleSamples.map(Math.round),
};

const cpus = os.cpus();
const affinity = spawnSync('/usr/bin/taskset', ['-pc', String(process.pid)], { encoding: 'utf8' }).stdout?.trim();
const machine = {
  cpuModel: cpus[0]?.model ?? 'unknown',
  cpuCount: cpus.length,
  memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  node: process.versions.node,
  openssl: process.versions.openssl,
  v8: process.versions.v8,
  uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
  pinned: process.env.JWT_BENCH_CHILD === '1' ? 'taskset -c 0' : 'no',
  affinity: affinity ?? 'unknown',
  loadavg1mAtEnd: Number(os.loadavg()[0]?.toFixed(2)),
  stealPercentDuringRun:
    stealBefore && stealAfter && stealAfter.total > stealBefore.total
      ? Number((((stealAfter.steal - stealBefore.steal) / (stealAfter.total - stealBefore.total)) * 100).toFixed(1))
      : null,
};

const out = {
  benchmark: 'jwt-algorithms',
  date: new Date().toISOString(),
  command: `ROUNDS=${ROUNDS} MS=${MS} node bench/jwt-algorithms.mjs`,
  unit: 'operations per second, median of rounds',
  rounds: ROUNDS,
  msPerRound: MS,
  asyncInFlight: IN_FLIGHT,
  cases: {
    'prim-sign': 'crypto.sign alone on a fixed Tessera signing input',
    sign: 'buildClaims (fresh jti) + encodeSigningInput + sync crypto.sign + assembleJwt',
    'sign-async': `same as sign with crypto.sign(…, callback) on the libuv threadpool, ${IN_FLIGHT} in flight`,
    'prim-verify': 'crypto.verify alone',
    verify: 'decodeJwt + crypto.verify + parseClaims + checkTokenTimes over 256 distinct tokens',
    assemble: 'algorithm-independent: buildClaims (fresh uuidV7 jti) + encodeSigningInput, no crypto',
  },
  machine,
  results,
  assemble: assembleResult,
  ratios,
  ratiosNote: 'median over rounds of the per-round ratio (paired, measured back to back)',
  runtimeSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
};

const here = dirname(fileURLToPath(import.meta.url));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'jwt-algorithms.json'), `${JSON.stringify(out, null, 2)}\n`);

const fmt = (n) => n.toLocaleString('en-US');
const rows = [['alg', ...CASES, 'token bytes', 'sig bytes']];
for (const alg of algs) {
  rows.push([
    alg,
    ...CASES.map((kase) => fmt(results[alg][kase].median)),
    String(results[alg].tokenLength),
    String(results[alg].signatureBytes),
  ]);
}
for (const [name, r] of Object.entries(ratios)) rows.push([name, ...CASES.map((kase) => `${r[kase]}×`), '', '']);
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
const line = (row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
console.log(
  `\n${machine.cpuModel} × ${machine.cpuCount}, Node ${machine.node}, OpenSSL ${machine.openssl}, pinned: ${machine.pinned}`,
);
console.log(
  `ops/s, median of ${ROUNDS} rounds × ${MS} ms${machine.stealPercentDuringRun === null ? '' : `, steal ${machine.stealPercentDuringRun}%`}\n`,
);
console.log(line(rows[0]));
for (const row of rows.slice(1)) console.log(line(row));
console.log('(ratios are paired: the median over rounds of the per-round ratio)');
console.log(
  `\nassemble (claims + signing input, no crypto): ${fmt(assembleResult.median)} ops/s = ${assembleResult.microsecondsPerToken} µs/token`,
);
console.log(`\nwrote ${join(here, 'results', 'jwt-algorithms.json')} in ${out.runtimeSeconds} s`);
