import { createHash, createHmac } from 'node:crypto';
import { buildStringToSign, parseHmacAuthorization } from '@tessera/core';

/** One request the client sent. */
export interface RecordedCall {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

/** What a step does with a request: answer, throw (network error), or hang until aborted. */
export type Step = (call: RecordedCall) => Response | Promise<Response>;

/** JSON response helper. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** An ACS-style error body as Tessera sends it. */
export function errorBody(code: string, message: string, innerCode?: string, target?: string): unknown {
  return {
    error: {
      code,
      message,
      ...(target === undefined ? {} : { target }),
      ...(innerCode === undefined ? {} : { innererror: { code: innerCode, message } }),
    },
  };
}

/** Never answers; rejects like fetch does when the request's signal aborts. */
export const hang: Step = (call) =>
  new Promise<Response>((_, reject) => {
    call.signal?.addEventListener('abort', () => reject(call.signal?.reason), { once: true });
  });

/** A network failure as undici reports it. */
export const refuse: Step = () => {
  throw Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });
};

/**
 * A fetch that answers from a script, one step per request (the last step repeats), and records every
 * request. Fault injection for the client's resilience logic; real servers are used in the e2e tests.
 */
export function scriptedFetch(steps: Step[]): { fetch: typeof fetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const call: RecordedCall = {
      url: new URL(input instanceof Request ? input.url : input),
      method: init?.method ?? 'GET',
      headers,
      body: typeof init?.body === 'string' ? init.body : undefined,
      signal: init?.signal ?? undefined,
    };
    calls.push(call);
    if (call.signal?.aborted) throw call.signal.reason;
    const step = steps[Math.min(calls.length - 1, steps.length - 1)];
    if (step === undefined) throw new Error('no step');
    return step(call);
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

/** Verifies a recorded request's HMAC-SHA256 signature the way a server does (node:crypto, independent of WebCrypto). */
export function verifyHmac(call: RecordedCall, accessKey: string): boolean {
  const auth = parseHmacAuthorization(call.headers.authorization ?? '');
  const contentHash = createHash('sha256')
    .update(call.body ?? '', 'utf8')
    .digest('base64');
  if (call.headers['x-ms-content-sha256'] !== contentHash) return false;
  const stringToSign = buildStringToSign({
    method: call.method,
    pathAndQuery: call.url.pathname + call.url.search,
    date: call.headers['x-ms-date'] ?? '',
    host: call.url.host,
    contentHash,
  });
  const expected = createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign, 'utf8').digest('base64');
  return auth.signature === expected;
}
