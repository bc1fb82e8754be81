import { isAllowedIssuerUrl } from './is-allowed-issuer-url.js';

/** Options of {@link fetchJsonDocument}. */
export interface FetchJsonDocumentOptions {
  readonly fetch: typeof fetch;
  /** The request is aborted after this long. */
  readonly timeoutMs: number;
  /** Bodies larger than this are refused (read no further). */
  readonly maxBytes: number;
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new Error('the document is too large');
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error('the document is too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * GETs a JSON object (a discovery document or a JWKS) with a timeout and a size limit, from an `https:` URL (or
 * `http:` on loopback) and without following redirects. Throws a plain `Error` whose message names the URL and
 * what went wrong; the caller turns it into its own error.
 */
export async function fetchJsonDocument(
  url: string,
  options: FetchJsonDocumentOptions,
): Promise<Record<string, unknown>> {
  if (!isAllowedIssuerUrl(url)) throw new Error(`${url} is not an https:// URL (http:// only on loopback)`);
  const signal = AbortSignal.timeout(options.timeoutMs);
  let text: string;
  try {
    const response = await options.fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`answered ${response.status}`);
    }
    text = await readLimited(response, options.maxBytes);
  } catch (error) {
    throw new Error(`GET ${url}: ${error instanceof Error ? error.message : 'failed'}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`GET ${url}: the answer is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
