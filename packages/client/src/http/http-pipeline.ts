import type { TesseraErrorCode } from '@tessera/core';
import { serviceError } from '../errors/service-error.js';
import { ClientError } from '../errors/client-error.js';
import { TesseraClientError } from '../errors/tessera-client-error.js';
import { fullJitterDelay } from '../resilience/full-jitter-delay.js';
import {
  type CircuitBreaker,
  type CircuitBreakerRegistry,
  type CircuitPermit,
  defaultCircuitBreakerRegistry,
} from '../resilience/circuit-breaker.js';
import { parseRetryAfter } from '../resilience/parse-retry-after.js';
import { type AbortSignalLike, abortReason, sleep } from '../runtime/abort-signal-like.js';
import {
  type Clock,
  type RandomSource,
  type TimerHandle,
  type Timers,
  systemClock,
  systemRandom,
  systemTimers,
} from '../runtime/clock.js';
import { randomUuid } from '../runtime/random-uuid.js';
import type { RequestAuthenticator } from './request-authenticator.js';

/** Retry, timeout and circuit-breaker settings shared by every call a client makes. */
export interface ResilienceOptions {
  /** Attempts per logical call, first one included. Default 4. */
  maxAttempts?: number;
  /** Backoff ceiling of the first retry (doubles per retry, full jitter). Default 500 ms. */
  baseDelayMs?: number;
  /** Backoff ceiling never grows past this. Default 10 000 ms. */
  maxDelayMs?: number;
  /** Each attempt is aborted after this long. Default 15 000 ms. */
  attemptTimeoutMs?: number;
  /** Whole logical call, retries and waits included, never takes longer. Default 60 000 ms. */
  maxElapsedMs?: number;
  /** Breaker registry (shared per endpoint origin); `false` disables the breaker. Default: the module registry. */
  circuitBreakers?: CircuitBreakerRegistry | false;
  clock?: Clock;
  timers?: Timers;
  random?: RandomSource;
}

/** Everything a {@link HttpPipeline} needs. */
export interface HttpPipelineOptions extends ResilienceOptions {
  authenticator: RequestAuthenticator;
  /** The fetch implementation; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Request id generator; default a random UUID. */
  uuid?: () => string;
}

/** One logical call. */
export interface PipelineRequest {
  /** Operation name for error messages, e.g. `createUser`. */
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: URL;
  /** JSON body (serialised once; every attempt sends the same bytes). */
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * May this call be sent again after a failure? True for idempotent calls and for creates that carry an
   * idempotency key; false means one attempt only, whatever happens.
   */
  retryable: boolean;
  abortSignal?: AbortSignalLike | undefined;
  /** Error code for a bare 404 on this route. */
  notFoundCode?: TesseraErrorCode;
}

/** A successful (2xx) response. */
export interface PipelineResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
  requestId: string;
  attempts: number;
}

const TIMEOUT = Symbol('attempt-timeout');

type AttemptOutcome =
  | { kind: 'response'; status: number; headers: Headers; body: unknown; text: string }
  | { kind: 'failure'; error: TesseraClientError | ClientError };

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

function isServerFault(status: number): boolean {
  return status === 408 || status >= 500;
}

/**
 * Sends requests with the resilience policy: a fresh `x-ms-client-request-id` per logical call (kept across
 * retries), a per-attempt timeout, retries on 408/429/5xx and network errors with full-jitter exponential
 * backoff that honours `Retry-After` / `retry-after-ms`, a bound on attempts and on total time, and the
 * endpoint's circuit breaker. Calls marked not `retryable` are attempted exactly once.
 */
export class HttpPipeline {
  readonly #auth: RequestAuthenticator;
  readonly #fetch: typeof fetch;
  readonly #uuid: () => string;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #random: RandomSource;
  readonly #registry: CircuitBreakerRegistry | false;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #maxElapsedMs: number;

  constructor(options: HttpPipelineOptions) {
    this.#auth = options.authenticator;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#uuid = options.uuid ?? randomUuid;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#random = options.random ?? systemRandom;
    this.#registry = options.circuitBreakers ?? defaultCircuitBreakerRegistry;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#baseDelayMs = options.baseDelayMs ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
    this.#maxElapsedMs = options.maxElapsedMs ?? 60_000;
  }

  /** The clock this pipeline reads (shared with the client for request dates). */
  get clock(): Clock {
    return this.#clock;
  }

  /** A fresh request id / idempotency key. */
  newId(): string {
    return this.#uuid();
  }

