// Issue #16: @tessera/oidc checks third parties' signatures over ten algorithms by hand (node:crypto). This holds it
// to `jose` — an independent, widely used implementation — on generated keys and tokens of every algorithm, valid and
// tampered: the same verdict on every case. Seeded (TESSERA_TEST_SEED replays a failure; fast-check prints the seed).
//
// "Ours" is exactly what createOidcVerifier does before it looks at claims: core's decodeJwt, an accepted algorithm,
// a key of that algorithm's family (keyFitsAlgorithm), then verifyJwsSignature.
//
// Where the two differ by design, the oracle says so, and a test below pins the difference:
// - a signature segment in non-canonical base64url (non-zero trailing bits) decodes in jose to the same bytes and
//   verifies; core's decoder is strict and refuses it (one token, one spelling);
// - `crit: ["b64"]` with `b64: true` is understood by jose (RFC 7797); Tessera understands no `crit` extension and
//   must refuse it (RFC 7515 §4.1.11), so it is never generated for the comparison;
// - jose (WebCrypto) has no Ed448 and no keys of type `rsa-pss`; ours accepts both (tested against node:crypto).
import { constants, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { decodeJwt } from '@tessera/core';
import fc from 'fast-check';
import { CompactSign, compactVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { propertyParameters } from '../../../test/support/property-seed.js';
import { isJwsAlgorithm, JWS_ALGORITHMS, type JwsAlgorithm, MAX_OIDC_TOKEN_LENGTH } from '../src/index.js';
import { keyFitsAlgorithm } from '../src/key-fits-algorithm.js';
import { verifyJwsSignature } from '../src/verify-jws-signature.js';
import { signJwt } from './jwks-fixture.js';

interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

// Two keys per family (the second signs "another key's" tokens), and a 1024-bit RSA key both must refuse.
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA: readonly [Pair, Pair] = [rsa(), rsa()];
const EC = {
  ES256: [generateKeyPairSync('ec', { namedCurve: 'P-256' }), generateKeyPairSync('ec', { namedCurve: 'P-256' })],
  ES384: [generateKeyPairSync('ec', { namedCurve: 'P-384' }), generateKeyPairSync('ec', { namedCurve: 'P-384' })],
  ES512: [generateKeyPairSync('ec', { namedCurve: 'P-521' }), generateKeyPairSync('ec', { namedCurve: 'P-521' })],
} as const;
const ED: readonly [Pair, Pair] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')];
const WEAK_RSA = generateKeyPairSync('rsa', { modulusLength: 1024 });

function keysOf(alg: JwsAlgorithm): readonly [Pair, Pair] {
  if (alg === 'EdDSA') return ED;
  if (alg === 'ES256' || alg === 'ES384' || alg === 'ES512') return EC[alg] as readonly [Pair, Pair];
  return RSA;
}

/** The group order of each ECDSA curve: (r, n − s) verifies wherever (r, s) does. */
const ORDER: Readonly<Record<string, bigint>> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512:
    0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const seg = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];
const withSignature = (token: string, signature: Buffer) => {
  const [h, p] = parts(token);
  return `${h}.${p}.${signature.toString('base64url')}`;
};
const signatureOf = (token: string) => Buffer.from(parts(token)[2], 'base64url');

/** Ours: the steps createOidcVerifier takes before the claims, as one verdict. */
function ours(token: string, key: KeyObject): boolean {
  let decoded: ReturnType<typeof decodeJwt>;
  try {
    decoded = decodeJwt(token, { maxLength: MAX_OIDC_TOKEN_LENGTH });
  } catch {
    return false;
  }
  const alg = decoded.header.alg;
  if (!isJwsAlgorithm(alg) || !keyFitsAlgorithm(key, alg)) return false;
  return verifyJwsSignature({ alg, key, signingInput: decoded.signingInput, signature: decoded.signature });
}

/** jose's verdict over the same algorithms (it refuses `none` and HMAC keys of the wrong type on its own). */
async function theirs(token: string, key: KeyObject): Promise<boolean> {
  return compactVerify(token, key, { algorithms: [...JWS_ALGORITHMS] }).then(
    () => true,
    () => false,
  );
}

/** True when each segment is canonical unpadded base64url (re-encoding the decoded bytes gives it back). */
function canonical(token: string): boolean {
  return parts(token).every((s) => Buffer.from(s, 'base64url').toString('base64url') === s);
}

async function mint(alg: JwsAlgorithm, key: KeyObject, payload: unknown, header: object = {}): Promise<string> {
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ: 'JWT', kid: 'k1', ...header })
    .sign(key);
}

/** ECDSA P1363 → the DER form (what ECDSA signatures look like outside JWS): must never verify as a JWS. */
function toDer(p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  const int = (bytes: Buffer) => {
    let b = bytes;
    while (b.length > 1 && b[0] === 0 && ((b[1] ?? 0) & 0x80) === 0) b = b.subarray(1);
    if (((b[0] ?? 0) & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([0x02, b.length]), b]);
  };
  const body = Buffer.concat([int(p1363.subarray(0, half)), int(p1363.subarray(half))]);
  const length = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}

