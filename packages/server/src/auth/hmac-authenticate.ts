import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { buildStringToSign, parseHmacAuthorization, parseHttpDate, TesseraError } from '@tessera/core';
import type { KeyRing, LiveAccessKey } from './key-ring.js';

/** The facts of a request HMAC authentication looks at. */
export interface HmacRequest {
  readonly method: string;
  /** Path and query exactly as received (still percent-encoded). */
  readonly rawUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The exact body bytes. */
  readonly body: Buffer;
  /** The local port the request arrived on. */
  readonly localPort?: number | undefined;
}

/** Options for {@link hmacAuthenticate}. */
export interface HmacAuthenticateOptions {
  readonly keys: KeyRing;
  /** Now, Unix milliseconds. */
  readonly nowMs: number;
  /** Largest accepted distance between x-ms-date and now, in milliseconds (the replay window). */
  readonly maxSkewMs: number;
  /** The public endpoint's host (`--public-url`), when one is configured. */
  readonly publicHost?: string | undefined;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/**
 * The signed host must be this server, so a request captured on its way to another endpoint cannot be
 * replayed here: either the configured public host, or any name with the port the request arrived on
 * (`localhost:8080` and `127.0.0.1:8080` are both fine locally). Behind a proxy, set `--public-url`.
 */
function hostIsOurs(host: string, options: HmacAuthenticateOptions, localPort: number | undefined): boolean {
  // Clients send the same host header on every request: the last answer is kept (a `new URL` per request showed
  // in the issue path's profile).
  if (host === lastHost.host && localPort === lastHost.localPort && options.publicHost === lastHost.publicHost) {
    return lastHost.ours;
  }
  const ours = decideHost(host, options, localPort);
  lastHost = { host, localPort, publicHost: options.publicHost, ours };
  return ours;
}

let lastHost: {
  readonly host: string;
  readonly localPort: number | undefined;
  readonly publicHost: string | undefined;
  readonly ours: boolean;
} = { host: '', localPort: undefined, publicHost: undefined, ours: false };

function decideHost(host: string, options: HmacAuthenticateOptions, localPort: number | undefined): boolean {
  const given = host.toLowerCase();
  if (options.publicHost !== undefined && given === options.publicHost.toLowerCase()) return true;
  let port: string;
  try {
    const url = new URL(`http://${given}`);
    port = url.port === '' ? (DEFAULT_PORTS['http:'] ?? '80') : url.port;
  } catch {
    return false;
  }
  return localPort !== undefined && port === String(localPort);
}

function header(req: HmacRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function denied(code: ConstructorParameters<typeof TesseraError>[0], message: string): TesseraError {
  return new TesseraError(code, message);
}

/** SHA-256 of the body, base64 — what `x-ms-content-sha256` must say. */
export function contentHash(body: Buffer): string {
  return hash('sha256', body, 'base64'); // one-shot: no Hash object per request
}

/**
 * The path-and-query forms SDKs sign: raw as sent; the JS SDK's `pathname + '?' + searchParams.toString()`
 * (which re-encodes the query, e.g. `%20` → `+`); Python's over plain HTTP drops the leading slash; some sign
 * it decoded.
 */
function* candidatePaths(rawUrl: string): Generator<string> {
  // Lazily: the raw form matches nearly every request, so the variants are only built after a miss.
  yield rawUrl;
  const q = rawUrl.indexOf('?');
  if (q >= 0) {
    const normalized = `${rawUrl.slice(0, q)}?${new URLSearchParams(rawUrl.slice(q + 1)).toString()}`;
    if (normalized !== rawUrl) yield normalized;
  }
  if (rawUrl.startsWith('/')) yield rawUrl.slice(1);
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(rawUrl);
  } catch {
    // not decodable: only the forms above can match
  }
  if (decoded !== undefined && decoded !== rawUrl) yield decoded;
}

/**
 * Authenticates an ACS-style HMAC-SHA256 request (docs/spec/wire-protocol.md §2) and returns the key that signed it.
 * Each failure is a distinct `ERR_AUTH_*` code whose message names the part that is wrong — never a secret.
 */
export function hmacAuthenticate(req: HmacRequest, options: HmacAuthenticateOptions): LiveAccessKey {
  const authorization = header(req, 'authorization');
  if (authorization === undefined || authorization.trim() === '') {
    throw denied('ERR_AUTH_MISSING', "The request has no 'Authorization' header.");
  }
  const auth = parseHmacAuthorization(authorization.trim());
  const dateHeader = auth.signedHeaders.includes('x-ms-date')
    ? 'x-ms-date'
    : auth.signedHeaders.includes('date')
      ? 'date'
      : undefined;
  if (
    dateHeader === undefined ||
    !auth.signedHeaders.includes('host') ||
    !auth.signedHeaders.includes('x-ms-content-sha256')
  ) {
    throw denied('ERR_AUTH_MALFORMED', "SignedHeaders must be 'x-ms-date;host;x-ms-content-sha256'.");
  }
  const date = header(req, dateHeader);
  const host = header(req, 'host');
  const claimedHash = header(req, 'x-ms-content-sha256');
  for (const [name, value] of [
    [dateHeader, date],
    ['host', host],
    ['x-ms-content-sha256', claimedHash],
  ] as const) {
    if (value === undefined || value === '')
      throw denied('ERR_AUTH_MISSING_HEADER', `The signed header '${name}' is missing.`);
  }
  const dateMs = parseHttpDate(date ?? '');
  if (dateMs === undefined) {
    throw denied(
      'ERR_AUTH_DATE_INVALID',
      `The '${dateHeader}' header is not an RFC 1123 date such as 'Mon, 23 Nov 2026 17:45:27 GMT'.`,
    );
  }
  if (Math.abs(options.nowMs - dateMs) > options.maxSkewMs) {
    throw denied(
      'ERR_AUTH_DATE_OUT_OF_RANGE',
      `The '${dateHeader}' header is more than ${Math.round(options.maxSkewMs / 1000)} seconds away from the server's clock.`,
    );
  }
  if (claimedHash !== contentHash(req.body)) {
    throw denied(
      'ERR_AUTH_CONTENT_HASH_MISMATCH',
      "Request 'x-ms-content-sha256' differs from generated content hash.",
    );
  }
  if (!hostIsOurs(host ?? '', options, req.localPort)) {
    throw denied(
      'ERR_AUTH_HOST_MISMATCH',
      "The signed 'host' is not this server's; behind a proxy, start the server with --public-url set to the public endpoint.",
    );
  }
  const given = Buffer.from(auth.signature, 'base64');
  for (const path of candidatePaths(req.rawUrl)) {
    const stringToSign = buildStringToSign({
      method: req.method,
      pathAndQuery: path,
      date: date ?? '',
      host: host ?? '',
      contentHash: claimedHash ?? '',
    });
    for (const key of options.keys.current()) {
      const expected = createHmac('sha256', key.secret).update(stringToSign, 'utf8').digest();
      if (expected.length === given.length && timingSafeEqual(expected, given)) return key;
    }
  }
  throw denied(
    'ERR_AUTH_SIGNATURE_MISMATCH',
    'The HMAC signature does not match: check the access key and that method, path and query, x-ms-date, host (with port) and content hash are signed as sent.',
  );
}
