import { type HmacSubtle, importHmacKey, signRequestHeaders } from '@tessera/core';

/** Signs bodiless requests with an access key, as the ACS SDKs do (HMAC-SHA256 over the string-to-sign). */
export interface RequestSigner {
  /** The headers (`x-ms-date`, `x-ms-content-sha256`, `Authorization`) for a bodiless request to `url`. */
  headersFor(method: string, url: string, nowMs: number): Promise<Record<string, string>>;
}

/**
 * A {@link RequestSigner} over core's WebCrypto signing. The access key is imported as a non-extractable key once;
 * the base64 text is not kept. Throws `ERR_CONNECTION_STRING_INVALID` for a key that is not base64.
 */
export async function createRequestSigner(accessKey: string, subtle?: HmacSubtle): Promise<RequestSigner> {
  const key = await importHmacKey(accessKey, subtle);
  return {
    async headersFor(method, url, nowMs) {
      return { ...(await signRequestHeaders({ key, method, url, nowMs, subtle })) };
    },
  };
}
