import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkTokenTimes } from '../../src/index.js';
import { catchTessera } from '../support/secrets.js';

// Frozen clock: a token issued at 2026-01-01T00:00:00Z for 60 minutes.
const NBF = 1767225600;
const EXP = NBF + 3600;
const claims = { nbf: NBF, exp: EXP };

afterEach(() => {
  vi.useRealTimers();
});

describe('checkTokenTimes', () => {
  it('accepts from nbf (inclusive) to exp (exclusive), to the millisecond', () => {
    expect(() => checkTokenTimes(claims, { nowMs: NBF * 1000 })).not.toThrow();
    expect(() => checkTokenTimes(claims, { nowMs: EXP * 1000 - 1 })).not.toThrow();
    expect(catchTessera(() => checkTokenTimes(claims, { nowMs: EXP * 1000 })).code).toBe('ERR_TOKEN_EXPIRED');
    expect(catchTessera(() => checkTokenTimes(claims, { nowMs: NBF * 1000 - 1 })).code).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('leeway extends both ends by exactly leewaySeconds', () => {
    const leewaySeconds = 30;
    expect(() => checkTokenTimes(claims, { nowMs: (EXP + 30) * 1000 - 1, leewaySeconds })).not.toThrow();
    expect(catchTessera(() => checkTokenTimes(claims, { nowMs: (EXP + 30) * 1000, leewaySeconds })).code).toBe(
      'ERR_TOKEN_EXPIRED',
    );
    expect(() => checkTokenTimes(claims, { nowMs: (NBF - 30) * 1000, leewaySeconds })).not.toThrow();
    expect(catchTessera(() => checkTokenTimes(claims, { nowMs: (NBF - 30) * 1000 - 1, leewaySeconds })).code).toBe(
      'ERR_TOKEN_NOT_YET_VALID',
    );
  });

  it('a zero leeway is the default', () => {
    expect(catchTessera(() => checkTokenTimes(claims, { nowMs: EXP * 1000, leewaySeconds: 0 })).code).toBe(
      'ERR_TOKEN_EXPIRED',
    );
  });

  it('judges by the clock it is given, not the wall clock', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date((EXP + 86_400) * 1000));
    expect(() => checkTokenTimes(claims, { nowMs: NBF * 1000 + 1 })).not.toThrow();
    vi.setSystemTime(new Date(0));
    expect(catchTessera(() => checkTokenTimes(claims, { nowMs: EXP * 1000 })).code).toBe('ERR_TOKEN_EXPIRED');
  });

  it('fails closed on a NaN clock or NaN leeway (e.g. leewaySeconds: Number(process.env.UNSET))', () => {
    expect(() => checkTokenTimes(claims, { nowMs: Number.NaN })).toThrow();
    expect(() => checkTokenTimes(claims, { nowMs: (EXP + 86_400) * 1000, leewaySeconds: Number.NaN })).toThrow();
  });
});
