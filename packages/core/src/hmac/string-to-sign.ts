import { TesseraError } from '../errors.js';

/** The header names a Tessera/ACS HMAC request signs, in order. */
export const SIGNED_HEADERS = ['x-ms-date', 'host', 'x-ms-content-sha256'] as const;

/** SHA-256 of the empty body, base64: what a bodiless request sends as `x-ms-content-sha256`. */
export const EMPTY_CONTENT_HASH = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

/** Inputs of the HMAC-SHA256 string-to-sign (docs/spec/wire-protocol.md §2). */
export interface StringToSignParts {
  /** HTTP method, any case. */
  method: string;
  /** Path and query exactly as sent (percent-encoded). */
  pathAndQuery: string;
  /** The `x-ms-date` value (RFC 1123). */
  date: string;
  /** The request authority, with the port when it is not the scheme's default. */
  host: string;
  /** base64 SHA-256 of the exact body bytes. */
  contentHash: string;
}

/** `VERB\npathAndQuery\ndate;host;contentHash` — the text both sides HMAC with the decoded access key. */
export function buildStringToSign(parts: StringToSignParts): string {
  return `${parts.method.toUpperCase()}\n${parts.pathAndQuery}\n${parts.date};${parts.host};${parts.contentHash}`;
}

/** A parsed `Authorization: HMAC-SHA256 SignedHeaders=...&Signature=...` header. */
export interface HmacAuthorization {
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Formats the Authorization header value for a computed signature. */
export function formatHmacAuthorization(signature: string): string {
  return `HMAC-SHA256 SignedHeaders=${SIGNED_HEADERS.join(';')}&Signature=${signature}`;
}

const CANONICAL_PREFIX = formatHmacAuthorization('');
const CANONICAL_SIGNED_HEADERS: readonly string[] = Object.freeze([...SIGNED_HEADERS]);

/**
 * The one encoding of an HMAC-SHA256 value: padded standard base64 of exactly 32 bytes, 44 characters, with the
 * unused low bits of the last character zero. Everything else (base64url, missing or extra padding, spaces,
 * non-zero trailing bits that decode to the same bytes) is refused, so one signature has one spelling.
 */
const CANONICAL_SIGNATURE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

function malformedAuthorization(message: string): TesseraError {
  return new TesseraError('ERR_AUTH_MALFORMED', message);
}

const USAGE =
  'Authorization header must be "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>".';

/**
 * Parses an HMAC Authorization header. Throws `ERR_AUTH_UNSUPPORTED_SCHEME` for another scheme and
 * `ERR_AUTH_MALFORMED` when a parameter is missing or given twice, or the signature is not the canonical base64 of
 * 32 bytes. The signature itself is never put in a message.
 */
export function parseHmacAuthorization(header: string): HmacAuthorization {
  // What every SDK sends, exactly: read without splitting (the general parse below gives the same answer for it;
  // anything else, including a non-canonical signature, takes the general parse and its precise message).
  if (header.length === CANONICAL_PREFIX.length + 44 && header.startsWith(CANONICAL_PREFIX)) {
    const signature = header.slice(CANONICAL_PREFIX.length);
    if (CANONICAL_SIGNATURE.test(signature)) return { signedHeaders: CANONICAL_SIGNED_HEADERS, signature };
  }
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toUpperCase() !== 'HMAC-SHA256') {
    throw new TesseraError('ERR_AUTH_UNSUPPORTED_SCHEME', 'Authorization scheme is not supported; use HMAC-SHA256.');
  }
  const params = new Map<string, string>();
  for (const part of header
    .slice(space + 1)
    .trim()
    .split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    // A parameter given twice has two meanings depending on which one a reader takes: refuse it.
    if (params.has(name)) throw malformedAuthorization(`The Authorization header carries '${name}' more than once.`);
    params.set(name, part.slice(eq + 1).trim());
  }
  const signedHeaders = params.get('signedheaders');
  const signature = params.get('signature');
  if (signedHeaders === undefined || signedHeaders === '' || signature === undefined || signature === '') {
    throw malformedAuthorization(USAGE);
  }
  if (!CANONICAL_SIGNATURE.test(signature)) {
    throw malformedAuthorization('The Authorization Signature must be the padded base64 of a 32-byte HMAC-SHA256.');
  }
  return { signedHeaders: signedHeaders.toLowerCase().split(';'), signature };
}

const WEEKDAYS = ['Thu', 'Fri', 'Sat', 'Sun', 'Mon', 'Tue', 'Wed']; // day 0 of the epoch was a Thursday
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;

/** The number of `length` ASCII digits at `at`, or -1. */
function digits(text: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 1) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month] ?? 0;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/**
 * Parses an RFC 1123 date header value (IMF-fixdate, `Mon, 23 Nov 2026 17:45:27 GMT`, what `toUTCString` writes);
 * undefined when it is not one. Exactly the strings `toUTCString` can produce: weekday and calendar must agree,
 * no 24:00 or second 60, names in their canonical case. Hand-parsed: it runs on every HMAC-authenticated request,
 * where `Date.parse` plus a `toUTCString` round trip cost 11 % of the issue-token main thread (BENCH_PROFILE=1).
 */
export function parseHttpDate(value: string): number | undefined {
  const text = value.length === 29 ? value : value.trim();
  if (text.length !== 29 || text.charCodeAt(3) !== 44 || !text.endsWith(' GMT')) return undefined; // ','
  if (text[4] !== ' ' || text[7] !== ' ' || text[11] !== ' ' || text[16] !== ' ') return undefined;
  if (text[19] !== ':' || text[22] !== ':') return undefined;
  const day = digits(text, 5, 2);
  const month = MONTHS.indexOf(text.slice(8, 11));
  const year = digits(text, 12, 4);
  const hour = digits(text, 17, 2);
  const minute = digits(text, 20, 2);
  const second = digits(text, 23, 2);
  // Years 0–99 are refused, as Date.parse reads them as 1900–1999 (and Date.UTC below would too).
  if (month < 0 || year < 100 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const midnight = Date.UTC(year, month, day);
  const weekday = WEEKDAYS[(((midnight / DAY_MS) % 7) + 7) % 7];
  if (text.slice(0, 3) !== weekday) return undefined;
  return midnight + ((hour * 60 + minute) * 60 + second) * 1000;
}
