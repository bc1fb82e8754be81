import { type SseEvent, SseParser, isTesseraError } from '@tessera/core';
import { ClientError, isClientError } from '../errors/client-error.js';
import { TesseraClientError } from '../errors/tessera-client-error.js';
import { type BackoffOptions, fullJitterDelay } from '../resilience/full-jitter-delay.js';
import { parseRetryAfter } from '../resilience/parse-retry-after.js';
import type { AbortSignalLike } from '../runtime/abort-signal-like.js';
import {
  type Clock,
  type RandomSource,
  type TimerHandle,
  type Timers,
  systemClock,
  systemRandom,
  systemTimers,
} from '../runtime/clock.js';

/**
 * One event of Tessera's chat stream: the server's `ChatEvent` without `recipients` (`type` as the official SDK's
 * `ChatEventId`s, plus `presenceChanged`), and the stream `id` it came with.
 */
export interface ChatStreamEvent {
  readonly type: string;
  /** The thread it is about; empty for presence. */
  readonly threadId: string;
  /** ISO 8601. */
  readonly occurredOn: string;
  /** The SSE id (`<epoch>-<seq>`), sent back as `Last-Event-ID` on reconnect. */
  readonly id: string;
  readonly [field: string]: unknown;
}

/** What the subscriber needs of a credential: `@azure/communication-common`'s or `@tessera/client`'s. */
export interface ChatEventsCredential {
  getToken(options?: { abortSignal?: AbortSignalLike }): Promise<{ readonly token: string }>;
  /** `AutoRefreshingTokenCredential.handleUnauthorized`: used, when present, after a 401 or a token end. */
  handleUnauthorized?(options?: { token?: string; abortSignal?: AbortSignalLike }): Promise<{ readonly token: string }>;
}

/** The subscriber's connection state, for UIs. */
export type ChatEventsState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Options of {@link subscribeChatEvents}. */
export interface SubscribeChatEventsOptions {
  /** The chat service (or `tessera serve`) base URL, e.g. `https://localhost:8443/`. */
  readonly endpoint: string;
  readonly credential: ChatEventsCredential;
  /** Every event, in order. Must not throw (a throw is reported through `onError` and the stream goes on). */
  readonly onEvent: (event: ChatStreamEvent) => void;
  /**
   * The server could not resume from the last event id (another process's buffer, or past its bound): events
   * may have been missed; re-read what matters (e.g. `listMessages`).
   */
  readonly onResync?: (() => void) | undefined;
  readonly onStateChange?: ((state: ChatEventsState) => void) | undefined;
  /** Failures the subscriber recovers from (network, 5xx, a listener throw) and the terminal one. */
  readonly onError?: ((error: unknown) => void) | undefined;
  /** Aborting closes the stream for good. */
  readonly signal?: AbortSignalLike | undefined;
  /** Reconnect backoff (full jitter). Default base 500 ms, max 30 s, min = the server's `retry:` (2 s). */
  readonly backoff?: BackoffOptions | undefined;
  /** Default `globalThis.fetch` (must stream the response body: Node 18+, every current browser). */
  readonly fetch?: typeof fetch | undefined;
  readonly clock?: Clock | undefined;
  readonly timers?: Timers | undefined;
  readonly random?: RandomSource | undefined;
}

/** A running subscription. */
export interface ChatEventsSubscription {
  /** The id of the last event received (what a reconnect sends as `Last-Event-ID`). */
  lastEventId(): string;
  /**
   * Resolves when the subscription is closed by `close()` or the signal; rejects with a `TesseraClientError`
   * when it stopped for good: 403 (`ERR_CAPABILITY_DENIED`), the token rejected again after a refresh
   * (`ERR_TOKEN_REJECTED`), another 4xx (`ERR_UNEXPECTED_RESPONSE`), or the credential failing for good.
   */
  readonly closed: Promise<void>;
  close(): void;
}

/** Errors of the credential or network after which the subscriber tries again (others stop it). */
const TRANSIENT = new Set<string>([
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_REFRESH_FAILED',
  'ERR_RATE_LIMITED',
  'ERR_IDENTITY_SERVER_UNAVAILABLE',
  'ERR_STORE_UNAVAILABLE',
  'ERR_CIRCUIT_OPEN',
]);

/** Why the connection loop goes round again. */
type Next = { readonly kind: 'retry'; readonly delayMs?: number } | { readonly kind: 'refresh' };

/**
 * Subscribes to Tessera's chat event stream (`GET /chat/events`, docs/chat-events.md) with fetch streaming, so
 * the token travels in the `Authorization` header (never the URL) in Node and browsers. Reconnects after a
 * network failure, a 5xx/429 (honouring `Retry-After`) or the server ending the stream, with full-jitter backoff
 * and `Last-Event-ID` so nothing buffered is missed; on a 401 or an `end` for the token it gets a fresh token
 * from the credential first.
 */
