import {
  EMPTY_CONTENT_HASH,
  base64ToBytes,
  buildStringToSign,
  bytesToBase64,
  formatHmacAuthorization,
} from '@tessera/core';

const encoder = new TextEncoder();

/** Signs bodiless requests with an access key, as the ACS SDKs do (HMAC-SHA256 over the string-to-sign). */
export interface RequestSigner {
  /** The headers (`x-ms-date`, `x-ms-content-sha256`, `Authorization`) for a bodiless request to `url`. */
  headersFor(method: string, url: string, nowMs: number): Promise<Record<string, string>>;
}

/**
 * A {@link RequestSigner} over WebCrypto HMAC. The access key is imported as a non-extractable key once; the
 * base64 text is not kept.
 */
export async function createRequestSigner(
  accessKey: string,
  subtle: SubtleCrypto = globalThis.crypto.subtle,
): Promise<RequestSigner> {
  const raw = base64ToBytes(accessKey);
  if (raw === undefined) throw new TypeError('access key is not base64');
  const key = await subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  return {
    async headersFor(method: string, url: string, nowMs: number): Promise<Record<string, string>> {
      const u = new URL(url);
      const date = new Date(nowMs).toUTCString();
      const stringToSign = buildStringToSign({
        method,
        pathAndQuery: `${u.pathname}${u.search}`,
        date,
        host: u.host,
        contentHash: EMPTY_CONTENT_HASH,
      });
      const mac = new Uint8Array(await subtle.sign('HMAC', key, encoder.encode(stringToSign)));
      return {
        'x-ms-date': date,
        'x-ms-content-sha256': EMPTY_CONTENT_HASH,
        authorization: formatHmacAuthorization(bytesToBase64(mac)),
      };
    },
  };
}