/** The (r, n − s) twin of an ECDSA signature. */
function twin(alg: string, p1363: Buffer): Buffer {
  const n = ORDER[alg] as bigint;
  const half = p1363.length / 2;
  const s = BigInt(`0x${p1363.subarray(half).toString('hex')}`);
  return Buffer.concat([p1363.subarray(0, half), Buffer.from((n - s).toString(16).padStart(2 * half, '0'), 'hex')]);
}

const TAMPERS = [
  'none',
  'flip a signature bit',
  'drop the last signature byte',
  'append a signature byte',
  'zero the signature',
  'change a claim',
  'change the kid',
  'switch alg',
  "another key's signature",
  'verify with a key of another family',
  'verify with a 1024-bit RSA key',
  'ECDSA twin (r, n − s)',
  'ECDSA signature in DER',
  'crit naming an extension',
  'alg none, no signature',
  'swap header and payload',
  'non-canonical base64url signature',
] as const;
type Tamper = (typeof TAMPERS)[number];

interface Case {
  readonly alg: JwsAlgorithm;
  readonly payload: Record<string, unknown>;
  readonly tamper: Tamper;
  readonly at: number;
  readonly otherAlg: JwsAlgorithm;
}

/** The token of a case and the public key it is checked with. */
async function build(c: Case): Promise<{ token: string; key: KeyObject }> {
  const [mine, other] = keysOf(c.alg);
  const valid = await mint(c.alg, mine.privateKey, c.payload);
  const sig = signatureOf(valid);
  const [h, p] = parts(valid);
  const key = mine.publicKey;
  switch (c.tamper) {
    case 'none':
      return { token: valid, key };
    case 'flip a signature bit': {
      const flipped = Buffer.from(sig);
      const bit = c.at % (8 * flipped.length);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      return { token: withSignature(valid, flipped), key };
    }
    case 'drop the last signature byte':
      return { token: withSignature(valid, sig.subarray(0, -1)), key };
    case 'append a signature byte':
      return { token: withSignature(valid, Buffer.concat([sig, Buffer.from([c.at & 0xff])])), key };
    case 'zero the signature':
      return { token: withSignature(valid, Buffer.alloc(sig.length)), key };
    case 'change a claim':
      return { token: `${h}.${seg({ ...c.payload, sub: `x${c.at}` })}.${parts(valid)[2]}`, key };
    case 'change the kid':
      return { token: `${seg({ alg: c.alg, typ: 'JWT', kid: `k${c.at}` })}.${p}.${parts(valid)[2]}`, key };
    case 'switch alg':
      return { token: `${seg({ alg: c.otherAlg, typ: 'JWT', kid: 'k1' })}.${p}.${parts(valid)[2]}`, key };
    case "another key's signature":
      return { token: await mint(c.alg, other.privateKey, c.payload), key };
    case 'verify with a key of another family': {
      const foreign = keysOf(c.otherAlg)[0].publicKey;
      return { token: valid, key: foreign };
    }
    case 'verify with a 1024-bit RSA key': {
      const weak = c.alg.startsWith('RS') || c.alg.startsWith('PS');
      if (!weak) return { token: valid, key: WEAK_RSA.publicKey };
      const input = Buffer.from(`${h}.${p}`);
      const hash = `sha${c.alg.slice(2)}`;
      const signature = c.alg.startsWith('PS')
        ? sign(hash, input, {
            key: WEAK_RSA.privateKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN, // a 64-byte salt of PS512 does not fit 1024 bits
          })
        : sign(hash, input, WEAK_RSA.privateKey);
      return { token: withSignature(valid, signature), key: WEAK_RSA.publicKey };
    }
    case 'ECDSA twin (r, n − s)':
      return { token: c.alg.startsWith('ES') ? withSignature(valid, twin(c.alg, sig)) : valid, key };
    case 'ECDSA signature in DER':
      return { token: c.alg.startsWith('ES') ? withSignature(valid, toDer(sig)) : valid, key };
    case 'crit naming an extension': {
      // jose will not sign a crit it does not know; node:crypto signs it (jwks-fixture's signer).
      const fixture = { kid: 'k1', alg: c.alg, privateKey: mine.privateKey, publicJwk: {} };
      return { token: signJwt(fixture, c.payload, { crit: ['exp'], exp: c.at }), key };
    }
    case 'alg none, no signature':
      return { token: `${seg({ alg: 'none', typ: 'JWT' })}.${p}.`, key };
    case 'swap header and payload':
      return { token: `${p}.${h}.${parts(valid)[2]}`, key };
    case 'non-canonical base64url signature': {
      const s = parts(valid)[2];
      // The last character of an unpadded segment whose length is not a multiple of 4 carries unused low bits.
      if (s.length % 4 === 0) return { token: valid, key };
      const last = B64URL.indexOf(s.charAt(s.length - 1));
      return { token: `${h}.${p}.${s.slice(0, -1)}${B64URL.charAt(last | 1)}`, key };
    }
  }
}