export function subscribeChatEvents(options: SubscribeChatEventsOptions): ChatEventsSubscription {
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? systemRandom;
  const backoff = options.backoff ?? { baseDelayMs: 500, maxDelayMs: 30_000 };
  const url = new URL('chat/events', options.endpoint.endsWith('/') ? options.endpoint : `${options.endpoint}/`);
  const abort = new AbortController();
  let lastEventId = '';
  let serverRetryMs = 2_000;
  let state: ChatEventsState | undefined;
  let sleeping: { handle: TimerHandle; wake: () => void } | undefined;

  const setState = (next: ChatEventsState): void => {
    if (state === next) return;
    state = next;
    options.onStateChange?.(next);
  };
  const report = (error: unknown): void => {
    try {
      options.onError?.(error);
    } catch {
      // a reporting callback must not stop the subscriber
    }
  };
  const close = (): void => {
    if (!abort.signal.aborted) abort.abort();
    if (sleeping !== undefined) {
      timers.clearTimeout(sleeping.handle);
      sleeping.wake();
    }
  };
  if (options.signal?.aborted) close();
  options.signal?.addEventListener('abort', close, { once: true });

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (abort.signal.aborted) return resolve();
      const wake = () => {
        sleeping = undefined;
        resolve();
      };
      sleeping = { handle: timers.setTimeout(wake, ms), wake };
    });

  /** One connection: resolves with what to do next, throws a terminal error. */
  async function connect(token: string): Promise<Next> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== '') headers['last-event-id'] = lastEventId;
    const response = await fetchFn(url, { headers, signal: abort.signal, cache: 'no-store' });
    if (response.status === 401) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'refresh' };
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      const delayMs = parseRetryAfter(response.headers, clock.now());
      return delayMs === undefined ? { kind: 'retry' } : { kind: 'retry', delayMs };
    }
    if (response.status !== 200 || response.body === null) {
      const text = await response.text().catch(() => '');
      let serviceCode: string | undefined;
      let inner: string | undefined;
      try {
        const body = JSON.parse(text) as { error?: { code?: string; innererror?: { code?: string } } };
        serviceCode = body.error?.code;
        inner = body.error?.innererror?.code;
      } catch {
        // not an ACS error body
      }
      const message = `The chat event stream was refused (${response.status}${inner === undefined ? '' : ` ${inner}`}).`;
      const options = { status: response.status, ...(serviceCode === undefined ? {} : { serviceCode }) };
      throw response.status === 403
        ? new TesseraClientError('ERR_CAPABILITY_DENIED', message, options)
        : new ClientError('ERR_UNEXPECTED_RESPONSE', message, options);
    }
    setState('open');
    let next: Next = { kind: 'retry' };
    const parser = new SseParser({
      onEvent: (event: SseEvent) => {
        if (event.event === 'end') {
          if (/"reason":"token(Expired|Rejected)"/.test(event.data)) next = { kind: 'refresh' };
          return;
        }
        if (event.event === 'resync') {
          options.onResync?.();
          return;
        }
        lastEventId = event.lastEventId;
        let parsed: ChatStreamEvent;
        try {
          parsed = { ...(JSON.parse(event.data) as Record<string, unknown>), id: event.lastEventId } as ChatStreamEvent;
        } catch (error) {
          report(error);
          return;
        }
        try {
          options.onEvent(parsed);
        } catch (error) {
          report(error);
        }
      },
      onRetry: (ms) => {
        serverRetryMs = ms;
      },
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
      }
    } finally {
      reader.releaseLock();
    }
    return next;
  }

  const closed = (async () => {
    let failures = 0;
    let token: string | undefined;
    let refresh = false;
    let refreshes = 0;
    while (!abort.signal.aborted) {
      setState(state === undefined ? 'connecting' : 'reconnecting');
      let next: Next;
      try {
        if (refresh && token !== undefined && options.credential.handleUnauthorized !== undefined) {
          token = (await options.credential.handleUnauthorized({ token, abortSignal: abort.signal })).token;
        } else {
          const previous = token;
          token = (await options.credential.getToken({ abortSignal: abort.signal })).token;
          if (refresh && token === previous) {
            throw new ClientError(
              'ERR_TOKEN_REJECTED',
              'The chat event stream rejected the token and the credential has no other one.',
            );
          }
        }
        refresh = false;
        next = await connect(token);
        if (state === 'open') {
          failures = 0;
          refreshes = 0;
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        // A Tessera error is a refusal or a credential that gave up — terminal unless it says "try later".
        if ((isTesseraError(error) || isClientError(error)) && !TRANSIENT.has(error.code)) throw error;
        report(error);
        next = { kind: 'retry' };
      }
      if (abort.signal.aborted) break;
      if (next.kind === 'refresh') {
        // A fresh token that is refused again at once will not get better by asking for more.
        if (++refreshes > 2) {
          throw new ClientError('ERR_TOKEN_REJECTED', 'The chat event stream rejected every fresh token.', {
            status: 401,
          });
        }
        refresh = true;
        continue;
      }
      failures += 1;
      setState('reconnecting');
      const jittered = fullJitterDelay(
        failures,
        { ...backoff, minDelayMs: backoff.minDelayMs ?? serverRetryMs },
        random,
      );
      await sleep(Math.max(jittered, next.delayMs ?? 0));
    }
  })().finally(() => {
    options.signal?.removeEventListener('abort', close);
    setState('closed');
  });
  closed.catch(() => undefined);

  return { lastEventId: () => lastEventId, closed, close };
}
