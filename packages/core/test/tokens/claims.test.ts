import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ACS_SCP_CONSTANT,
  SUPPORTED_TOKEN_CONTRACT_VERSIONS,
  TOKEN_CONTRACT_VERSION,
  buildClaims,
  encodeClaimsJson,
  formatAccessKeyRef,
  parseAccessKeyRef,
  parseClaims,
  scopesOf,
  type BuildClaimsOptions,
} from '../../src/index.js';
import { type BuildClaimsVectorInput, tokenVectors } from '../support/vectors.js';
import { catchTessera } from '../support/secrets.js';
import { propertySeed, prng, replaySeed } from '../../../../test/support/property-seed.js';

const vectors = tokenVectors();

function options(input: BuildClaimsVectorInput): BuildClaimsOptions {
  return { ...input, scopes: [...input.scopes] };
}

function mutate(base: Record<string, unknown>, change: { remove?: readonly string[]; set?: Record<string, unknown> }) {
  const payload: Record<string, unknown> = { ...base, ...change.set };
  for (const key of change.remove ?? []) delete payload[key];
  return payload;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('buildClaims (test-vectors/tokens.json)', () => {
  it.each(vectors.buildClaims.map((c) => [c.name, c] as const))('%s', (_name, vector) => {
    const claims = buildClaims(options(vector.input));
    expect(claims).toStrictEqual(vector.expected);
    // key order is part of the byte-exact signing input (see es256 vector)
    expect(Object.keys(claims)).toEqual(Object.keys(vector.expected));
  });

  it('uses only the clock it is given: the wall clock (frozen at another instant) changes nothing', () => {
    const first = vectors.buildClaims[0];
    if (first === undefined) throw new Error('no vectors');
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2031-05-05T05:05:05Z'));
    expect(buildClaims(options(first.input))).toStrictEqual(first.expected);
    vi.setSystemTime(new Date('2000-01-01T00:00:00Z'));
    expect(buildClaims(options(first.input))).toStrictEqual(first.expected);
  });

  it('puts the ACS constants in: scp 1792, tsv 2, csi = String(iat), skypeid = raw id without 8:', () => {
    expect(ACS_SCP_CONSTANT).toBe(1792);
    expect(TOKEN_CONTRACT_VERSION).toBe(2);
    for (const v of vectors.buildClaims) {
      const c = buildClaims(options(v.input));
      expect(c.scp).toBe(1792);
      expect(c.tsv).toBe(2);
      expect(c.csi).toBe(String(c.iat));
      expect(`8:${c.skypeid}`).toBe(c.sub);
      expect(c.nbf).toBe(c.iat);
    }
  });

  it('expiresOn (exp * 1000) is whole seconds after the issue time, lifetimeMinutes later', () => {
    for (const minutes of [60, 61, 1439, 1440]) {
      const c = buildClaims({ ...options(vectors.buildClaims[0]?.input ?? fail()), lifetimeMinutes: minutes });
      expect(c.exp - c.iat).toBe(minutes * 60);
      expect(Number.isInteger(c.exp)).toBe(true);
    }
  });

  it('refuses a raw id that is not a communication user id', () => {
    const base = options(vectors.buildClaims[0]?.input ?? fail());
    expect(() => buildClaims({ ...base, rawId: '8:orgid:0192f3a4-5b6c-7d8e-9f01-23456789abcd' })).toThrow(
      expect.objectContaining({ code: 'ERR_IDENTIFIER_INVALID' }),
    );
  });
});

// The issue path writes the payload JSON without building the claims object. It must be byte for byte what
// JSON.stringify(buildClaims(...)) gives — the signing input is the token contract — for every vector, and for
// configuration strings JSON has to escape (quotes, backslashes, control characters, lone and paired surrogates).
describe('encodeClaimsJson (the issue path payload)', () => {
  const same = (o: BuildClaimsOptions, note?: string) => {
    const { json, exp } = encodeClaimsJson(o);
    const claims = buildClaims(o);
    expect(json, note).toBe(JSON.stringify(claims));
    expect(exp, note).toBe(claims.exp);
  };

  it.each(vectors.buildClaims.map((c) => [c.name, c] as const))('equals JSON.stringify(buildClaims): %s', (_n, v) => {
    same(options(v.input));
  });

  it('equals it for hostile configuration strings, with and without an access key, and an inherited expiry', () => {
    const base = options(vectors.buildClaims[0]?.input ?? fail());
    const hostile = [
      '"quoted"',
      'back\\slash',
      'tab\tnew\nline\u0000\u001f',
      'lone \ud800 high',
      'lone \udfff low',
      'pair 🎉 ドメイン tëssera',
      '',
      '\u2028\u2029',
      '</script>',
    ];
    for (const text of hostile) {
      same({ ...base, issuer: text });
      same({ ...base, audience: text, accessKey: undefined });
      same({ ...base, resourceLocation: text, region: text, expiresAt: 1_900_000_000 });
      same({ ...base, tokenId: text, accessKey: { name: 'secondary', version: 12 } });
    }
  });

  it('equals it for many random options (scopes, times, epochs, keys)', () => {
    const base = options(vectors.buildClaims[0]?.input ?? fail());
    const scopeSets = [
      ['chat'],
      ['voip'],
      ['chat', 'voip'],
      ['chat.join', 'voip.join'],
      ['chat.join.limited'],
    ] as const;
    const random = prng(propertySeed());
    for (let i = 0; i < 500; i++) {
      same(
        {
          ...base,
          scopes: [...(scopeSets[i % scopeSets.length] ?? ['chat'])],
          nowMs: Math.floor(random() * 4_000_000_000_000),
          lifetimeMinutes: 60 + (i % 1381),
          revocationEpoch: i % 7 === 0 ? 0 : Math.floor(random() * 1e9),
          accessKey: i % 3 === 0 ? undefined : { name: i % 2 === 0 ? 'primary' : 'secondary', version: i },
          expiresAt: i % 5 === 0 ? Math.floor(random() * 4_000_000_000) : undefined,
        },
        replaySeed(),
      );
    }
  });
});

describe('parseClaims', () => {
  it('accepts every buildClaims vector and returns it unchanged (round trip through JSON)', () => {
    for (const v of vectors.buildClaims) {
      const built = buildClaims(options(v.input));
      expect(parseClaims(JSON.parse(JSON.stringify(built)))).toStrictEqual(v.expected);
    }
  });

  it('ignores claims it does not know (forward-compatible additions within a version)', () => {
    const base = vectors.parseClaimsInvalid.base;
    expect(parseClaims({ ...base, x5t: 'abc', extra: { nested: true } })).toStrictEqual(base);
  });

  it('accepts the previous contract version (tsv 1), so tokens minted before an upgrade live on', () => {
    const base = { ...vectors.parseClaimsInvalid.base, tsv: 1 };
    expect(SUPPORTED_TOKEN_CONTRACT_VERSIONS).toEqual([1, 2]);
    expect(parseClaims(base)).toStrictEqual(base);
  });

  it.each(vectors.parseClaimsInvalid.cases.map((c) => [c.name, c] as const))('%s', (_name, vector) => {
    const error = catchTessera(() => parseClaims(mutate(vectors.parseClaimsInvalid.base, vector)));
    expect(error.code).toBe(vector.code);
  });

  it('the vectors cover every claim: removing any required claim is ERR_TOKEN_MALFORMED', () => {
    const removed = vectors.parseClaimsInvalid.cases.flatMap((c) => c.remove ?? []);
    const required = Object.keys(vectors.parseClaimsInvalid.base).filter((k) => k !== 'akv');
    expect(removed.sort()).toEqual(required.sort());
  });

  it('error messages name the claim, never its value', () => {
    const secretish = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    for (const key of ['iss', 'sub', 'jti', 'acsScope', 'akv', 'iat']) {
      const error = catchTessera(() => parseClaims({ ...vectors.parseClaimsInvalid.base, [key]: [secretish] }));
      expect(error.message).toContain(`'${key}'`);
      expect(error.message).not.toContain(secretish);
    }
  });
});

describe('scopesOf', () => {
  it('splits acsScope and drops unknown items', () => {
    expect(scopesOf({ acsScope: 'chat,voip.join' })).toEqual(['chat', 'voip.join']);
    expect(scopesOf({ acsScope: 'chat,admin,,voip' })).toEqual(['chat', 'voip']);
    expect(scopesOf({ acsScope: '' })).toEqual([]);
  });

  it('keeps the Tessera presence scope (it was silently dropped before presence joined TOKEN_SCOPES)', () => {
    expect(scopesOf({ acsScope: 'chat,presence' })).toEqual(['chat', 'presence']);
  });
});

describe('access key references (akv)', () => {
  it('formats and parses primary.N / secondary.N', () => {
    expect(formatAccessKeyRef({ name: 'primary', version: 3 })).toBe('primary.3');
    expect(parseAccessKeyRef('primary.3')).toEqual({ name: 'primary', version: 3 });
    expect(parseAccessKeyRef('secondary.123456789')).toEqual({ name: 'secondary', version: 123456789 });
  });

  it.each([
    'primary',
    'primary.',
    'primary.-1',
    'primary.1.2',
    'Primary.1',
    'tertiary.1',
    'primary.1234567890',
    ' primary.1',
  ])('refuses %j', (text) => {
    expect(parseAccessKeyRef(text)).toBeUndefined();
  });
});

function fail(): never {
  throw new Error('vector missing');
}
