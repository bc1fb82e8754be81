import type { FetchLike } from '../discovery.js';
import type { VerifierLogger } from '../logger.js';
import { REVOCATION_RETENTION_MS, type RevocationStateStore } from './revocation-state.js';
import type { RequestSigner } from './sign-request.js';
import { type SseEvent, SseParser } from './sse-parser.js';

/** Options of {@link RevocationFeed}. */
export interface RevocationFeedOptions {
  /** Resolves the feed URL (after discovery). */
  url: () => Promise<string>;
  /** Resolves the signer for the feed credential. */
  signer: () => Promise<RequestSigner>;
  fetch: FetchLike;
  state: RevocationStateStore;
  clock: () => number;
  random: () => number;
  /** First reconnection delay; doubles per failed attempt (with jitter) up to `maxDelayMs`. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A connection that delivers nothing (not even a heartbeat) for this long is dropped and reopened. */
  idleTimeoutMs: number;
  logger?: VerifierLogger | undefined;
}

/** The feed's health, as `verifier.status()` reports it. */
export interface RevocationFeedStatus {
  /** A feed response is open and streaming. */
  readonly connected: boolean;
  /** When the last event (heartbeats included) arrived, Unix ms; undefined before the first. */
  readonly lastEventAt: number | undefined;
  /** How old the revocation state may be: now − lastEventAt (Infinity before the first event). */
  readonly staleMs: number;
  /** Sequence number of the last applied entry; undefined before the first snapshot. */
  readonly seq: number | undefined;
  /** A snapshot has been applied. */
  readonly synced: boolean;
  /** Connections opened so far. */
  readonly connections: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

class FeedProtocolError extends Error {}

/** How often the revocation state forgets facts older than {@link REVOCATION_RETENTION_MS}. */
const PRUNE_INTERVAL_MS = 60_000;

/** The server time of an entry (`at`, Unix ms), or undefined when absent or malformed (then it is kept for ever). */
function timeOf(value: unknown): number | undefined {
  return isInt(value) ? value : undefined;
}

// setTimeout fires at once for delays above 2^31-1 ms; longer bounds are clamped.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Follows the identity server's revocation feed (`GET /revocations`, server-sent events over a streaming fetch,
 * HMAC-signed with the feed credential): applies the snapshot and every revocation, deletion and key
 * regeneration to the state store, resumes with `Last-Event-ID` after a drop and reconnects with exponential
 * backoff and jitter.
 */
