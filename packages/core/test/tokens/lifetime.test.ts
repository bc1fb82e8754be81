import { describe, expect, it } from 'vitest';
import {
  MAX_CUSTOM_ID_LENGTH,
  MAX_TOKEN_MINUTES,
  MIN_TOKEN_MINUTES,
  parseCustomId,
  parseExpiresInMinutes,
} from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

describe('parseExpiresInMinutes (docs/spec/wire-protocol.md §1.3, §1.5)', () => {
  it('bounds are 60 and 1440, default 1440', () => {
    expect(MIN_TOKEN_MINUTES).toBe(60);
    expect(MAX_TOKEN_MINUTES).toBe(1440);
  });

  it('null and missing mean the default, 1440 (python sent explicit nulls)', () => {
    expect(parseExpiresInMinutes(undefined)).toBe(1440);
    expect(parseExpiresInMinutes(null)).toBe(1440);
  });

  it.each([60, 61, 720, 1439, 1440])('accepts %i', (minutes) => {
    expect(parseExpiresInMinutes(minutes)).toBe(minutes);
  });

  it.each([59, 1441, 0, -60, 100_000])('refuses %i with the recorded message', (minutes) => {
    const error = catchTessera(() => parseExpiresInMinutes(minutes));
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.message).toBe(
      `ExpiresInMinutes value ${minutes} is invalid. Value must be within the [60, 1440] interval.`,
    );
    expect(error.target).toBe('ExpiresInMinutes');
  });

  it('matches the two captured service bodies byte for byte (1441 on issue, 59 on create)', () => {
    expect(() => parseExpiresInMinutes(1441)).toThrow(
      'ExpiresInMinutes value 1441 is invalid. Value must be within the [60, 1440] interval.',
    );
    expect(() => parseExpiresInMinutes(59)).toThrow(
      'ExpiresInMinutes value 59 is invalid. Value must be within the [60, 1440] interval.',
    );
  });

  it.each([
    ['fractional', 60.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['numeric string', '60'],
    ['boolean', true],
    ['array', [60]],
    ['object', { minutes: 60 }],
  ])('refuses a non-integer (%s) as not a valid integer', (_name, value) => {
    const error = catchTessera(() => parseExpiresInMinutes(value));
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.message).toBe('ExpiresInMinutes: The value is not a valid integer.');
    expect(error.target).toBe('ExpiresInMinutes');
  });

  it('60.0 is the integer 60 once parsed from JSON', () => {
    expect(parseExpiresInMinutes(JSON.parse('60.0'))).toBe(60);
  });
});

describe('parseCustomId (2025-03-02-preview)', () => {
  it('null and missing mean no customId', () => {
    expect(parseCustomId(undefined)).toBeUndefined();
    expect(parseCustomId(null)).toBeUndefined();
  });

  it('accepts 1 and 256 characters, refuses 0 and 257', () => {
    expect(MAX_CUSTOM_ID_LENGTH).toBe(256);
    expect(parseCustomId('a')).toBe('a');
    expect(parseCustomId('a'.repeat(256))).toBe('a'.repeat(256));
    for (const length of [0, 257]) {
      const error = catchTessera(() => parseCustomId('a'.repeat(length)));
      expect(error.code).toBe('ERR_VALIDATION');
      expect(error.message).toBe(`CustomId length ${length} is invalid. Length must be within the [1, 256] interval.`);
      expect(error.target).toBe('customId');
    }
  });

  it('keeps the value exactly (no trimming, no case folding, unicode intact)', () => {
    expect(parseCustomId(' Sally@Contoso.com ')).toBe(' Sally@Contoso.com ');
    expect(parseCustomId('zoë 例え 🎉')).toBe('zoë 例え 🎉');
  });

  it('counts length in UTF-16 code units, like .NET string length on the service', () => {
    expect(parseCustomId('🎉'.repeat(128))).toBe('🎉'.repeat(128));
    expect(() => parseCustomId('🎉'.repeat(129))).toThrow('CustomId length 258 is invalid.');
  });

  it.each([
    ['number', 42],
    ['boolean', false],
    ['array', ['a']],
    ['object', {}],
  ])('refuses a %s', (_name, value) => {
    const error = catchTessera(() => parseCustomId(value));
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.message).toBe('CustomId: The CustomId field must be a string.');
    expect(error.target).toBe('customId');
  });

  it('does not echo the customId value in errors (it may be an e-mail address)', () => {
    const error = catchTessera(() => parseCustomId(`${'sally@contoso.com'.repeat(16)}`));
    expect(error.message).not.toContain('sally');
  });
});
