import { describe, expect, it } from 'vitest';
import { formatRawId, isRawId, isUuid, parseRawId } from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

const RESOURCE = '6f1c4f2e-9d3a-4b7e-8c21-5a0b7d3e9f10';
const USER = '0192f3a4-5b6c-7d8e-9f01-23456789abcd';

describe('raw ids', () => {
  it('formats and parses 8:acs:<resourceId>_<userId>', () => {
    const raw = formatRawId(RESOURCE, USER);
    expect(raw).toBe(`8:acs:${RESOURCE}_${USER}`);
    expect(parseRawId(raw)).toEqual({ rawId: raw, resourceId: RESOURCE, userId: USER });
  });

  it('accepts the GUID-shaped, non-random user ids the real service hands out', () => {
    const real = '8:acs:016a7064-0581-40b9-be73-6dde64d69d72_0000000d-06f2-cf20-c80d-454822000f38';
    expect(parseRawId(real).userId).toBe('0000000d-06f2-cf20-c80d-454822000f38');
  });

  it.each([
    ['empty', ''],
    ['no prefix', `${RESOURCE}_${USER}`],
    ['Teams user', `8:orgid:${USER}`],
    ['GCCH ACS user (not served by Tessera)', `8:gcch-acs:${RESOURCE}_${USER}`],
    ['phone number', '4:+14255550123'],
    ['resource not a UUID', `8:acs:contoso_${USER}`],
    ['user not a UUID', `8:acs:${RESOURCE}_alice`],
    ['teams extension user (three segments)', `8:acs:${RESOURCE}_${USER}_${USER}`],
    ['Entra workforce user (wf segment)', `8:acs:${RESOURCE}_wf_${RESOURCE}_${USER}`],
    ['UUID without dashes', `8:acs:${RESOURCE}_${USER.replaceAll('-', '')}`],
    ['upper-case prefix', `8:ACS:${RESOURCE}_${USER}`],
    ['trailing newline', `8:acs:${RESOURCE}_${USER}\n`],
    ['percent-encoded (as in the URL path)', encodeURIComponent(`8:acs:${RESOURCE}_${USER}`)],
  ])('refuses %s with ERR_IDENTIFIER_INVALID', (_name, raw) => {
    const error = catchTessera(() => parseRawId(raw));
    expect(error.code).toBe('ERR_IDENTIFIER_INVALID');
    expect(error.message).toBe('Identifier format is invalid.');
    expect(error.target).toBe('id');
    // parseClaims checks a token's sub with the allocation-free isRawId: it must refuse the same.
    expect(isRawId(raw)).toBe(false);
  });

  it('the remembered last parse answers only for the same text: a bad id after a good one still throws', () => {
    const good = formatRawId('6c3f5a8e-1b2d-4c3e-9f70-0a1b2c3d4e5f', '0190a3c2-7b1e-7c3d-8e4f-5a6b7c8d9e0f');
    const first = parseRawId(good);
    expect(parseRawId(good)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => parseRawId('')).toThrow(expect.objectContaining({ code: 'ERR_IDENTIFIER_INVALID' }));
    expect(() => parseRawId(`${good}x`)).toThrow(expect.objectContaining({ code: 'ERR_IDENTIFIER_INVALID' }));
    expect(parseRawId(good.toUpperCase().replace('8:ACS:', '8:acs:')).rawId).toBe(good);
  });

  it('isRawId accepts what parseRawId accepts, in any case', () => {
    const raw = formatRawId(RESOURCE, USER);
    for (const candidate of [
      raw,
      raw.toUpperCase().replace('8:ACS:', '8:acs:'),
      '8:acs:0000000d-06f2-cf20-c80d-454822000f38_0000000d-06f2-cf20-c80d-454822000f38',
    ]) {
      expect(isRawId(candidate)).toBe(true);
      expect(() => parseRawId(candidate)).not.toThrow();
    }
  });

  it('isUuid accepts canonical UUIDs of any case and nothing else', () => {
    expect(isUuid(USER)).toBe(true);
    expect(isUuid(USER.toUpperCase())).toBe(true);
    expect(isUuid(`{${USER}}`)).toBe(false);
    expect(isUuid(`${USER} `)).toBe(false);
    expect(isUuid('0192f3a4-5b6c-7d8e-9f01-23456789abcg')).toBe(false);
  });

  it('an upper-case raw id is either refused or parsed to a rawId consistent with its lower-cased parts', () => {
    // Otherwise `sub`/`skypeid` (from rawId) and `resourceId` (from the parts) of one token disagree, and a
    // store keyed by rawId misses the identity the parts name.
    const upper = `8:acs:${RESOURCE.toUpperCase()}_${USER.toUpperCase()}`;
    let parsed: ReturnType<typeof parseRawId> | undefined;
    try {
      parsed = parseRawId(upper);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) expect(parsed.rawId).toBe(formatRawId(parsed.resourceId, parsed.userId));
  });
});
