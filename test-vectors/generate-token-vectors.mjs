#!/usr/bin/env node
// Regenerates test-vectors/tokens.json. Uses node:crypto and Buffer only — never @tessera/core — so the
// vectors stay an independent statement of the token contract (version 2: version 1's claims, low-S signature).
//
//   node test-vectors/generate-token-vectors.mjs                 # rewrite tokens.json, keep the stored ES256 key+token
//   node test-vectors/generate-token-vectors.mjs --new-es256-key # also mint a fresh ES256 key pair and token
//
// The ES256 token was generated once: a P-256 key pair from node:crypto, the public JWK stored (with
// kid = its RFC 7638 thumbprint), the private key discarded. It is kept across runs unless --new-es256-key
// is given or the claims of its source case change.
import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outPath = join(here, 'tokens.json');

const RESOURCE_ID = '6f1c4f2e-9d3a-4b7e-8c21-5a0b7d3e9f10';
const USER_ID = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';
const RAW_ID = `8:acs:${RESOURCE_ID}_${USER_ID}`;
const ISSUER = 'https://tessera.example.com/';
const AUDIENCE = 'https://tessera.example.com/communication';
// 2026-01-01T00:00:00.123Z — the frozen clock of every case unless stated.
const NOW_MS = 1767225600123;
const IAT = 1767225600;

const b64u = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jsonPart = (value) => b64u(JSON.stringify(value));

/** Claims in the order buildClaims emits them (the order is part of the byte-exact ES256 vector). */
function claims({ jti, iat, exp, scopes, location, region, rev, akv }) {
  const c = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: RAW_ID,
    jti,
    iat,
    nbf: iat,
    exp,
    skypeid: RAW_ID.slice(2),
    scp: 1792,
    csi: String(iat),
    acsScope: scopes.join(','),
    resourceId: RESOURCE_ID,
    resourceLocation: location,
    rgn: region,
    tsv: 2,
    rev,
  };
  return akv === undefined ? c : { ...c, akv };
}

const baseInput = {
  issuer: ISSUER,
  audience: AUDIENCE,
  rawId: RAW_ID,
  resourceLocation: 'unitedstates',
  region: 'amer',
};

const buildClaims = [
  {
    name: 'access-key minted, default lifetime (1440 minutes)',
    input: {
      ...baseInput,
      scopes: ['chat', 'voip'],
      nowMs: NOW_MS,
      lifetimeMinutes: 1440,
      tokenId: '019b76da-a87b-7c3e-9a41-5e2f0c1d7b88',
      revocationEpoch: 0,
      accessKey: { name: 'primary', version: 3 },
    },
    expected: claims({
      jti: '019b76da-a87b-7c3e-9a41-5e2f0c1d7b88',
      iat: IAT,
      exp: IAT + 1440 * 60,
      scopes: ['chat', 'voip'],
      location: 'unitedstates',
      region: 'amer',
      rev: 0,
      akv: 'primary.3',
    }),
  },
  {
    name: 'bearer (Entra/OIDC) minted: no akv; shortest lifetime; all five scopes kept in request order',
    input: {
      ...baseInput,
      scopes: ['voip', 'chat', 'chat.join', 'chat.join.limited', 'voip.join'],
      nowMs: NOW_MS,
      lifetimeMinutes: 60,
      tokenId: '019b76da-a87b-7c3e-9a41-5e2f0c1d7b89',
      revocationEpoch: 4,
    },
    expected: claims({
      jti: '019b76da-a87b-7c3e-9a41-5e2f0c1d7b89',
      iat: IAT,
      exp: IAT + 3600,
      scopes: ['voip', 'chat', 'chat.join', 'chat.join.limited', 'voip.join'],
      location: 'unitedstates',
      region: 'amer',
      rev: 4,
    }),
  },
  {
    name: 'a clock at .999 s floors iat (and csi, nbf) to the whole second',
    input: {
      ...baseInput,
      scopes: ['chat.join.limited'],
      nowMs: 1767225600999,
      lifetimeMinutes: 61,
      tokenId: 'token-3',
      revocationEpoch: 0,
      accessKey: { name: 'secondary', version: 12 },
    },
    expected: claims({
      jti: 'token-3',
      iat: IAT,
      exp: IAT + 61 * 60,
      scopes: ['chat.join.limited'],
      location: 'unitedstates',
      region: 'amer',
      rev: 0,
      akv: 'secondary.12',
    }),
  },
  {
    name: 'expiresAt overrides the lifetime (an exchange inheriting the external token expiry)',
    input: {
      ...baseInput,
      resourceLocation: 'europe',
      region: 'emea',
      scopes: ['voip'],
      nowMs: NOW_MS + 1000,
      lifetimeMinutes: 1440,
      expiresAt: IAT + 1 + 3599,
      tokenId: 'token-4',
      revocationEpoch: 2,
    },
    expected: claims({
      jti: 'token-4',
      iat: IAT + 1,
      exp: IAT + 3600,
      scopes: ['voip'],
      location: 'europe',
      region: 'emea',
      rev: 2,
    }),
  },
];