const claimValue = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
);
const payloadArb = fc
  .record({ iss: fc.webUrl(), sub: fc.string({ minLength: 1, maxLength: 40 }), exp: fc.nat() })
  .chain((base) =>
    fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), claimValue, { maxKeys: 6 }).map((extra) => ({
      ...extra,
      ...base,
    })),
  );
const caseArb: fc.Arbitrary<Case> = fc.record({
  alg: fc.constantFrom(...JWS_ALGORITHMS),
  payload: payloadArb,
  tamper: fc.constantFrom(...TAMPERS),
  at: fc.nat({ max: 1_000_000 }),
  otherAlg: fc.constantFrom(...JWS_ALGORITHMS),
});

describe('@tessera/oidc signature checks ≡ jose (differential, seeded)', () => {
  it('every algorithm, valid and tampered: the same verdict as jose', async () => {
    const verdicts = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { token, key } = await build(c);
        const jose = await theirs(token, key);
        // Ours is strict where jose is lenient: a token that is not in canonical base64url never verifies here.
        const expected = jose && canonical(token);
        const got = ours(token, key);
        expect(got, `${c.alg} / ${c.tamper}: ours ${got}, jose ${jose}`).toBe(expected);
        const label = `${c.alg} ${c.tamper === 'none' ? 'valid' : 'tampered'} → ${got}`;
        verdicts.set(label, (verdicts.get(label) ?? 0) + 1);
      }),
      propertyParameters(600),
    );
    // The comparison is only worth something if both sides accepted real tokens of every algorithm.
    for (const alg of JWS_ALGORITHMS) {
      if (Array.from(verdicts.keys()).some((k) => k.startsWith(`${alg} valid`))) {
        expect(verdicts.get(`${alg} valid → false`) ?? 0, alg).toBe(0);
      }
    }
  }, 120_000);

  it.each(JWS_ALGORITHMS.map((alg) => [alg]))(
    '%s: a valid token verifies in both, its tampered twin in neither',
    async (alg) => {
      const [mine] = keysOf(alg);
      const valid = await mint(alg, mine.privateKey, { iss: 'https://issuer.example', sub: 'u' });
      expect(ours(valid, mine.publicKey)).toBe(true);
      expect(await theirs(valid, mine.publicKey)).toBe(true);
      const sig = signatureOf(valid);
      sig[0] = (sig[0] ?? 0) ^ 1;
      const tampered = withSignature(valid, sig);
      expect(ours(tampered, mine.publicKey)).toBe(false);
      expect(await theirs(tampered, mine.publicKey)).toBe(false);
    },
  );

  it('by design: a non-canonical base64url signature verifies in jose but not here', async () => {
    const [mine] = keysOf('ES256');
    const valid = await mint('ES256', mine.privateKey, { sub: 'u' });
    const [h, p, s] = parts(valid);
    const respelled = `${h}.${p}.${s.slice(0, -1)}${B64URL.charAt(B64URL.indexOf(s.charAt(s.length - 1)) | 1)}`;
    expect(respelled).not.toBe(valid);
    expect(await theirs(respelled, mine.publicKey)).toBe(true);
    expect(ours(respelled, mine.publicKey)).toBe(false);
  });

  it('by design: crit ["b64"] is understood by jose (RFC 7797) and refused here (RFC 7515 §4.1.11)', async () => {
    const [mine] = keysOf('ES256');
    const token = await mint('ES256', mine.privateKey, { sub: 'u' }, { b64: true, crit: ['b64'] });
    expect(await theirs(token, mine.publicKey)).toBe(true);
    expect(ours(token, mine.publicKey)).toBe(false);
  });

  it('beyond jose: Ed448 and rsa-pss keys verify here against node:crypto signatures', () => {
    for (const [alg, pair] of [
      ['EdDSA', generateKeyPairSync('ed448')],
      ['PS256', generateKeyPairSync('rsa-pss', { modulusLength: 2048 })],
    ] as const) {
      const input = `${seg({ alg, kid: 'k' })}.${seg({ sub: 'u' })}`;
      const signature =
        alg === 'EdDSA'
          ? sign(null, Buffer.from(input), pair.privateKey)
          : sign('sha256', Buffer.from(input), {
              key: pair.privateKey,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: 32,
            });
      const key = createPublicKey(pair.publicKey.export({ format: 'pem', type: 'spki' }));
      expect(ours(`${input}.${signature.toString('base64url')}`, key), alg).toBe(true);
      signature[3] = (signature[3] ?? 0) ^ 0x10;
      expect(ours(`${input}.${signature.toString('base64url')}`, key), alg).toBe(false);
    }
  });
});
