import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** `ChatPluginOptions.cors`: which browser origins may call the chat, presence and event-stream routes. */
export interface ChatCorsOptions {
  /**
   * Origins, `scheme://host[:port]` (e.g. `https://app.example`), answered with
   * `Access-Control-Allow-Origin: <that origin>`; `'*'` allows any origin (`Access-Control-Allow-Origin: *`).
   * Never credentials: the SDK authenticates with a Bearer header, not cookies. Empty: same-origin pages only.
   */
  readonly origins: readonly string[];
}

/** Request headers a preflight may ask for: what `@azure/communication-chat` and `EventSource` polyfills send. */
const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'repeatability-request-id',
  'repeatability-first-sent',
  'x-ms-client-request-id',
  'x-ms-useragent',
  'traceparent',
  'tracestate',
  'last-event-id',
];
const EXPOSE_HEADERS = 'retry-after, x-ms-client-request-id, api-supported-versions, location, repeatability-result';
/** The browser-facing routes: `/chat/…` (threads and `/chat/events`) and `/presence…`; never `/rooms` (server-to-server). */
const CLIENT_PATH = /^\/(?:chat\/|presence[/:])/;

/** `https://app.example` (normalised) or `*`; throws a `TypeError` naming the value for anything else. */
export function chatCorsOrigin(value: string): string {
  if (value === '*') return value;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`) {
    throw new TypeError(`'${value.slice(0, 80)}' is not an origin: scheme://host[:port], no path (or '*').`);
  }
  return url.origin;
}

/**
 * Answers CORS on the plugin's client-facing routes: `OPTIONS` preflights (204) and `Access-Control-Allow-Origin`
 * plus `Access-Control-Expose-Headers` on every answer to a listed origin — errors included, since the headers are
 * set before the route runs. A request without `Origin` is untouched.
 *
 * An origin that is not listed gets no CORS headers (the browser then withholds the answer) but is not refused
 * with 403 as the token service refuses it: every chat call carries `Authorization`, which makes the browser send a
 * preflight first and stop there, so nothing from such a page reaches a route; and a 403 would also refuse
 * same-origin pages behind a TLS-terminating proxy, whose `Origin` need not match the `Host` and scheme seen here.
 */
export function registerChatCors(app: FastifyInstance, options: ChatCorsOptions, presence: boolean): void {
  const origins = new Set(options.origins.map(chatCorsOrigin));
  const anyOrigin = origins.has('*');
  app.addHook('onRequest', (request, reply, done) => {
    if (CLIENT_PATH.test(request.url)) applyChatCors(request, reply, origins, anyOrigin);
    done();
  });
  const preflight = async (_request: FastifyRequest, reply: FastifyReply) => reply.code(204).send();
  app.options('/chat/*', preflight);
  if (presence) {
    app.options('/presence/*', preflight);
    app.options('/presence::batchGet', preflight);
  }
}

function applyChatCors(request: FastifyRequest, reply: FastifyReply, origins: ReadonlySet<string>, any: boolean): void {
  const preflight = request.method === 'OPTIONS';
  // What the answer depends on, for caches: the origin (unless any), and on a preflight the headers asked for.
  const vary = [...(any ? [] : ['Origin']), ...(preflight ? ['Access-Control-Request-Headers'] : [])];
  if (vary.length > 0) reply.header('vary', vary.join(', '));
  const origin = request.headers.origin;
  if (origin === undefined || !(any || origins.has(origin))) return;
  reply.header('access-control-allow-origin', any ? '*' : origin);
  if (!preflight) {
    reply.header('access-control-expose-headers', EXPOSE_HEADERS);
    return;
  }
  // Other Azure SDK headers (`x-ms-…`) a newer SDK may add are allowed too; the list is what is known to be sent.
  const asked = String(request.headers['access-control-request-headers'] ?? '').toLowerCase();
  const extra = asked.split(',').flatMap((h) => {
    const name = h.trim();
    return /^x-ms-[a-z0-9-]{1,64}$/.test(name) && !ALLOW_HEADERS.includes(name) ? [name] : [];
  });
  reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
  reply.header('access-control-allow-headers', [...ALLOW_HEADERS, ...extra].join(', '));
  reply.header('access-control-max-age', '600');
}
