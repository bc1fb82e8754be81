import { ClientError } from '../errors/client-error.js';
import { type Clock, systemClock } from '../runtime/clock.js';

/** `closed`: calls flow. `open`: calls fail fast. `half-open`: one probe call decides. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Tuning of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Failures (with no success in between) inside `windowMs` that open the circuit. Default 5. */
  failureThreshold?: number;
  /** Sliding window the failures must fall in. Default 30 000 ms. */
  windowMs?: number;
  /** How long the circuit stays open before one probe is let through. Default 15 000 ms. */
  openMs?: number;
  clock?: Clock;
  /** Called on every state change (for metrics or logs). */
  onStateChange?: (state: CircuitState, previous: CircuitState) => void;
}

/** Permission for one call; report its outcome exactly once. */
export interface CircuitPermit {
  /** The server answered (any status that is not a server fault). */
  success(): void;
  /** Network error, timeout, 408 or 5xx. */
  failure(): void;
  /** The call ended without telling anything about the server (e.g. the caller aborted). */
  release(): void;
}

/**
 * A circuit breaker for one endpoint: closed → open after `failureThreshold` failures within `windowMs`;
 * open → half-open after `openMs`, when exactly one probe call is allowed; the probe's success closes the
 * circuit, its failure opens it again. Outcomes of calls started before the last state change are ignored.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #windowMs: number;
  readonly #openMs: number;
  readonly #clock: Clock;
  readonly #onStateChange: ((state: CircuitState, previous: CircuitState) => void) | undefined;
  #state: CircuitState = 'closed';
  #failures: number[] = [];
  #openedAt = 0;
  #probeInFlight = false;
  #generation = 0;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = Math.max(1, options.failureThreshold ?? 5);
    this.#windowMs = options.windowMs ?? 30_000;
    this.#openMs = options.openMs ?? 15_000;
    this.#clock = options.clock ?? systemClock;
    this.#onStateChange = options.onStateChange;
  }

  /** The current state; an open circuit whose cool-down has passed reports `half-open`. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() >= this.#openedAt + this.#openMs) return 'half-open';
    return this.#state;
  }

  /**
   * Asks to make a call. Throws `ERR_CIRCUIT_OPEN` (with `retryAfterMs`) while open, or while the half-open
   * probe is still in flight.
   */
  acquire(origin = 'the endpoint'): CircuitPermit {
    const now = this.#clock.now();
    if (this.#state === 'open') {
      const reopenAt = this.#openedAt + this.#openMs;
      if (now < reopenAt) throw this.#openError(origin, reopenAt - now);
      this.#transition('half-open');
    }
    let probe = false;
    if (this.#state === 'half-open') {
      if (this.#probeInFlight) throw this.#openError(origin, 0);
      this.#probeInFlight = true;
      probe = true;
    }
    const generation = this.#generation;
    let settled = false;
    const settle = (outcome: 'success' | 'failure' | 'release'): void => {
      if (settled) return;
      settled = true;
      if (generation !== this.#generation) return;
      if (probe) this.#probeInFlight = false;
      if (outcome === 'success') this.#onSuccess();
      else if (outcome === 'failure') this.#onFailure();
    };
    return {
      success: () => settle('success'),
      failure: () => settle('failure'),
      release: () => settle('release'),
    };
  }

  #onSuccess(): void {
    this.#failures = [];
    if (this.#state !== 'closed') this.#transition('closed');
  }

  #onFailure(): void {
    const now = this.#clock.now();
    if (this.#state === 'half-open') {
      this.#open(now);
      return;
    }
    this.#failures = this.#failures.filter((at) => at > now - this.#windowMs);
    this.#failures.push(now);
    if (this.#failures.length >= this.#threshold) this.#open(now);
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#failures = [];
    this.#transition('open');
  }

  #transition(next: CircuitState): void {
    const previous = this.#state;
    this.#state = next;
    this.#generation++;
    this.#probeInFlight = false;
    if (previous !== next) this.#onStateChange?.(next, previous);
  }

  #openError(origin: string, retryAfterMs: number): ClientError {
    return new ClientError(
      'ERR_CIRCUIT_OPEN',
      `The circuit breaker for ${origin} is open after repeated failures; failing fast instead of calling it.`,
      { retryAfterMs },
    );
  }
}

/** Circuit breakers keyed by endpoint origin, so every client of one endpoint shares one breaker. */
export class CircuitBreakerRegistry {
  readonly #options: CircuitBreakerOptions;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(options: CircuitBreakerOptions = {}) {
    this.#options = options;
  }

  /** The breaker for the origin of `endpoint` (created on first use). */
  get(endpoint: string | URL): CircuitBreaker {
    const origin = new URL(endpoint).origin;
    let breaker = this.#breakers.get(origin);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.#options);
      this.#breakers.set(origin, breaker);
    }
    return breaker;
  }

  /** Forgets every breaker (all endpoints start closed again). */
  clear(): void {
    this.#breakers.clear();
  }
}

/** The process-wide (or page-wide) registry clients use unless given another one. */
export const defaultCircuitBreakerRegistry: CircuitBreakerRegistry = new CircuitBreakerRegistry();
