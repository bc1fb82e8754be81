// decodeJwt decodes with native atob, a length check and a header memo. This holds it to a plain reference decoder
// (a regex for the alphabet, Buffer for the bytes, no memo): the same result or the same error on every input.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH, TesseraError, assembleJwt, decodeJwt, encodeSigningInput } from '../../src/index.js';
import { tokenVectors } from '../support/vectors.js';

type Outcome = { ok: unknown } | { code: string; message: string };

const fail = (what: string): Outcome => ({ code: 'ERR_TOKEN_MALFORMED', message: `Token is malformed: ${what}.` });

/** RFC 7515 compact JWS decoding, written for clarity: strict canonical unpadded base64url, strict UTF-8, JSON objects. */
function reference(token: unknown, maxLength = MAX_TOKEN_LENGTH): Outcome {
  if (typeof token !== 'string' || token.length === 0) return fail('not a string');
  if (token.length > maxLength) return fail('too long');
  const parts = token.split('.');
  if (parts.length !== 3) return fail('expected three dot-separated parts');
  const [h = '', p = '', s = ''] = parts;
  // Canonical (RFC 4648 §3.5): re-encoding the bytes gives the part back, so non-zero trailing bits are refused.
  const bytes = (part: string) => {
    if (!/^[A-Za-z0-9_-]*$/.test(part) || part.length % 4 === 1) return undefined;
    const decoded = Buffer.from(part, 'base64url');
    return decoded.toString('base64url') === part ? decoded : undefined;
  };
  const json = (part: string, name: string): Record<string, unknown> | Outcome => {
    const raw = bytes(part);
    let text: string;
    try {
      if (raw === undefined) throw new Error('not base64url');
      text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      return fail(`${name} is not base64url`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail(`${name} is not JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${name} is not an object`);
    return { value: value as Record<string, unknown> };
  };
  const header = json(h, 'header');
  if (!('value' in header)) return header as Outcome;
  const hv = header.value as Record<string, unknown>;
  if (typeof hv.alg !== 'string') return fail("header has no 'alg'");
  if (hv.kid !== undefined && typeof hv.kid !== 'string') return fail("header 'kid' is not a string");
  if ('crit' in hv) return fail("header has a 'crit' member this verifier does not understand");
  const payload = json(p, 'payload');
  if (!('value' in payload)) return payload as Outcome;
  const signature = bytes(s);
  if (signature === undefined || signature.length === 0) return fail('signature is not base64url');
  return {
    ok: { header: hv, payload: payload.value, signingInput: `${h}.${p}`, signature: new Uint8Array(signature) },
  };
}

function outcome(token: unknown, maxLength?: number): Outcome {
  try {
    const d = decodeJwt(token, maxLength === undefined ? {} : { maxLength });
    return { ok: { ...d, header: { ...d.header } } };
  } catch (error) {
    if (!(error instanceof TesseraError)) throw error;
    return { code: error.code, message: error.message };
  }
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url');
function mint(payload: object, header: object = { alg: 'ES256', typ: 'JWT', kid: 'fast-path' }): string {
  const input = encodeSigningInput(header as { alg: string }, payload);
  return assembleJwt(
    input,
    new Uint8Array(sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })),
  );
}

const vectors = tokenVectors();
const valid = mint({ sub: '8:acs:r_u', iss: 'urn:tessera:test', exp: 1, scp: 1792 });
const unicode = mint({ sub: '8:acs:r_u', iss: 'urn:tëssera:ドメイン 🎉' });
const [h, p, s] = valid.split('.') as [string, string, string];

const CASES: Array<[string, unknown]> = [
  ...vectors.decodeJwtValid.map((v) => [`vector: ${v.name}`, v.token] as [string, unknown]),
  ...vectors.decodeJwtMalformed.map((v) => [`vector: ${v.name}`, v.token] as [string, unknown]),
  ['vector: the stored ES256 token', vectors.es256.token],
  ['a genuine token', valid],
  ['a non-ASCII (UTF-8) claim', unicode],
  ['a UTF-8 BOM before the payload JSON', `${h}.${b64url(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]))}.${s}`],
  ['padding on the payload', `${h}.${p}==.${s}`],
  ['padding on the signature', `${h}.${p}.${s}=`],
  ["'+' in the payload", `${h}.${p.slice(0, 10)}+${p.slice(11)}.${s}`],
  ["'/' in the signature", `${h}.${p}.${s.slice(0, 5)}/${s.slice(6)}`],
  ['whitespace in the payload', `${h}.${p.slice(0, 8)} ${p.slice(8)}.${s}`],
  ['two spaces in the payload', `${h}.${p.slice(0, 8)}  ${p.slice(8)}.${s}`],
  ['a tab in the header', `${h.slice(0, 4)}\t${h.slice(4)}.${p}.${s}`],
  ['a payload length ≡ 1 (mod 4)', `${h}.${p}A.${s}`],
  ['non-canonical trailing bits', `${h}.${b64url('{}').slice(0, -1)}1.${s}`],
  ['a Latin-1 character in the payload', `${h}.${p.slice(0, 8)}é${p.slice(9)}.${s}`],
  ['an empty signature', `${h}.${p}.`],
  ['an empty header', `.${p}.${s}`],
  ['an empty payload', `${h}..${s}`],
  ['four parts', `${valid}.x`],
  ['only dots', '..'],
  ['a JSON array payload', `${h}.${b64url('[1]')}.${s}`],
  ['invalid UTF-8 in the payload', `${h}.${b64url(Buffer.from([0x7b, 0xff, 0x7d]))}.${s}`],
  ['a header without alg', `${b64url('{"kid":"x"}')}.${p}.${s}`],
  ['a numeric kid', `${b64url('{"alg":"ES256","kid":7}')}.${p}.${s}`],
  ['an extra header field', `${b64url('{"alg":"ES256","kid":"k","x5t":"abc"}')}.${p}.${s}`],
  ['not a string', 12],
  ['undefined', undefined],
  ['too long', `${h}.${'A'.repeat(9000)}.${s}`],
];

describe('decodeJwt fast path ≡ reference decoder', () => {
  it.each(CASES)('%s', (_name, input) => {
    expect(outcome(input)).toEqual(reference(input));
  });

  it('honours maxLength on both sides of the boundary', () => {
    expect(outcome(valid, valid.length)).toEqual(reference(valid, valid.length));
    expect(outcome(valid, valid.length - 1)).toEqual(fail('too long'));
    const long = `${h}.${'A'.repeat(9000)}.${s}`;
    expect(outcome(long, 10_000)).toEqual(reference(long, 10_000));
  });

  it('agrees on 4,000 seeded single-character mutations of ASCII and UTF-8 tokens', () => {
    // Characters atob treats specially, separators, other alphabets and non-ASCII.
    const alphabet = ['=', '+', '/', ' ', '\t', '\n', '\f', '.', '-', '_', 'A', 'z', '0', 'é', '€', '*', '%', '\0'];
    let seed = 0x5eed;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const base = i % 2 === 0 ? valid : unicode;
      const at = next(base.length);
      const ch = alphabet[next(alphabet.length)] ?? '';
      const op = next(3);
      const token =
        op === 0
          ? base.slice(0, at) + ch + base.slice(at + 1)
          : op === 1
            ? base.slice(0, at) + ch + base.slice(at)
            : base.slice(0, at) + base.slice(at + 1);
      const expected = reference(token);
      expect(outcome(token), JSON.stringify(token)).toEqual(expected);
      if ('ok' in expected) decoded++;
    }
    // Both outcomes are exercised: some mutations still decode (e.g. a changed signature character).
    expect(decoded).toBeGreaterThan(100);
    expect(decoded).toBeLessThan(3900);
  });

  it('refuses padded and standard-alphabet parts: compact JWS is unpadded base64url (RFC 7515 §2)', () => {
    expect(() => decodeJwt(`${h}.${p}.${s}=`)).toThrow('Token is malformed: signature is not base64url.');
    expect(() => decodeJwt(`${b64url('{"alg":"ES256"}')}=.${p}.${s}`)).toThrow(
      'Token is malformed: header is not base64url.',
    );
    const plus = Buffer.from('{"a":">>>"}').toString('base64').replace(/=+$/, '');
    expect(plus).toContain('+');
    expect(() => decodeJwt(`${h}.${plus}.${s}`)).toThrow('Token is malformed: payload is not base64url.');
    expect(decodeJwt(`${h}.${plus.replaceAll('+', '-')}.${s}`).payload).toEqual({ a: '>>>' });
  });
});

