import { verifierError } from './errors.js';

/** The `fetch` the verifier uses; inject one for tests, proxies or custom TLS. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** What the verifier needs to know about the identity server. */
export interface ServerMetadata {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  readonly revocationFeedUrl: string;
}

/** Options of {@link fetchServerMetadata}. */
export interface FetchServerMetadataOptions {
  /** The identity server's endpoint, normalised (`http://host:port/`). */
  endpoint: string;
  fetch: FetchLike;
  /** Values that override the server's. */
  issuer?: string | undefined;
  audience?: string | undefined;
  signal?: AbortSignal | undefined;
}

function stringField(doc: Record<string, unknown>, key: string): string | undefined {
  const v = doc[key];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * Reads `/.well-known/openid-configuration` (issuer, tessera_audience, jwks_uri, revocation_feed_endpoint).
 * Throws `ERR_STORE_UNAVAILABLE` when the server cannot be reached or answers with something else.
 */
export async function fetchServerMetadata(options: FetchServerMetadataOptions): Promise<ServerMetadata> {
  const url = new URL('.well-known/openid-configuration', options.endpoint).href;
  let doc: Record<string, unknown>;
  try {
    const res = await options.fetch(url, {
      headers: { accept: 'application/json' },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (!res.ok) throw new Error(`discovery answered HTTP ${res.status}`);
    const body: unknown = await res.json();
    if (typeof body !== 'object' || body === null) throw new Error('discovery document is not an object');
    doc = body as Record<string, unknown>;
  } catch (cause) {
    throw verifierError('ERR_STORE_UNAVAILABLE', { detail: 'discovery document unavailable', cause });
  }
  const issuer = options.issuer ?? stringField(doc, 'issuer');
  const audience = options.audience ?? stringField(doc, 'tessera_audience');
  if (issuer === undefined || audience === undefined) {
    throw verifierError('ERR_STORE_UNAVAILABLE', {
      detail: 'discovery document has no issuer or tessera_audience; pass them as options',
    });
  }
  return {
    issuer,
    audience,
    jwksUri: stringField(doc, 'jwks_uri') ?? new URL('.well-known/jwks.json', options.endpoint).href,
    revocationFeedUrl: stringField(doc, 'revocation_feed_endpoint') ?? new URL('revocations', options.endpoint).href,
  };
}
