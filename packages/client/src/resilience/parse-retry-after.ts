import { parseHttpDate } from '@tessera/core';

/** The header-reading part of `Headers`, so plain objects work in tests. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * How long the server asked the client to wait, in milliseconds, or undefined when it did not say:
 * `retry-after-ms` / `x-ms-retry-after-ms` (milliseconds) first, then `Retry-After` as delta-seconds or an
 * HTTP-date (relative to `nowMs`; a date in the past means "now", i.e. 0).
 */
export function parseRetryAfter(headers: HeaderReader, nowMs: number): number | undefined {
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = headers.get(name)?.trim();
    if (value !== undefined && /^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value));
  }
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = parseHttpDate(value) ?? Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