describe('decodeJwt header memo', () => {
  it('returns one frozen header object for every token with the same header segment', () => {
    const a = decodeJwt(mint({ n: 1 }));
    const b = decodeJwt(mint({ n: 2 }));
    expect(a.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'fast-path' });
    expect(b.header).toBe(a.header);
    expect(Object.isFrozen(a.header)).toBe(true);
    expect(a.payload).not.toBe(b.payload);
  });

  it('a memoised header does not let a malformed payload or signature through', () => {
    decodeJwt(valid);
    expect(outcome(`${h}.${b64url('[1]')}.${s}`)).toEqual(fail('payload is not an object'));
    expect(outcome(`${h}.${p}.`)).toEqual(fail('signature is not base64url'));
  });

  it('stays correct while more distinct headers pass than it holds', () => {
    const tokens = Array.from({ length: 100 }, (_, i) => mint({ i }, { alg: 'ES256', kid: `k-${i}` }));
    for (let round = 0; round < 2; round++) {
      for (const token of tokens) expect(outcome(token)).toEqual(reference(token));
    }
    const bad = Array.from({ length: 40 }, (_, i) => `${b64url(`{"kid":"k-${i}"}`)}.${p}.${s}`);
    for (const token of bad) expect(outcome(token)).toEqual(fail("header has no 'alg'"));
  });
});