const valid = buildClaims[0].expected;

// parseClaims: a valid payload with one change → the error code. Each case changes exactly one claim.
const requiredClaims = Object.keys(valid).filter((k) => k !== 'akv');
const parseClaimsInvalid = [
  ...requiredClaims.map((k) => ({
    name: `'${k}' missing`,
    remove: [k],
    code: 'ERR_TOKEN_MALFORMED',
  })),
  { name: "'iss' empty string", set: { iss: '' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'aud' is an array", set: { aud: [AUDIENCE] }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'sub' not a communication user id", set: { sub: 'alice' }, code: 'ERR_TOKEN_MALFORMED' },
  {
    name: "'sub' is a Teams user id",
    set: { sub: '8:orgid:0192f3a4-5b6c-7d8e-9f01-23456789abcd' },
    code: 'ERR_TOKEN_MALFORMED',
  },
  { name: "'jti' is a number", set: { jti: 7 }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'iat' is a numeric string", set: { iat: String(IAT) }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'iat' is fractional", set: { iat: IAT + 0.5 }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'exp' beyond safe integers", set: { exp: 2 ** 53 }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'nbf' is null", set: { nbf: null }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'scp' is a string", set: { scp: '1792' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'csi' is a number", set: { csi: IAT }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'acsScope' empty", set: { acsScope: '' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'acsScope' holds an unknown scope", set: { acsScope: 'chat,admin' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'acsScope' has an empty item", set: { acsScope: 'chat,,voip' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'acsScope' is an array", set: { acsScope: ['chat'] }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'resourceId' is a number", set: { resourceId: 1 }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'rgn' is boolean", set: { rgn: true }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'rev' is a string", set: { rev: '0' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'akv' without a version", set: { akv: 'primary' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'akv' names an unknown key", set: { akv: 'tertiary.1' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'akv' is a number", set: { akv: 3 }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'akv' is null", set: { akv: null }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'tsv' is a string", set: { tsv: '1' }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'tsv' is null", set: { tsv: null }, code: 'ERR_TOKEN_MALFORMED' },
  { name: "'tsv' is 3 (a future contract)", set: { tsv: 3 }, code: 'ERR_TOKEN_UNSUPPORTED_VERSION' },
  { name: "'tsv' is 0", set: { tsv: 0 }, code: 'ERR_TOKEN_UNSUPPORTED_VERSION' },
];

// decodeJwt: inputs that must be refused with ERR_TOKEN_MALFORMED before any signature check.
const H = jsonPart({ alg: 'ES256', typ: 'JWT', kid: 'k1' });
const P = jsonPart({ sub: RAW_ID });
const S = b64u('sig-bytes');
const longPayload = (length) => {
  const fixed = `${H}..${S}`.length;
  // base64url of '{"pad":"xxx…"}' grows 4 chars per 3 bytes; pick the pad so the token is exactly `length` long.
  for (let n = 0; ; n++) {
    const p = jsonPart({ pad: 'x'.repeat(n) });
    if (fixed + p.length === length) return `${H}.${p}.${S}`;
    if (fixed + p.length > length) throw new Error(`cannot hit ${length}`);
  }
};
const decodeJwtMalformed = [
  { name: 'empty string', token: '' },
  { name: 'not a string (number)', token: 42 },
  { name: 'not a string (null)', token: null },
  { name: 'one part', token: H },
  { name: 'two parts', token: `${H}.${P}` },
  { name: 'four parts', token: `${H}.${P}.${S}.${S}` },
  { name: 'header has a character outside base64url', token: `${H}*.${P}.${S}` },
  { name: 'header of impossible base64 length (4n+1 characters)', token: `${b64u('{"alg":"ES256"}')}A.${P}.${S}` },
  { name: 'header is not JSON', token: `${b64u('not json')}.${P}.${S}` },
  { name: 'header is a JSON array', token: `${b64u('[]')}.${P}.${S}` },
  { name: 'header is JSON null', token: `${b64u('null')}.${P}.${S}` },
  { name: 'header has no alg', token: `${jsonPart({ typ: 'JWT' })}.${P}.${S}` },
  { name: 'header alg is not a string', token: `${jsonPart({ alg: 256 })}.${P}.${S}` },
  { name: 'header kid is not a string', token: `${jsonPart({ alg: 'ES256', kid: 7 })}.${P}.${S}` },
  { name: 'empty header', token: `.${P}.${S}` },
  // RFC 7515 §4.1.11: a `crit` the verifier does not understand (Tessera understands none) must be rejected.
  {
    name: 'header has crit naming an extension',
    token: `${jsonPart({ alg: 'ES256', kid: 'k1', crit: ['exp'], exp: 1 })}.${P}.${S}`,
  },
  { name: 'header has an empty crit', token: `${jsonPart({ alg: 'ES256', kid: 'k1', crit: [] })}.${P}.${S}` },
  {
    name: 'header has crit naming b64',
    token: `${jsonPart({ alg: 'ES256', kid: 'k1', b64: false, crit: ['b64'] })}.${P}.${S}`,
  },
  { name: 'payload is not valid UTF-8', token: `${H}.${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url')}.${S}` },
  { name: 'payload is not JSON', token: `${H}.${b64u('{"sub":')}.${S}` },
  { name: 'payload is a JSON string', token: `${H}.${b64u('"x"')}.${S}` },
  { name: 'payload is a JSON array', token: `${H}.${b64u('[1]')}.${S}` },
  { name: 'empty payload', token: `${H}..${S}` },
  { name: 'empty signature', token: `${H}.${P}.` },
  { name: 'signature has a character outside base64url', token: `${H}.${P}.${S}!` },
  { name: 'leading whitespace', token: ` ${H}.${P}.${S}` },
  { name: 'longer than MAX_TOKEN_LENGTH (8193 characters)', token: longPayload(8193) },
].map((c) => ({ ...c, code: 'ERR_TOKEN_MALFORMED' }));

const decodeJwtValid = [
  {
    name: 'exactly MAX_TOKEN_LENGTH (8192 characters)',
    token: longPayload(8192),
    expected: { header: { alg: 'ES256', typ: 'JWT', kid: 'k1' }, signingInputLength: 8192 - S.length - 1 },
  },
];

// --- the ES256 vector --------------------------------------------------------------------------------------
function thumbprint(jwk) {
  return createHash('sha256')
    .update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }))
    .digest('base64url');
}

// Contract version 2: the signature is low-S (s ≤ n/2 of P-256), computed here with BigInt, independently of core.
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
function lowS(signature) {
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  if (s <= P256_N / 2n) return signature;
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex')]);
}

function mintEs256(payload) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const exported = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(exported);
  const jwk = { kty: 'EC', crv: 'P-256', x: exported.x, y: exported.y, kid, alg: 'ES256', use: 'sig' };
  const header = { alg: 'ES256', typ: 'JWT', kid };
  const signingInput = `${jsonPart(header)}.${jsonPart(payload)}`;
  const signature = lowS(sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  return { jwk, header, token: `${signingInput}.${signature.toString('base64url')}` };
}

const es256Source = buildClaims[0];
const previous = existsSync(outPath) ? JSON.parse(readFileSync(outPath, 'utf8')).es256 : undefined;
let es256 = previous;
const samePayload =
  previous !== undefined &&
  JSON.stringify(JSON.parse(Buffer.from(previous.token.split('.')[1], 'base64url').toString('utf8'))) ===
    JSON.stringify(es256Source.expected);
if (process.argv.includes('--new-es256-key') || !samePayload) {
  const minted = mintEs256(es256Source.expected);
  es256 = {
    description:
      'One ES256 token signed once with a throw-away P-256 key (private key discarded). Its payload is buildClaims case 0; its signing input is what encodeSigningInput(header, claims) produces byte for byte.',
    buildClaimsCase: es256Source.name,
    publicJwk: minted.jwk,
    header: minted.header,
    token: minted.token,
  };
}
// The stored token must verify against the stored JWK, whatever its origin.
{
  const [h, p, s] = es256.token.split('.');
  const ok = verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key: createPublicKey({ key: es256.publicJwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('stored ES256 token does not verify');
}

const out = {
  description:
    'Token contract v2 vectors shared by core, server, verifier and client tests. Regenerate with node test-vectors/generate-token-vectors.mjs.',
  frozenClock: { nowMs: NOW_MS, iso: new Date(NOW_MS).toISOString() },
  buildClaims,
  parseClaimsInvalid: { base: valid, cases: parseClaimsInvalid },
  decodeJwtMalformed,
  decodeJwtValid,
  es256,
};
writeFileSync(outPath, `${JSON.stringify(out, null, 2)}\n`);
// Leave the file exactly as `biome check` wants it, so a re-run produces no formatting diff.
spawnSync(join(here, '..', 'node_modules', '.bin', 'biome'), ['format', '--write', outPath], { stdio: 'ignore' });
console.log(
  `wrote ${outPath}: ${buildClaims.length} buildClaims, ${parseClaimsInvalid.length} parseClaims, ${decodeJwtMalformed.length} decodeJwt malformed`,
);
