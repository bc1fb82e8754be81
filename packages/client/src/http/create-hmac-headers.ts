import { type HmacKey, type SignedRequestHeaders, importHmacKey, signRequestHeaders } from '@tessera/core';

/** What {@link createHmacHeaders} signs. */
export interface HmacSignInput {
  method: string;
  /** The full request URL exactly as it will be sent (path percent-encoded). */
  url: string | URL;
  /** The exact request body; omitted or empty for a bodiless request. */
  body?: string | undefined;
  /** Either the base64 access key or a key imported with `importHmacKey` (any WebCrypto HMAC `CryptoKey`). */
  key: string | HmacKey;
  /** Signing time; defaults to now. */
  date?: Date | number;
}

/** The headers of an HMAC-SHA256 signed request (docs/spec/wire-protocol.md §2). `host` is informational: fetch sets it. */
export interface HmacHeaders extends SignedRequestHeaders {
  host: string;
}

/**
 * Computes `x-ms-date`, `x-ms-content-sha256` and `Authorization: HMAC-SHA256 ...` for a request, byte for byte
 * as `@azure/communication-common` does (core's `signRequestHeaders`), importing a base64 key first. WebCrypto
 * only, so it runs in browsers, Node and edge runtimes.
 */
export async function createHmacHeaders(input: HmacSignInput): Promise<HmacHeaders> {
  const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
  const key = typeof input.key === 'string' ? await importHmacKey(input.key) : input.key;
  const nowMs = input.date === undefined ? Date.now() : new Date(input.date).getTime();
  const headers = await signRequestHeaders({ key, method: input.method, url, body: input.body, nowMs });
  return { ...headers, host: url.host };
}
