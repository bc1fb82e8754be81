import { TesseraError, decodeJwt, parseHttpDate } from '@tessera/core';
import { ClientError } from '../errors/client-error.js';
import { TesseraClientError } from '../errors/tessera-client-error.js';
import { type BackoffOptions, fullJitterDelay } from '../resilience/full-jitter-delay.js';
import { type AbortSignalLike, raceAbort } from '../runtime/abort-signal-like.js';
import {
  type Clock,
  MAX_TIMER_DELAY_MS,
  type RandomSource,
  type TimerHandle,
  type Timers,
  systemClock,
  systemRandom,
  systemTimers,
  unrefTimer,
} from '../runtime/clock.js';
import { identityGoneCode, isIdentityGoneError } from './identity-gone-code.js';

/** What a refresher may return besides a bare token string. */
export interface RefreshedToken {
  readonly token: string;
  /** Expiry in the server's clock, ms. The earlier of this and the JWT `exp` wins. */
  readonly expiresOnTimestamp?: number;
  /** Expiry as a Date (e.g. `IdentityClient.getToken`'s `expiresOn`); same rule as `expiresOnTimestamp`. */
  readonly expiresOn?: Date;
  /** The server's time when it answered (its `Date` header): enables clock-skew correction. */
  readonly serverDate?: Date | number | string;
}

/** Fetches a new token, typically from your trusted token service. Honour `abortSignal` if you can. */
export type TokenRefresher = (abortSignal?: AbortSignalLike) => Promise<string | RefreshedToken>;

/** The `AccessToken` shape of `@azure/core-auth` (what Azure pipelines expect from a credential). */
export interface CredentialAccessToken {
  readonly token: string;
  /** Expiry in this machine's clock (skew-corrected), ms. */
  readonly expiresOnTimestamp: number;
  /** When an Azure pipeline should ask again: makes it pick up a proactively refreshed token at once. */
  readonly refreshAfterTimestamp?: number;
}

/** Options of `getToken` (the `CommunicationTokenCredential` contract). */
export interface CredentialGetTokenOptions {
  abortSignal?: AbortSignalLike;
}

/** Why a refresh ran. */
export type RefreshTrigger = 'on-demand' | 'in-window' | 'proactive' | 'retry' | 'unauthorized' | 'manual';

/** Payload of the `refreshed` event (never contains the token). */
export interface RefreshedEvent {
  readonly trigger: RefreshTrigger;
  readonly expiresOnTimestamp: number;
  /** Successful refreshes so far, this one included. */
  readonly refreshCount: number;
  readonly clockSkewMs: number;
}

/** Payload of the `refreshFailed` event. */
export interface RefreshFailedEvent {
  readonly trigger: RefreshTrigger;
  readonly error: TesseraError | ClientError;
  readonly consecutiveFailures: number;
  /** When the next attempt runs (undefined when `terminal`). */
  readonly retryInMs?: number;
  /** True when the credential stopped refreshing for good (identity gone, token rejected twice, limit hit). */
  readonly terminal: boolean;
}

/** Payload of the `expired` event: the token in hand stopped being usable and no fresh one arrived. */
export interface ExpiredEvent {
  readonly expiresOnTimestamp: number;
}

/** Event names and payloads of {@link AutoRefreshingTokenCredential}. */
export interface CredentialEventMap {
  refreshed: RefreshedEvent;
  refreshFailed: RefreshFailedEvent;
  expired: ExpiredEvent;
}

