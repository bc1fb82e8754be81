// Pre-signs ACS-style HMAC-SHA256 requests so the load generator spends no CPU on signing.
//
// Each request carries its own x-ms-date (spread over the last few seconds) and therefore its own
// signature. The server accepts an x-ms-date within ±15 minutes (--max-clock-skew default 900 s), so a
// pool signed right before a run stays valid for the whole run. The server has no per-signature replay
// cache, so cycling through the pool is exactly what N distinct clients with valid signatures look like.
import { createHash, createHmac } from 'node:crypto';
import { buildStringToSign, formatHmacAuthorization, parseConnectionString } from '@tessera/core';

/**
 * @param {object} o
 * @param {string} o.connectionString endpoint=…;accesskey=…
 * @param {string} o.method
 * @param {string} o.path path and query exactly as sent
 * @param {string} o.body exact body text ('' for none)
 * @param {number} [o.count] how many distinct signed copies (default 512)
 * @returns {{ method: string, path: string, headers: Record<string,string>, body: string }[]}
 */
export function presign({ connectionString, method, path, body, count = 512 }) {
  const { endpoint, accessKey } = parseConnectionString(connectionString);
  const host = new URL(endpoint).host;
  const key = Buffer.from(accessKey, 'base64');
  const contentHash = createHash('sha256').update(body).digest('base64');
  const now = Date.now();
  const out = [];
  for (let i = 0; i < count; i++) {
    // Distinct dates: one per second over the last `count` seconds, at most 2 minutes back.
    const date = new Date(now - (i % 120) * 1000).toUTCString();
    const stringToSign = buildStringToSign({ method, pathAndQuery: path, date, host, contentHash });
    const signature = createHmac('sha256', key).update(stringToSign).digest('base64');
    const headers = {
      host,
      'x-ms-date': date,
      'x-ms-content-sha256': contentHash,
      authorization: formatHmacAuthorization(signature),
      'x-ms-client-request-id': `bench-${i}`,
    };
    if (body !== '') headers['content-type'] = 'application/json';
    out.push({ method, path, headers, body });
  }
  return out;
}

/** Raw HTTP/1.1 request text (what wrk's `request()` returns), keep-alive, with content-length. */
export function toRawHttp(req) {
  const body = Buffer.from(req.body, 'utf8');
  let text = `${req.method} ${req.path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(req.headers)) text += `${name}: ${value}\r\n`;
  text += `content-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(text, 'latin1'), body]);
}