export class RevocationFeed {
  readonly #o: RevocationFeedOptions;
  #running = false;
  #closed = false;
  #connected = false;
  #lastEventAt: number | undefined;
  #connections = 0;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #serverRetryMs: number | undefined;
  #forceSnapshot = false;
  #synced = false;
  #syncWaiters: Array<() => void> = [];
  #wake: (() => void) | undefined;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(options: RevocationFeedOptions) {
    this.#o = options;
  }

  get synced(): boolean {
    return this.#synced;
  }

  get lastEventAt(): number | undefined {
    return this.#lastEventAt;
  }

  /** Starts following the feed (idempotent). */
  start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Resolves once a snapshot has been applied, or after `timeoutMs` (whichever first). */
  whenSynced(timeoutMs: number): Promise<void> {
    if (this.#synced || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(timeoutMs, MAX_TIMER_MS));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#syncWaiters.push(done);
    });
  }

  status(nowMs: number): RevocationFeedStatus {
    return {
      connected: this.#connected,
      lastEventAt: this.#lastEventAt,
      staleMs: this.#lastEventAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, nowMs - this.#lastEventAt),
      seq: this.#o.state.seq,
      synced: this.#synced,
      connections: this.#connections,
    };
  }

  /** Stops following the feed and waits for the connection to close. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    this.#wake?.();
    for (const w of this.#syncWaiters.splice(0)) w();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      let delivered = false;
      try {
        delivered = await this.#connectOnce();
        if (!this.#closed) this.#o.logger?.warn('tessera verifier: revocation feed ended; reconnecting');
      } catch (error) {
        if (!this.#closed) {
          this.#o.logger?.warn('tessera verifier: revocation feed connection failed; reconnecting', {
            reason: error instanceof FeedProtocolError ? error.message : errorName(error),
            attempt: failures + 1,
          });
        }
      }
      this.#connected = false;
      if (this.#closed) break;
      failures = delivered ? 0 : failures + 1;
      const base = Math.max(this.#o.initialDelayMs, this.#serverRetryMs ?? 0);
      const ceiling = Math.min(this.#o.maxDelayMs, base * 2 ** Math.min(failures, 30));
      await this.#sleep(ceiling / 2 + (this.#o.random() * ceiling) / 2);
    }
  }

  // Opens one feed response and reads it to its end. Resolves true when at least one event was delivered.
  async #connectOnce(): Promise<boolean> {
    const controller = new AbortController();
    this.#abort = controller;
    if (this.#closed) return false;
    const url = await this.#o.url();
    const signer = await this.#o.signer();
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
      ...(await signer.headersFor('GET', url, this.#o.clock())),
    };
    const seq = this.#o.state.seq;
    if (seq !== undefined && !this.#forceSnapshot) headers['last-event-id'] = String(seq);
    this.#forceSnapshot = false;
    const res = await this.#o.fetch(url, { method: 'GET', headers, signal: controller.signal });
    if (this.#closed || controller.signal.aborted) {
      await res.body?.cancel().catch(() => {});
      return false;
    }
    if (!res.ok || res.body === null) {
      await res.body?.cancel().catch(() => {});
      throw new FeedProtocolError(`HTTP ${res.status}`);
    }
    this.#connections++;
    this.#connected = true;
    let delivered = false;
    const parser = new SseParser({
      onEvent: (event) => {
        this.#onEvent(event);
        delivered = true;
      },
      onRetry: (ms) => {
        this.#serverRetryMs = ms;
      },
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      if (watchdog !== undefined) clearTimeout(watchdog);
      watchdog = setTimeout(() => controller.abort(), Math.min(this.#o.idleTimeoutMs, MAX_TIMER_MS));
    };
    arm();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        parser.push(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      if (error instanceof FeedProtocolError) {
        this.#forceSnapshot = true;
        controller.abort();
      }
      if (!delivered) throw error;
      if (!this.#closed)
        this.#o.logger?.warn('tessera verifier: revocation feed dropped', { reason: errorName(error) });
    } finally {
      if (watchdog !== undefined) clearTimeout(watchdog);
      reader.releaseLock();
      controller.abort();
    }
    return delivered;
  }

  #onEvent(event: SseEvent): void {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new FeedProtocolError(`event '${event.event.slice(0, 32)}' is not JSON`);
    }
    if (!isRecord(data)) throw new FeedProtocolError(`event '${event.event.slice(0, 32)}' is not an object`);
    const state = this.#o.state;
    switch (event.event) {
      case 'snapshot': {
        const { seq, identities, keys } = data;
        if (!isInt(seq) || !Array.isArray(identities) || !isRecord(keys)) {
          throw new FeedProtocolError('snapshot is malformed');
        }
        if (!isInt(keys.primary) || !isInt(keys.secondary)) throw new FeedProtocolError('snapshot keys are malformed');
        const list: Array<{ id: string; epoch: number; deleted: boolean; at: number | undefined }> = [];
        for (const item of identities) {
          if (!isRecord(item) || typeof item.id !== 'string' || !isInt(item.epoch)) {
            throw new FeedProtocolError('snapshot identity is malformed');
          }
          list.push({ id: item.id, epoch: item.epoch, deleted: item.deleted === true, at: timeOf(item.at) });
        }
        state.applySnapshot({ seq, identities: list, keys: { primary: keys.primary, secondary: keys.secondary } });
        this.#markSynced();
        break;
      }
      case 'identity.revoked':
      case 'identity.deleted': {
        const { seq, identityId, epoch, at } = data;
        if (!isInt(seq) || typeof identityId !== 'string' || !isInt(epoch)) {
          throw new FeedProtocolError(`${event.event} is malformed`);
        }
        state.applyIdentity(seq, identityId, epoch, event.event === 'identity.deleted', timeOf(at));
        break;
      }
      case 'key.regenerated': {
        const { seq, keyName, version } = data;
        if (!isInt(seq) || typeof keyName !== 'string' || !isInt(version)) {
          throw new FeedProtocolError('key.regenerated is malformed');
        }
        state.applyKey(seq, keyName, version);
        break;
      }
      default:
        // heartbeat, and anything newer servers add: proof of life only.
        break;
    }
    const now = this.#o.clock();
    this.#lastEventAt = now;
    // At most once a minute (heartbeats come every few seconds): forget facts no unexpired token can be refused by.
    if (now - this.#prunedAt >= PRUNE_INTERVAL_MS) {
      this.#prunedAt = now;
      state.prune(now - REVOCATION_RETENTION_MS);
    }
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, MAX_TIMER_MS));
      this.#wake = done;
    });
  }
}

function errorName(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? error.message.slice(0, 120) : error.name;
  return 'unknown';
}
