// The verifier's fast decoder must agree with core's decodeJwt on every input: same result, or the same error.
import { decodeJwt } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { decodeToken } from '../dist/decode-token.js';
import { mint, newSigningKey } from './helpers/fake-identity-server.js';

const key = newSigningKey('decode-test');
const valid = mint({ key });
const [h, p, s] = valid.split('.') as [string, string, string];
const b64url = (text: string) => Buffer.from(text).toString('base64url');

const CASES: Array<[string, unknown]> = [
  ['a genuine token', valid],
  ['a non-ASCII (UTF-8) issuer', mint({ key, issuer: 'urn:tëssera:ドメイン' })],
  ['padding on the payload', `${h}.${p}==.${s}`],
  ["'+' in the payload", `${h}.${p.slice(0, 10)}+${p.slice(11)}.${s}`],
  ["'/' in the signature", `${h}.${p}.${s.slice(0, 5)}/${s.slice(6)}`],
  ['whitespace in the payload', `${h}.${p.slice(0, 8)} ${p.slice(8)}.${s}`],
  ['a payload length ≡ 1 (mod 4)', `${h}.${p}A.${s}`],
  ['an empty signature', `${h}.${p}.`],
  ['an empty header', `.${p}.${s}`],
  ['four parts', `${valid}.x`],
  ['a JSON array payload', `${h}.${b64url('[1]')}.${s}`],
  ['invalid UTF-8 in the payload', `${h}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${s}`],
  ['a header without alg', `${b64url('{"kid":"x"}')}.${p}.${s}`],
  ['a numeric kid', `${b64url('{"alg":"ES256","kid":7}')}.${p}.${s}`],
  ['not a string', 12],
  ['too long', `${h}.${'A'.repeat(9000)}.${s}`],
];

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
}

describe('decodeToken ≡ core decodeJwt', () => {
  it.each(CASES)('%s', (_name, input) => {
    expect(outcome(() => decodeToken(input))).toEqual(outcome(() => decodeJwt(input)));
  });

  it('memoised headers are the same decoded header for every token of a key', () => {
    const a = decodeToken(mint({ key }));
    const b = decodeToken(mint({ key }));
    expect(a.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'decode-test' });
    expect(b.header).toBe(a.header);
  });
});
