import { describe, expect, it } from 'vitest';
import { fullJitterDelay, parseRetryAfter } from '../../src/index.js';

const headers = (h: Record<string, string>) => new Headers(h);
const NOW = Date.parse('2026-03-01T12:00:00.000Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '5' }), NOW)).toBe(5_000);
    expect(parseRetryAfter(headers({ 'retry-after': '0' }), NOW)).toBe(0);
    expect(parseRetryAfter(headers({ 'retry-after': '1.5' }), NOW)).toBe(1_500);
  });

  it('reads an HTTP-date relative to now, a past date meaning now', () => {
    expect(parseRetryAfter(headers({ 'retry-after': new Date(NOW + 30_000).toUTCString() }), NOW)).toBe(30_000);
    expect(parseRetryAfter(headers({ 'retry-after': new Date(NOW - 30_000).toUTCString() }), NOW)).toBe(0);
  });

  it('prefers retry-after-ms, then x-ms-retry-after-ms, over Retry-After', () => {
    expect(parseRetryAfter(headers({ 'retry-after-ms': '120', 'retry-after': '9' }), NOW)).toBe(120);
    expect(parseRetryAfter(headers({ 'x-ms-retry-after-ms': '80', 'retry-after': '9' }), NOW)).toBe(80);
  });

  it('ignores absent or unparseable values', () => {
    expect(parseRetryAfter(headers({}), NOW)).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), NOW)).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after-ms': '-5' }), NOW)).toBeUndefined();
  });
});

describe('fullJitterDelay', () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1_000 };

  it('draws uniformly below a ceiling that doubles per retry', () => {
    expect([1, 2, 3, 4].map((n) => fullJitterDelay(n, options, () => 0.999))).toEqual([99, 199, 399, 799]);
    expect(fullJitterDelay(3, options, () => 0)).toBe(0);
  });

  it('never exceeds maxDelayMs however many retries', () => {
    for (const n of [5, 10, 50, 1_000]) expect(fullJitterDelay(n, options, () => 0.999999)).toBeLessThan(1_000);
  });

  it('respects a floor', () => {
    expect(fullJitterDelay(1, { ...options, minDelayMs: 60 }, () => 0)).toBe(60);
    expect(fullJitterDelay(1, { ...options, minDelayMs: 60 }, () => 0.5)).toBe(80);
  });
});