/** Options of {@link AutoRefreshingTokenCredential}. */
export interface AutoRefreshingTokenCredentialOptions {
  /** Fetches a new token. Called by at most one refresh at a time. */
  tokenRefresher: TokenRefresher;
  /** A token to start with (skips the first refresh while it is valid). */
  token?: string | RefreshedToken;
  /** Refresh in the background before expiry. Default true. */
  refreshProactively?: boolean;
  /** Refresh this long before expiry; a refreshed token must outlive it. Default 600 000 (10 min). */
  refreshWindowMs?: number;
  /** Proactive refresh happens up to this much earlier, at random, so clients do not refresh together. Default 30 000. */
  jitterMs?: number;
  /** A token is treated as expired this long before its `exp` (time for the request to arrive). Default 5 000. */
  expiryMarginMs?: number;
  /** A refresher that has not settled after this long fails with `ERR_TIMEOUT` (never hang). Default 30 000. */
  refreshTimeoutMs?: number;
  /** Backoff after failed refreshes (full jitter). Default base 1 000, max 60 000, min 500 ms. */
  backoff?: Partial<BackoffOptions>;
  /** Stop for good after this many failures in a row. Default: never (backoff keeps retrying). */
  maxConsecutiveFailures?: number;
  /** Which refresher errors stop refreshing for good. Default: identity revoked / deleted / not found / 404. */
  isTerminalError?: (error: unknown) => boolean;
  clock?: Clock;
  timers?: Timers;
  random?: RandomSource;
  onRefreshed?: (event: RefreshedEvent) => void;
  onRefreshFailed?: (event: RefreshFailedEvent) => void;
  onExpired?: (event: ExpiredEvent) => void;
}

interface TokenState {
  readonly token: string;
  /** Local clock, ms. */
  readonly expiresOnTimestamp: number;
  /** Came from a refresh that a 401 asked for: a second 401 means give up. */
  viaUnauthorized: boolean;
  /** The data plane rejected it: never hand it out again. */
  rejected: boolean;
  /** Local time the proactive refresh is scheduled for. */
  refreshAt?: number;
}

interface Flight {
  readonly controller: AbortController;
  readonly promise: Promise<CredentialAccessToken>;
}

const noop = (): void => {};

/**
 * A `CommunicationTokenCredential` (`getToken({ abortSignal })`, `dispose()`) that keeps a user access
 * token fresh: proactive refresh with jitter, one refresh in flight shared by every caller, bounded
 * full-jitter backoff that keeps the timer alive after failures, clock-skew correction, refresh-once on
 * 401, a hard stop when the identity is gone, and events for refreshed / refresh failed / expired.
 * Pass it to `@azure/communication-chat`'s `ChatClient` like the official credential.
 */
