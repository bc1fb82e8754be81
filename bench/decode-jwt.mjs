// decodeJwt micro-benchmark (plain script, not a test): `npx tsc -b && node bench/decode-jwt.mjs`.
//
// Decodes pools of 256 distinct contract-v1 tokens (same header, distinct payloads, 64-byte signature) with
// core's `decodeJwt` and reports the median ops/s over interleaved rounds, one thread. Cases: an ASCII token (the
// common one), a token with a non-ASCII claim (the UTF-8 path), and a malformed payload (the error path).
// `COMPARE=<file>#<export>` adds another decoder with decodeJwt's signature to the same rounds (e.g. an older
// build kept in a temp dir), so before/after numbers come from one run on the same host.
// Env: ROUNDS (7), MS per case per decoder per round (300). Prints a table; writes nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { decodeJwt } from '@tessera/core';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const MS = Number(process.env.MS ?? 300);
const POOL = 256;

const decoders = [['core decodeJwt', decodeJwt]];
if (process.env.COMPARE) {
  const [file = '', name = 'decodeJwt'] = process.env.COMPARE.split('#');
  const mod = await import(pathToFileURL(file).href);
  decoders.push([`COMPARE ${name}`, mod[name]]);
}

// The contract-v1 token of test-vectors/tokens.json, re-issued with a fresh jti, sub and signature per pool entry.
const vector = JSON.parse(readFileSync(new URL('../test-vectors/tokens.json', import.meta.url), 'utf8')).es256;
const [vectorHeader = '', vectorPayload = ''] = vector.token.split('.');
const claims = JSON.parse(Buffer.from(vectorPayload, 'base64url').toString('utf8'));

function token(iss) {
  const payload = { ...claims, iss, jti: randomUUID(), sub: `8:acs:${claims.resourceId}_${randomUUID()}` };
  return `${vectorHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${randomBytes(64).toString('base64url')}`;
}

const pool = (make) => Array.from({ length: POOL }, make);
const cases = [
  ['valid, ASCII', pool(() => token(claims.iss))],
  ['valid, non-ASCII claim', pool(() => token('urn:tëssera:ドメイン'))],
  [
    'malformed payload (throws)',
    pool(() => {
      const [h, , s] = token(claims.iss).split('.');
      return `${h}.${Buffer.from(`{"sub":"${randomUUID()}"`).toString('base64url')}.${s}`;
    }),
  ],
];
console.log(`token length ${cases[0][1][0].length} characters; ${ROUNDS} rounds × ${MS} ms per decoder per case`);

let sink = 0;
function run(decode, tokens) {
  const end = performance.now() + MS;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 64; i++) {
      try {
        sink += decode(tokens[(n + i) % POOL]).signature.length;
      } catch (error) {
        sink += error.code.length;
      }
    }
    n += 64;
  }
  return (n / MS) * 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const [caseName, tokens] of cases) {
  const samples = decoders.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, [, decode]] of decoders.entries()) samples[i].push(run(decode, tokens));
  }
  decoders.forEach(([name], i) => {
    const ops = median(samples[i]);
    rows.push({ case: caseName, decoder: name, 'ops/s': Math.round(ops), 'µs/op': (1e6 / ops).toFixed(2) });
  });
}
console.table(rows);
if (sink === 0) console.log('');
