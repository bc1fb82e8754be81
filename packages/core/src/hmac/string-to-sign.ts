import { TesseraError } from '../errors.js';

/** The header names a Tessera/ACS HMAC request signs, in order. */
export const SIGNED_HEADERS = ['x-ms-date', 'host', 'x-ms-content-sha256'] as const;

/** SHA-256 of the empty body, base64: what a bodiless request sends as `x-ms-content-sha256`. */
export const EMPTY_CONTENT_HASH = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';

/** Inputs of the HMAC-SHA256 string-to-sign (acs-wire.md §2). */
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

/**
 * Parses an HMAC Authorization header. Throws `ERR_AUTH_UNSUPPORTED_SCHEME` for another scheme and
 * `ERR_AUTH_MALFORMED` when the parameters are missing. The signature itself is never put in a message.
 */
export function parseHmacAuthorization(header: string): HmacAuthorization {
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
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const signedHeaders = params.get('signedheaders');
  const signature = params.get('signature');
  if (signedHeaders === undefined || signedHeaders === '' || signature === undefined || signature === '') {
    throw new TesseraError(
      'ERR_AUTH_MALFORMED',
      'Authorization header must be "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>".',
    );
  }
  return { signedHeaders: signedHeaders.toLowerCase().split(';'), signature };
}

/** Parses an RFC 1123 date header value; undefined when it is not a date. */
export function parseHttpDate(value: string): number | undefined {
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value.trim())) return undefined;
  const ms = Date.parse(value);
  // Round-trip: refuses impossible calendar times Date.parse would roll forward (31 Feb, 24:00) and wrong weekdays.
  return Number.isNaN(ms) || new Date(ms).toUTCString() !== value.trim() ? undefined : ms;
}