export class AutoRefreshingTokenCredential {
  readonly #refresher: TokenRefresher;
  readonly #proactive: boolean;
  readonly #window: number;
  readonly #jitter: number;
  readonly #margin: number;
  readonly #refreshTimeout: number;
  readonly #backoff: BackoffOptions;
  readonly #maxFailures: number;
  readonly #isTerminal: (error: unknown) => boolean;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #random: RandomSource;
  readonly #listeners: { [K in keyof CredentialEventMap]: Set<(event: CredentialEventMap[K]) => void> } = {
    refreshed: new Set(),
    refreshFailed: new Set(),
    expired: new Set(),
  };

  #current: TokenState | undefined;
  #flight: Flight | undefined;
  #skewMs = 0;
  #refreshCount = 0;
  #failures = 0;
  #lastFailure: TesseraError | ClientError | undefined;
  #nextRetryAt: number | undefined;
  #refreshTimer: TimerHandle | undefined;
  #expiryTimer: TimerHandle | undefined;
  #terminal: TesseraError | ClientError | undefined;
  #disposed = false;

  constructor(options: AutoRefreshingTokenCredentialOptions) {
    if (typeof options.tokenRefresher !== 'function') {
      throw new TesseraError('ERR_CONFIG_INVALID', 'tokenRefresher must be a function.', { target: 'tokenRefresher' });
    }
    this.#refresher = options.tokenRefresher;
    this.#proactive = options.refreshProactively ?? true;
    this.#window = nonNegative(options.refreshWindowMs ?? 600_000, 'refreshWindowMs');
    this.#jitter = nonNegative(options.jitterMs ?? 30_000, 'jitterMs');
    this.#margin = nonNegative(options.expiryMarginMs ?? 5_000, 'expiryMarginMs');
    this.#refreshTimeout = nonNegative(options.refreshTimeoutMs ?? 30_000, 'refreshTimeoutMs');
    this.#backoff = {
      baseDelayMs: options.backoff?.baseDelayMs ?? 1_000,
      maxDelayMs: options.backoff?.maxDelayMs ?? 60_000,
      minDelayMs: options.backoff?.minDelayMs ?? 500,
    };
    this.#maxFailures = options.maxConsecutiveFailures ?? Number.POSITIVE_INFINITY;
    this.#isTerminal = options.isTerminalError ?? isIdentityGoneError;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#random = options.random ?? systemRandom;
    if (options.onRefreshed) this.#listeners.refreshed.add(options.onRefreshed);
    if (options.onRefreshFailed) this.#listeners.refreshFailed.add(options.onRefreshFailed);
    if (options.onExpired) this.#listeners.expired.add(options.onExpired);
    if (options.token !== undefined) {
      const now = this.#clock.now();
      const state = this.#parse(options.token, now);
      if (state.expiresOnTimestamp - this.#margin > now) {
        this.#adopt(state);
        this.#scheduleProactive(state, now);
      }
    }
  }

  /** Successful refreshes so far. */
  get refreshCount(): number {
    return this.#refreshCount;
  }

  /** Server time minus local time, from the last refresh that reported `serverDate` (0 until then). */
  get clockSkewMs(): number {
    return this.#skewMs;
  }

  /** Local-clock expiry of the token in hand, or undefined. */
  get expiresOnTimestamp(): number | undefined {
    return this.#current?.expiresOnTimestamp;
  }

  /** True after `dispose()`. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Why the credential stopped for good (identity gone, token rejected twice), or undefined. */
  get stoppedReason(): TesseraError | ClientError | undefined {
    return this.#terminal;
  }

  /**
   * A valid token. Returns the cached token while it is usable (starting a background refresh once inside
   * the refresh window); otherwise waits for the shared refresh. Never hangs: the refresher is bounded by
   * `refreshTimeoutMs`. While a failed refresh is backing off and no usable token exists, fails fast with
   * `ERR_REFRESH_FAILED`. After `dispose()` throws `ERR_CREDENTIAL_DISPOSED`.
   */
  async getToken(options: CredentialGetTokenOptions = {}): Promise<CredentialAccessToken> {
    this.#assertUsable();
    const now = this.#clock.now();
    const current = this.#current;
    if (current !== undefined && this.#usable(current, now)) {
      if (current.expiresOnTimestamp - this.#window <= now && this.#flight === undefined && !this.#backingOff(now)) {
        this.#startRefresh('in-window');
      }
      return this.#toAccessToken(current);
    }
    if (this.#flight !== undefined) return raceAbort(this.#flight.promise, options.abortSignal);
    if (this.#backingOff(now) && this.#lastFailure !== undefined) {
      const retryInMs = (this.#nextRetryAt ?? now) - now;
      throw new ClientError(
        'ERR_REFRESH_FAILED',
        `No valid token: the last refresh failed and the next attempt is in ${retryInMs} ms.`,
        { cause: this.#lastFailure, retryAfterMs: retryInMs },
      );
    }
    return raceAbort(this.#startRefresh('on-demand'), options.abortSignal);
  }

  /** Refreshes now (joining a refresh already in flight) and returns the new token. */
  async refreshNow(options: CredentialGetTokenOptions = {}): Promise<CredentialAccessToken> {
    this.#assertUsable();
    return raceAbort(this.#startRefresh('manual'), options.abortSignal);
  }

  /**
   * Call when the data plane answered 401 to a request made with `token`. Refreshes once and returns the
   * new token; when the token from that refresh is rejected as well (or the refresher hands back the
   * rejected token), stops for good with `ERR_TOKEN_REJECTED` instead of looping. Concurrent callers
   * reporting the same token share one refresh; reporting an already-replaced token returns the current one.
   */
  async handleUnauthorized(
    options: { token?: string; abortSignal?: AbortSignalLike } = {},
  ): Promise<CredentialAccessToken> {
    this.#assertUsable();
    const now = this.#clock.now();
    const current = this.#current;
    if (
      options.token !== undefined &&
      current !== undefined &&
      options.token !== current.token &&
      this.#usable(current, now)
    ) {
      return this.#toAccessToken(current);
    }
    const rejectedToken = options.token ?? current?.token;
    if (current?.viaUnauthorized && rejectedToken === current.token) {
      throw this.#stop(
        new ClientError(
          'ERR_TOKEN_REJECTED',
          'The service rejected the token again right after a refresh; refreshing once more would not help, so the credential stopped.',
        ),
        'unauthorized',
      );
    }
    if (current !== undefined && rejectedToken === current.token) current.rejected = true;
    const result = await raceAbort(this.#startRefresh('unauthorized'), options.abortSignal);
    if (result.token === rejectedToken) {
      throw this.#stop(
        new ClientError(
          'ERR_TOKEN_REJECTED',
          'The token refresher returned the token the service just rejected; the credential stopped.',
        ),
        'unauthorized',
      );
    }
    if (this.#current?.token === result.token) this.#current.viaUnauthorized = true;
    return result;
  }

  /** Subscribes to an event; returns the unsubscribe function. Listener errors are swallowed. */
  on<K extends keyof CredentialEventMap>(type: K, listener: (event: CredentialEventMap[K]) => void): () => void {
    this.#listeners[type].add(listener);
    return () => {
      this.#listeners[type].delete(listener);
    };
  }

  /** Stops every timer, aborts a refresh in flight and forgets the token; `getToken` then throws. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#clearTimers();
    this.#flight?.controller.abort(disposedError());
    this.#flight = undefined;
    this.#current = undefined;
    for (const set of Object.values(this.#listeners)) set.clear();
  }

  #assertUsable(): void {
    if (this.#disposed) throw disposedError();
    if (this.#terminal !== undefined) throw this.#terminal;
  }

  #usable(state: TokenState, now: number): boolean {
    return !state.rejected && state.expiresOnTimestamp - this.#margin > now;
  }

  #backingOff(now: number): boolean {
    return this.#nextRetryAt !== undefined && now < this.#nextRetryAt;
  }

  #toAccessToken(state: TokenState): CredentialAccessToken {
    const refreshAfterTimestamp = this.#nextRetryAt ?? state.refreshAt ?? state.expiresOnTimestamp - this.#window;
    return { token: state.token, expiresOnTimestamp: state.expiresOnTimestamp, refreshAfterTimestamp };
  }

  #startRefresh(trigger: RefreshTrigger): Promise<CredentialAccessToken> {
    if (this.#flight !== undefined) return this.#flight.promise;
    const controller = new AbortController();
    // #refresh suspends at its first await, so #flight is set before anything can settle.
    const promise = this.#refresh(trigger, controller).finally(() => {
      if (this.#flight?.controller === controller) this.#flight = undefined;
    });
    promise.catch(noop);
    this.#flight = { controller, promise };
    return promise;
  }

  async #refresh(trigger: RefreshTrigger, controller: AbortController): Promise<CredentialAccessToken> {
    let state: TokenState;
    let receivedAt: number;
    try {
      const raw = await this.#callRefresher(controller);
      receivedAt = this.#clock.now();
      state = this.#parse(raw, receivedAt);
    } catch (error) {
      if (this.#disposed) throw disposedError();
      throw this.#fail(error, trigger);
    }
    if (this.#disposed) throw disposedError();
    const remaining = state.expiresOnTimestamp - receivedAt;
    if (remaining <= this.#margin) {
      throw this.#fail(
        own(
          new ClientError(
            'ERR_REFRESHED_TOKEN_EXPIRING',
            'The token refresher returned a token that has already expired; it was not used.',
            { details: { remainingMs: remaining } },
          ),
        ),
        trigger,
      );
    }
    if (remaining <= this.#window) {
      // Usable but short-lived: serve it so callers keep working, yet count a failure so the next try
      // waits for backoff — never the refresh loop a too-short token caused in the official credential.
      const current = this.#current;
      if (
        current === undefined ||
        !this.#usable(current, receivedAt) ||
        current.expiresOnTimestamp < state.expiresOnTimestamp
      ) {
        this.#adopt(state);
      }
      this.#fail(
        own(
          new ClientError(
            'ERR_REFRESHED_TOKEN_EXPIRING',
            `The token refresher returned a token expiring within the ${this.#window} ms refresh window; retrying with backoff.`,
            { details: { remainingMs: remaining } },
          ),
        ),
        trigger,
      );
      return this.#toAccessToken(this.#current ?? state);
    }
    this.#adopt(state);
    this.#failures = 0;
    this.#lastFailure = undefined;
    this.#nextRetryAt = undefined;
    this.#refreshCount++;
    this.#scheduleProactive(state, receivedAt);
    this.#emit('refreshed', {
      trigger,
      expiresOnTimestamp: state.expiresOnTimestamp,
      refreshCount: this.#refreshCount,
      clockSkewMs: this.#skewMs,
    });
    return this.#toAccessToken(state);
  }

  async #callRefresher(controller: AbortController): Promise<string | RefreshedToken> {
    const timeout = this.#timers.setTimeout(
      () =>
        controller.abort(
          own(new ClientError('ERR_TIMEOUT', `The token refresher did not settle within ${this.#refreshTimeout} ms.`)),
        ),
      this.#refreshTimeout,
    );
    try {
      const pending = Promise.resolve().then(() => this.#refresher(controller.signal));
      return await raceAbort(pending, controller.signal);
    } finally {
      this.#timers.clearTimeout(timeout);
    }
  }

  /** Parses a refresher result into local-clock state; updates the skew when the server's time is given. */
  #parse(raw: string | RefreshedToken, receivedAt: number): TokenState {
    const token = typeof raw === 'string' ? raw : raw?.token;
    if (typeof token !== 'string' || token === '') {
      throw own(new TesseraClientError('ERR_TOKEN_MALFORMED', 'The token refresher returned no token.'));
    }
    let jwtExp: number | undefined;
    let decodeError: unknown;
    try {
      const exp = decodeJwt(token).payload.exp;
      if (typeof exp === 'number' && Number.isFinite(exp)) jwtExp = exp * 1000;
    } catch (error) {
      decodeError = error;
    }
    const given = typeof raw === 'string' ? undefined : (raw.expiresOnTimestamp ?? raw.expiresOn?.getTime());
    const candidates = [jwtExp, given].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    if (candidates.length === 0) {
      if (decodeError instanceof TesseraError) throw own(decodeError);
      throw own(
        new TesseraClientError(
          'ERR_TOKEN_MALFORMED',
          "The token has no expiry ('exp' claim) and none was supplied; a token that never expires is refused.",
        ),
      );
    }
    if (typeof raw !== 'string' && raw.serverDate !== undefined) {
      const serverMs = toMs(raw.serverDate);
      if (serverMs !== undefined) this.#skewMs = serverMs - receivedAt;
    }
    return {
      token,
      expiresOnTimestamp: Math.min(...candidates) - this.#skewMs,
      viaUnauthorized: false,
      rejected: false,
    };
  }

  #adopt(state: TokenState): void {
    this.#current = state;
    if (this.#expiryTimer !== undefined) this.#timers.clearTimeout(this.#expiryTimer);
    const delay = state.expiresOnTimestamp - this.#margin - this.#clock.now();
    this.#expiryTimer = this.#setTimer(delay, () => {
      this.#expiryTimer = undefined;
      if (this.#current !== state || this.#disposed) return;
      if (this.#clock.now() < state.expiresOnTimestamp - this.#margin) {
        this.#adopt(state);
        return;
      }
      this.#emit('expired', { expiresOnTimestamp: state.expiresOnTimestamp });
    });
  }

  #scheduleProactive(state: TokenState, now: number): void {
    if (!this.#proactive) return;
    const lead = state.expiresOnTimestamp - this.#window - now;
    // Jitter pulls the refresh earlier, but never below half the lead: a token barely outside the window
    // must not be refreshed immediately, again and again.
    const delay = Math.max(0, Math.max(lead - this.#random() * this.#jitter, lead / 2));
    state.refreshAt = now + delay;
    this.#scheduleRefresh(delay, 'proactive');
  }

  #scheduleRefresh(delay: number, trigger: RefreshTrigger): void {
    if (this.#refreshTimer !== undefined) this.#timers.clearTimeout(this.#refreshTimer);
    const dueAt = this.#clock.now() + delay;
    this.#refreshTimer = this.#setTimer(delay, () => {
      this.#refreshTimer = undefined;
      if (this.#disposed || this.#terminal !== undefined) return;
      const now = this.#clock.now();
      if (now < dueAt) {
        this.#scheduleRefresh(dueAt - now, trigger);
        return;
      }
      this.#startRefresh(trigger);
    });
  }

  #setTimer(delay: number, callback: () => void): TimerHandle {
    const handle = this.#timers.setTimeout(callback, Math.min(Math.max(0, delay), MAX_TIMER_DELAY_MS));
    unrefTimer(handle);
    return handle;
  }

  /** Records a failed refresh: backoff + retry timer, or a permanent stop. Returns the error to throw. */
  #fail(error: unknown, trigger: RefreshTrigger): TesseraError | ClientError {
    if (this.#isTerminal(error)) {
      const code = identityGoneCode(error);
      const message = 'The identity was revoked or deleted; the credential stopped refreshing.';
      return this.#stop(
        code === undefined
          ? new ClientError('ERR_REFRESH_FAILED', message, { cause: error })
          : new TesseraClientError(code, message, { cause: error }),
        trigger,
      );
    }
    this.#failures++;
    const failure =
      (error instanceof TesseraError || error instanceof ClientError) && isOwnFailure(error)
        ? error
        : new ClientError('ERR_REFRESH_FAILED', `The token refresher failed (${this.#failures} in a row).`, {
            cause: error,
          });
    if (this.#failures >= this.#maxFailures) {
      return this.#stop(
        new ClientError(
          'ERR_REFRESH_FAILED',
          `The token refresher failed ${this.#failures} times in a row; the credential stopped.`,
          { cause: failure },
        ),
        trigger,
      );
    }
    const delay = fullJitterDelay(this.#failures, this.#backoff, this.#random);
    this.#lastFailure = failure;
    this.#nextRetryAt = this.#clock.now() + delay;
    if (this.#proactive) this.#scheduleRefresh(delay, 'retry');
    this.#emit('refreshFailed', {
      trigger,
      error: failure,
      consecutiveFailures: this.#failures,
      retryInMs: delay,
      terminal: false,
    });
    return failure;
  }

  #stop(error: TesseraError | ClientError, trigger: RefreshTrigger): TesseraError | ClientError {
    if (this.#terminal !== undefined) return this.#terminal;
    this.#terminal = error;
    this.#clearTimers();
    this.#emit('refreshFailed', { trigger, error, consecutiveFailures: this.#failures, terminal: true });
    return error;
  }

  #clearTimers(): void {
    if (this.#refreshTimer !== undefined) this.#timers.clearTimeout(this.#refreshTimer);
    if (this.#expiryTimer !== undefined) this.#timers.clearTimeout(this.#expiryTimer);
    this.#refreshTimer = undefined;
    this.#expiryTimer = undefined;
  }

  #emit<K extends keyof CredentialEventMap>(type: K, event: CredentialEventMap[K]): void {
    for (const listener of [...this.#listeners[type]]) {
      try {
        listener(event);
      } catch {
        // A failing listener must not break token delivery.
      }
    }
  }
}

// Errors the credential raised itself (timeouts, validation) are reported as they are; anything the
// refresher threw is wrapped in ERR_REFRESH_FAILED with the original as `cause`.
const OWN_ERRORS = new WeakSet<object>();

function own<E extends TesseraError | ClientError>(error: E): E {
  OWN_ERRORS.add(error);
  return error;
}

function isOwnFailure(error: TesseraError | ClientError): boolean {
  return OWN_ERRORS.has(error);
}

function disposedError(): ClientError {
  return new ClientError('ERR_CREDENTIAL_DISPOSED', 'The credential was disposed.');
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new TesseraError('ERR_CONFIG_INVALID', `${name} must be a non-negative number of milliseconds.`, {
      target: name,
    });
  }
  return value;
}

function toMs(value: Date | number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  const ms = parseHttpDate(value) ?? Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
