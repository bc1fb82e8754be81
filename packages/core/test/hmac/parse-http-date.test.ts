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
