import {
  TesseraError,
  base64ToBytes,
  buildStringToSign,
  bytesToBase64,
  formatHmacAuthorization,
  utf8,
} from '@tessera/core';

/** What {@link createHmacHeaders} signs. */
export interface HmacSignInput {
  method: string;
  /** The full request URL exactly as it will be sent (path percent-encoded). */
  url: string | URL;
  /** The exact request body; omitted or empty for a bodiless request. */
  body?: string | undefined;
  /** Either the base64 access key or a key imported with {@link importHmacKey}. */
  key: string | CryptoKey;
  /** Signing time; defaults to now. */
  date?: Date | number;
}

/** The headers of an HMAC-SHA256 signed request (acs-wire.md §2). `host` is informational: fetch sets it. */
export interface HmacHeaders {
  'x-ms-date': string;
  'x-ms-content-sha256': string;
  authorization: string;
  host: string;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'HMAC signing needs WebCrypto (crypto.subtle), which browsers only offer on https or localhost pages.',
    );
  }
  return s;
}

/** Imports a base64 access key for HMAC-SHA256 signing. Throws `ERR_CONNECTION_STRING_INVALID` for bad base64. */
export async function importHmacKey(accessKey: string): Promise<CryptoKey> {
  const raw = base64ToBytes(accessKey);
  if (raw === undefined || raw.length === 0) {
    throw new TesseraError('ERR_CONNECTION_STRING_INVALID', 'The access key is not valid base64.', {
      target: 'accesskey',
    });
  }
  return subtle().importKey('raw', new Uint8Array(raw), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** base64 SHA-256 of the UTF-8 body, the `x-ms-content-sha256` value. */
export async function contentHash(body: string | undefined): Promise<string> {
  const digest = await subtle().digest('SHA-256', new Uint8Array(utf8(body ?? '')));
  return bytesToBase64(new Uint8Array(digest));
}

/**
 * Computes `x-ms-date`, `x-ms-content-sha256` and `Authorization: HMAC-SHA256 ...` for a request, byte for
 * byte as `@azure/communication-common` does: string-to-sign
 * `VERB\n<path?query>\n<x-ms-date>;<host[:port]>;<content hash>`, HMAC'd with the base64-decoded key.
 * Uses WebCrypto only, so it runs in browsers, Node and edge runtimes.
 */
export async function createHmacHeaders(input: HmacSignInput): Promise<HmacHeaders> {
  const url = typeof input.url === 'string' ? new URL(input.url) : input.url;
  const date = new Date(input.date ?? Date.now()).toUTCString();
  const hash = await contentHash(input.body);
  const stringToSign = buildStringToSign({
    method: input.method,
    // As the official policy does: the query re-serialised by URLSearchParams (identical for api-version).
    pathAndQuery: url.search === '' ? url.pathname : `${url.pathname}?${url.searchParams.toString()}`,
    date,
    host: url.host,
    contentHash: hash,
  });
  const key = typeof input.key === 'string' ? await importHmacKey(input.key) : input.key;
  const signature = await subtle().sign('HMAC', key, new Uint8Array(utf8(stringToSign)));
  return {
    'x-ms-date': date,
    'x-ms-content-sha256': hash,
    authorization: formatHmacAuthorization(bytesToBase64(new Uint8Array(signature))),
    host: url.host,
  };
}
