import { base64ToBytes, bytesToBase64, utf8 } from '../encoding/base64.js';
import { TesseraError } from '../errors.js';
import { EMPTY_CONTENT_HASH, buildStringToSign, formatHmacAuthorization } from './string-to-sign.js';

// Structural WebCrypto types: core compiles without DOM or Node typings, and a browser's, Node's or an edge
// runtime's `crypto.subtle` and `CryptoKey` fit them as they are.

/** An access key imported for HMAC-SHA256 signing: a WebCrypto `CryptoKey`. */
export interface HmacKey {
  readonly type: string;
  readonly algorithm: { readonly name: string };
}

/** The part of WebCrypto's `SubtleCrypto` that request signing uses. */
export interface HmacSubtle {
  importKey(
    format: 'raw',
    keyData: Uint8Array<ArrayBuffer>,
    algorithm: { name: 'HMAC'; hash: 'SHA-256' },
    extractable: boolean,
    keyUsages: ['sign'],
  ): Promise<HmacKey>;
  sign(algorithm: 'HMAC', key: HmacKey, data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

/** The headers of an HMAC-SHA256 signed request (docs/spec/wire-protocol.md §2); `host` is the one fetch sets itself. */
export interface SignedRequestHeaders {
  'x-ms-date': string;
  'x-ms-content-sha256': string;
  authorization: string;
}

/** Options of {@link signRequestHeaders}. */
export interface SignRequestOptions {
  /** The access key, imported with {@link importHmacKey}. */
  readonly key: HmacKey;
  readonly method: string;
  /** The full request URL as it will be sent (path percent-encoded). */
  readonly url: string | URL;
  /** The exact request body; omitted or empty for a bodiless request. */
  readonly body?: string | undefined;
  /** Signing time, Unix milliseconds (becomes `x-ms-date`). */
  readonly nowMs: number;
  /** WebCrypto to use; default `globalThis.crypto.subtle`. */
  readonly subtle?: HmacSubtle | undefined;
}

function defaultSubtle(): HmacSubtle {
  const subtle = (globalThis as { crypto?: { subtle?: HmacSubtle } }).crypto?.subtle;
  if (subtle === undefined) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'HMAC signing needs WebCrypto (crypto.subtle), which browsers only offer on https or localhost pages.',
    );
  }
  return subtle;
}

/**
 * Imports a base64 access key as a non-extractable HMAC-SHA256 key (the base64 text is not kept). Throws
 * `ERR_CONNECTION_STRING_INVALID` (target `accesskey`) for text that is not base64, without echoing it.
 */
export async function importHmacKey(accessKeyBase64: string, subtle?: HmacSubtle): Promise<HmacKey> {
  const raw = base64ToBytes(accessKeyBase64);
  if (raw === undefined || raw.length === 0) {
    throw new TesseraError('ERR_CONNECTION_STRING_INVALID', 'The access key is not valid base64.', {
      target: 'accesskey',
    });
  }
  return (subtle ?? defaultSubtle()).importKey('raw', new Uint8Array(raw), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
}

/** base64 SHA-256 of the UTF-8 body: the `x-ms-content-sha256` value ({@link EMPTY_CONTENT_HASH} when empty). */
export async function contentHash(body: string | undefined, subtle?: HmacSubtle): Promise<string> {
  if (body === undefined || body === '') return EMPTY_CONTENT_HASH;
  const digest = await (subtle ?? defaultSubtle()).digest('SHA-256', new Uint8Array(utf8(body)));
  return bytesToBase64(new Uint8Array(digest));
}

/**
 * The `x-ms-date`, `x-ms-content-sha256` and `Authorization: HMAC-SHA256 ...` headers of a request, byte for byte
 * as `@azure/communication-common` computes them: the query is signed as `URLSearchParams` re-serialises it.
 */
export async function signRequestHeaders(options: SignRequestOptions): Promise<SignedRequestHeaders> {
  const subtle = options.subtle ?? defaultSubtle();
  const url = typeof options.url === 'string' ? new URL(options.url) : options.url;
  const date = new Date(options.nowMs).toUTCString();
  const hash = await contentHash(options.body, subtle);
  const stringToSign = buildStringToSign({
    method: options.method,
    pathAndQuery: url.search === '' ? url.pathname : `${url.pathname}?${url.searchParams.toString()}`,
    date,
    host: url.host,
    contentHash: hash,
  });
  const mac = await subtle.sign('HMAC', options.key, new Uint8Array(utf8(stringToSign)));
  return {
    'x-ms-date': date,
    'x-ms-content-sha256': hash,
    authorization: formatHmacAuthorization(bytesToBase64(new Uint8Array(mac))),
  };
}
