import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from '@tessera/verifier';

/** Options of {@link createNodeFetch}. */
export interface NodeFetchOptions {
  /** Extra certificate authorities (PEM) to trust over HTTPS, e.g. the identity server's `--tls-dev` CA. */
  readonly ca?: string | undefined;
}

/**
 * A `fetch` for the verifier on `node:http(s)`, so a chat service can trust a CA of its own (`--identity-ca`)
 * without `NODE_EXTRA_CA_CERTS`. Streams the response body (the revocation feed is server-sent events) and honours
 * `signal`.
 */
export function createNodeFetch(options: NodeFetchOptions = {}): FetchLike {
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input);
      const headers = new Headers(init.headers);
      const plain: Record<string, string> = {};
      headers.forEach((value, key) => {
        plain[key] = value;
      });
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(
        url,
        {
          method: init.method ?? 'GET',
          headers: plain,
          ...(url.protocol === 'https:' && options.ca !== undefined ? { ca: options.ca } : {}),
        },
        (res) => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            if (typeof value === 'string') responseHeaders.set(key, value);
            else if (Array.isArray(value)) for (const v of value) responseHeaders.append(key, v);
          }
          const status = res.statusCode ?? 500;
          const body = status === 204 || status === 304 ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
          resolve(new Response(body, { status, headers: responseHeaders }));
        },
      );
      const signal = init.signal;
      if (signal !== undefined && signal !== null) {
        if (signal.aborted) {
          req.destroy();
          reject(signal.reason ?? new Error('aborted'));
          return;
        }
        signal.addEventListener(
          'abort',
          () => req.destroy(signal.reason instanceof Error ? signal.reason : undefined),
          {
            once: true,
          },
        );
      }
      req.on('error', reject);
      if (typeof init.body === 'string') req.end(init.body);
      else req.end();
    });
}
