import { describe, expect, it } from 'vitest';
import { parseHttpDate } from '../../src/index.js';

describe('parseHttpDate (x-ms-date, RFC 1123 / IMF-fixdate)', () => {
  it('parses what Date#toUTCString produces (what the SDK sends)', () => {
    for (const ms of [
      0,
      Date.UTC(2026, 10, 23, 17, 45, 27),
      Date.UTC(2026, 1, 3, 4, 5, 6),
      Date.UTC(2099, 11, 31, 23, 59, 59),
    ]) {
      expect(parseHttpDate(new Date(ms).toUTCString())).toBe(ms);
    }
    expect(parseHttpDate('Mon, 23 Nov 2026 17:45:27 GMT')).toBe(Date.UTC(2026, 10, 23, 17, 45, 27));
  });

  it.each([
    ['ISO 8601', '2026-11-23T17:45:27Z'],
    ['ISO 8601 with millis', '2026-11-23T17:45:27.000Z'],
    ['RFC 850', 'Monday, 23-Nov-26 17:45:27 GMT'],
    ['asctime', 'Mon Nov 23 17:45:27 2026'],
    ['no zone', 'Mon, 23 Nov 2026 17:45:27'],
    ['UTC instead of GMT', 'Mon, 23 Nov 2026 17:45:27 UTC'],
    ['numeric offset', 'Mon, 23 Nov 2026 17:45:27 +0000'],
    ['one-digit day', 'Mon, 3 Nov 2026 17:45:27 GMT'],
    ['unknown month', 'Mon, 23 Foo 2026 17:45:27 GMT'],
    ['hour 25', 'Mon, 23 Nov 2026 25:45:27 GMT'],
    ['milliseconds', 'Mon, 23 Nov 2026 17:45:27.123 GMT'],
    ['epoch number', '1795456527000'],
    ['empty', ''],
  ])('refuses %s', (_n, value) => {
    expect(parseHttpDate(value)).toBeUndefined();
  });

  it.each([
    ['31 February (Date.parse rolls it over to 3 March)', 'Tue, 31 Feb 2026 10:00:00 GMT'],
    ['hour 24 (rolls over to the next day)', 'Mon, 23 Nov 2026 24:00:00 GMT'],
  ])('refuses an impossible calendar time: %s', (_n, value) => {
    // (second 60 is not here: IMF-fixdate allows it for leap seconds.)
    expect(parseHttpDate(value)).toBeUndefined();
  });
});

// parseHttpDate is hand-parsed for speed (it runs on every HMAC request). It must accept and refuse exactly what the
// former definition did: the RFC 1123 shape, Date.parse, and a toUTCString round trip.
function reference(value: string): number | undefined {
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value.trim())) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || new Date(ms).toUTCString() !== value.trim() ? undefined : ms;
}

describe('parseHttpDate agrees with the Date.parse + round-trip definition', () => {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const samples = Array.from({ length: 2000 }, () => new Date(Math.floor(random() * 8e12) - 1e12).toUTCString());
  const edges = [
    'Sat, 29 Feb 2020 00:00:00 GMT', // leap day
    'Fri, 29 Feb 2019 00:00:00 GMT', // not a leap year
    'Tue, 29 Feb 2000 00:00:00 GMT', // divisible by 400
    'Mon, 29 Feb 2100 00:00:00 GMT', // divisible by 100
    'Thu, 01 Jan 1970 00:00:00 GMT',
    'Wed, 31 Dec 1969 23:59:59 GMT',
    'Mon, 01 Jan 0001 00:00:00 GMT',
    'Sat, 01 Jan 0050 00:00:00 GMT',
    'Fri, 31 Dec 9999 23:59:59 GMT',
    'Mon, 23 Nov 2026 23:59:60 GMT',
    'Mon, 00 Nov 2026 10:00:00 GMT',
    'Mon, 31 Nov 2026 10:00:00 GMT',
    ' Mon, 23 Nov 2026 17:45:27 GMT ',
    '\tMon, 23 Nov 2026 17:45:27 GMT',
    'mon, 23 Nov 2026 17:45:27 GMT',
    'Mon, 23 nov 2026 17:45:27 GMT',
    'Mon, 23 Nov 2026 17:45:27 gmt',
    'Mon, 23 Nov 2026 17:45:2a GMT',
    'Mon, 23 Nov 2026 17-45-27 GMT',
    'Mon, +3 Nov 2026 17:45:27 GMT',
    'Mon, 23 Nov 2026 17:45:27 GMT\n',
  ];
  it('on 2,000 random dates across 250 years and their mutations, and on calendar edges', () => {
    const mutations = samples.flatMap((s) => [
      s,
      s.replace(/^.../, 'Sun'), // usually the wrong weekday
      s.replace(/ (\d\d):/, ' 24:'),
      s.replace(/^(.{5})\d\d/, '$131'),
      s.toLowerCase(),
    ]);
    for (const value of [...mutations, ...edges]) expect(parseHttpDate(value), value).toBe(reference(value));
  });
});
