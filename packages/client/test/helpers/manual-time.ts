import type { Clock, TimerHandle, Timers } from '../../src/index.js';

interface PendingTimer {
  readonly at: number;
  readonly id: number;
  readonly callback: () => void;
}

/** Lets queued promise callbacks run (several macrotask turns, so chains of awaits settle). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A hand-driven clock + timers: nothing fires until the test advances time, and timers fire in time
 * order with promise callbacks settled in between.
 */
export class ManualTime implements Clock, Timers {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, PendingTimer>();

  constructor(start = Date.parse('2026-03-01T12:00:00.000Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), id, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are scheduled. */
  get pending(): number {
    return this.#timers.size;
  }

  /** When the earliest timer is due, or undefined. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.#timers.values()) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Moves the clock without firing timers (a sleeping laptop, a throttled tab). */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Advances time by `ms`, firing every timer due on the way in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      const due = [...this.#timers.values()]
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#timers.delete(due.id);
      this.#now = Math.max(this.#now, due.at);
      due.callback();
    }
    this.#now = target;
    await settle();
  }

  /** Advances timer by timer until `promise` settles (at most `limitMs`); returns its outcome. */
  async run<T>(promise: Promise<T>, limitMs = 24 * 3_600_000): Promise<T> {
    let done = false;
    promise.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    const end = this.#now + limitMs;
    let idle = 0;
    await settle(10);
    while (!done) {
      const next = this.nextAt();
      if (next === undefined) {
        // Real async work (WebCrypto runs on a thread pool) may still be under way: give it real time.
        if (++idle > 2_000) break;
        await new Promise<void>((resolve) => setTimeout(resolve, 1));
        continue;
      }
      if (next > end) break;
      await this.advance(Math.max(0, next - this.#now));
      await settle(10);
    }
    return promise;
  }
}
