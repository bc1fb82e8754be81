import { TesseraError } from './errors.js';
import { base64ToBytes } from './encoding/base64.js';

/** A parsed `endpoint=...;accesskey=...` connection string. */
export interface ConnectionString {
  /** Origin with a trailing slash, e.g. `http://127.0.0.1:8080/`. */
  readonly endpoint: string;
  /** The base64 access key. */
  readonly accessKey: string;
}

/** Formats a connection string the official SDKs accept. */
export function formatConnectionString(endpoint: string, accessKey: string): string {
  return `endpoint=${normalizeEndpoint(endpoint)};accesskey=${accessKey}`;
}

/** `http://host:port` or `http://host:port/` → `http://host:port/`; a path prefix is refused, as the SDKs do. */
export function normalizeEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TesseraError('ERR_CONNECTION_STRING_INVALID', 'Endpoint is not a URL.', { target: 'endpoint' });
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '')) {
    throw new TesseraError('ERR_CONNECTION_STRING_INVALID', 'Endpoint must be http(s)://host[:port]/ with no path.', {
      target: 'endpoint',
    });
  }
  return `${url.origin}/`;
}

/**
 * Parses a connection string (keys case-insensitive, any order). Throws `ERR_CONNECTION_STRING_INVALID`
 * naming the part that is wrong; the key is never echoed.
 */
export function parseConnectionString(text: string): ConnectionString {
  const parts = new Map<string, string>();
  for (const segment of text.trim().split(';')) {
    const eq = segment.indexOf('=');
    if (eq > 0) parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }
  const endpoint = parts.get('endpoint');
  const accessKey = parts.get('accesskey');
  if (endpoint === undefined || endpoint === '') {
    throw new TesseraError('ERR_CONNECTION_STRING_INVALID', "Connection string has no 'endpoint='.", {
      target: 'endpoint',
    });
  }
  if (accessKey === undefined || accessKey === '' || base64ToBytes(accessKey) === undefined) {
    throw new TesseraError('ERR_CONNECTION_STRING_INVALID', "Connection string has no valid base64 'accesskey='.", {
      target: 'accesskey',
    });
  }
  return { endpoint: normalizeEndpoint(endpoint), accessKey };
}