  /** Sends one logical call; resolves with a 2xx response or rejects with a {@link TesseraClientError}. */
  async send(request: PipelineRequest): Promise<PipelineResponse> {
    const requestId = this.#uuid();
    const start = this.#clock.now();
    const deadline = start + this.#maxElapsedMs;
    const bodyText = request.body === undefined ? undefined : JSON.stringify(request.body);
    const breaker = this.#registry === false ? undefined : this.#registry.get(request.url);
    let attempt = 0;
    for (;;) {
      attempt++;
      if (request.abortSignal?.aborted) throw abortReason(request.abortSignal);
      const outcome = await this.#attempt(request, bodyText, requestId, attempt, deadline, breaker);
      let retryAfterMs: number | undefined;
      let error: TesseraClientError | ClientError;
      let retryable: boolean;
      if (outcome.kind === 'response') {
        if (outcome.status >= 200 && outcome.status < 300) {
          return { status: outcome.status, headers: outcome.headers, body: outcome.body, requestId, attempts: attempt };
        }
        retryAfterMs = parseRetryAfter(outcome.headers, this.#clock.now());
        error = serviceError({
          operation: request.operation,
          status: outcome.status,
          body: outcome.body,
          requestId,
          attempts: attempt,
          retryAfterMs,
          notFoundCode: request.notFoundCode,
        });
        retryable = isRetryableStatus(outcome.status);
      } else {
        error = outcome.error;
        retryable = error.code === 'ERR_NETWORK' || error.code === 'ERR_TIMEOUT';
      }
      if (!retryable || !request.retryable || attempt >= this.#maxAttempts) throw error;
      const delay =
        retryAfterMs ??
        fullJitterDelay(attempt, { baseDelayMs: this.#baseDelayMs, maxDelayMs: this.#maxDelayMs }, this.#random);
      if (this.#clock.now() + delay >= deadline) throw error;
      await sleep(delay, this.#timers, request.abortSignal);
    }
  }

  async #attempt(
    request: PipelineRequest,
    bodyText: string | undefined,
    requestId: string,
    attempt: number,
    deadline: number,
    breaker: CircuitBreaker | undefined,
  ): Promise<AttemptOutcome> {
    const remaining = deadline - this.#clock.now();
    const fail = (code: 'ERR_NETWORK' | 'ERR_TIMEOUT', message: string, cause?: unknown): AttemptOutcome => {
      const text = `${request.operation} failed: ${message}`;
      const options = { requestId, attempts: attempt, ...(cause === undefined ? {} : { cause }) };
      return {
        kind: 'failure',
        error:
          code === 'ERR_NETWORK' ? new TesseraClientError(code, text, options) : new ClientError(code, text, options),
      };
    };
    if (remaining <= 0) return fail('ERR_TIMEOUT', 'the total time allowed for the call ran out.');
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-ms-client-request-id': requestId,
      ...request.headers,
    };
    if (bodyText !== undefined) headers['content-type'] = 'application/json';
    Object.assign(
      headers,
      await this.#auth.headers({ method: request.method, url: request.url, body: bodyText }, request.abortSignal),
    );
    let permit: CircuitPermit | undefined;
    try {
      permit = breaker?.acquire(request.url.origin);
    } catch (error) {
      if (error instanceof ClientError) {
        throw new ClientError(error.code, `${request.operation} failed: ${error.message}`, {
          requestId,
          attempts: attempt - 1,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        });
      }
      throw error;
    }
    const controller = new AbortController();
    const onCallerAbort = (): void =>
      controller.abort(request.abortSignal ? abortReason(request.abortSignal) : undefined);
    request.abortSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const timer: TimerHandle = this.#timers.setTimeout(
      () => controller.abort(TIMEOUT),
      Math.min(this.#attemptTimeoutMs, remaining),
    );
    try {
      const init: RequestInit = { method: request.method, headers, signal: controller.signal };
      if (bodyText !== undefined) init.body = bodyText;
      const response = await this.#fetch(request.url, init);
      const text = await response.text();
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
      }
      if (isServerFault(response.status)) permit?.failure();
      else permit?.success();
      return { kind: 'response', status: response.status, headers: response.headers, body, text };
    } catch (error) {
      if (request.abortSignal?.aborted) {
        permit?.release();
        throw abortReason(request.abortSignal);
      }
      permit?.failure();
      if (controller.signal.aborted && controller.signal.reason === TIMEOUT) {
        return fail('ERR_TIMEOUT', `no response within ${Math.min(this.#attemptTimeoutMs, remaining)} ms.`);
      }
      return fail('ERR_NETWORK', `could not reach ${request.url.origin}.`, error);
    } finally {
      this.#timers.clearTimeout(timer);
      request.abortSignal?.removeEventListener('abort', onCallerAbort);
    }
  }
}
