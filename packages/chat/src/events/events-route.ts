import type { OutgoingHttpHeaders } from 'node:http';
import { isTesseraError } from '@tessera/core';
import { type VerifiedToken, capabilityError, extractBearerToken } from '@tessera/verifier';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatContext } from '../chat-plugin.js';
import type { ChatEvent } from './event-bus.js';
import { type StreamEntry, createChatEventHub } from './event-stream-hub.js';

/** Options of the `GET /chat/events` stream (`ChatPluginOptions.eventStream`); docs/chat-events.md. */
export interface ChatEventStreamOptions {
  /** A comment line every this many ms keeps proxies from closing an idle stream. Default 15,000. */
  readonly heartbeatMs?: number | undefined;
  /** The stream's token is verified again (revocation, key rotation) at least this often, ms. Default 5,000. */
  readonly tokenRecheckMs?: number | undefined;
  /** Events kept per user for `Last-Event-ID` resume. Default 256. */
  readonly replayEvents?: number | undefined;
  /** How long a user's replay buffer outlives their last stream, ms. Default 300,000. */
  readonly retainMs?: number | undefined;
  /** The `retry:` (ms) the stream suggests to reconnecting clients. Default 2,000. */
  readonly retryMs?: number | undefined;
  /**
   * A client that reads slower than events come is cut off once this many bytes wait unsent (it reconnects and
   * resumes from the replay buffer), so one slow reader cannot grow the server's memory. Default 1 MiB.
   */
  readonly maxPendingBytes?: number | undefined;
}

/** Why the server ended a stream: the `reason` of its last event, `event: end`. */
export type ChatStreamEndReason = 'tokenExpired' | 'tokenRejected' | 'serverClosing' | 'slowConsumer';

/** The capability a token needs to open the stream: "Get chat threads" (every chat scope has it). */
export const EVENT_STREAM_CAPABILITY = 'chat.thread.list';

/** The event as the stream sends it: everything but `recipients` (the server's routing, not the client's). */
function wireData(event: ChatEvent): string {
  const { recipients: _recipients, ...rest } = event;
  return JSON.stringify(rest);
}

function frame(entry: StreamEntry): string {
  return `id: ${entry.id}\nevent: ${entry.event.type}\ndata: ${wireData(entry.event)}\n\n`;
}

function replyHeaders(headers: Record<string, number | string | string[] | undefined>): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined));
}

function lastEventIdOf(request: FastifyRequest): string | undefined {
  const value = request.headers['last-event-id'];
  const text = Array.isArray(value) ? value[0] : value;
  // Ids this server hands out are `<12 hex>-<digits>`; anything else is treated as unknown (a gap), never echoed.
  return text === undefined ? undefined : text.slice(0, 64);
}

/**
 * Registers `GET /chat/events` (Tessera extension): a `text/event-stream` of every {@link ChatEvent} addressed
 * to the caller, authenticated with `Authorization: Bearer <user access token>` (never a token in the URL).
 * Each event has an `id:`; `Last-Event-ID` resumes from the per-user replay buffer, an `event: resync` says
 * events may have been missed. The stream ends with `event: end` when the token expires, is revoked or its key
 * is rotated away (checked on each event and every `tokenRecheckMs`), or the server closes.
 */
export function registerEventStreamRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  options: ChatEventStreamOptions = {},
): void {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const recheckMs = options.tokenRecheckMs ?? 5_000;
  const retryMs = options.retryMs ?? 2_000;
  const maxPending = options.maxPendingBytes ?? 1024 * 1024;
  const hub = createChatEventHub({ bus: ctx.events, replayEvents: options.replayEvents, retainMs: options.retainMs });
  const open = new Set<(reason: ChatStreamEndReason) => void>();

  app.addHook('preClose', (done) => {
    for (const end of [...open]) end('serverClosing');
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    hub.close();
    done();
  });

  app.get('/chat/events', async (request, reply) => {
    const raw = extractBearerToken(request.headers.authorization);
    const token: VerifiedToken = await ctx.verifier.verify(raw);
    const decision = ctx.verifier.authorize(token, EVENT_STREAM_CAPABILITY);
    if (!decision.allowed) throw capabilityError(decision, EVENT_STREAM_CAPABILITY);
    const user = token.identity.toLowerCase();

    reply.hijack();
    const res = reply.raw;
    // Hijacked: the headers hooks set on the reply (api-supported-versions, CORS, the host's request id) are
    // written here by hand.
    res.writeHead(200, {
      ...replyHeaders(reply.getHeaders()),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);

    let ended = false;
    ctx.metrics?.streamOpen(1);
    // Writes are serialized behind a token check, so no event leaves after the token stopped being valid.
    let queue: Promise<void> = Promise.resolve();
    const timers: ReturnType<typeof setTimeout>[] = [];

    const end = (reason: ChatStreamEndReason, code?: string): void => {
      if (ended) return;
      ended = true;
      ctx.metrics?.streamOpen(-1);
      attachment.detach();
      open.delete(end);
      for (const t of timers) clearTimeout(t);
      res.end(`event: end\ndata: ${JSON.stringify(code === undefined ? { reason } : { reason, code })}\n\n`);
    };

    const stillValid = async (): Promise<boolean> => {
      if (ctx.clock() >= token.expiresAt) {
        end('tokenExpired');
        return false;
      }
      try {
        await ctx.verifier.verify(raw);
        return true;
      } catch (error) {
        const code = isTesseraError(error) ? error.code : undefined;
        end(code === 'ERR_TOKEN_EXPIRED' ? 'tokenExpired' : 'tokenRejected', code);
        return false;
      }
    };

    const send = (text: string, check: boolean): void => {
      queue = queue.then(async () => {
        if (ended || (check && !(await stillValid())) || ended) return;
        if (res.writableLength > maxPending) {
          end('slowConsumer');
          return;
        }
        res.write(text);
      });
    };

    const deliver = (entry: StreamEntry): void => {
      ctx.metrics?.eventDelivered();
      send(frame(entry), true);
    };
    const attachment = hub.attach(user, lastEventIdOf(request), deliver);
    open.add(end);
    res.on('close', () => {
      if (!ended) ctx.metrics?.streamOpen(-1);
      ended = true;
      attachment.detach();
      open.delete(end);
      for (const t of timers) clearTimeout(t);
    });

    res.write(`retry: ${retryMs}\n: connected\n\n`);
    if (attachment.gap) send('event: resync\ndata: {"reason":"lastEventIdNotBuffered"}\n\n', false);
    for (const entry of attachment.replay) deliver(entry);

    const heartbeat = setInterval(() => send(': heartbeat\n\n', false), heartbeatMs);
    const recheck = setInterval(() => {
      queue = queue.then(async () => {
        if (!ended) await stillValid();
      });
    }, recheckMs);
    const expiry = setTimeout(
      () => end('tokenExpired'),
      Math.max(0, Math.min(token.expiresAt - ctx.clock(), 2 ** 31 - 1)),
    );
    for (const t of [heartbeat, recheck, expiry]) t.unref?.();
    timers.push(heartbeat, recheck, expiry);
  });
}
