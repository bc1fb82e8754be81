import type { Store } from '../store/store.js';

/**
 * Coalesces `lastTokenIssuedAt` updates so issuing a token never waits for a database write.
 * Staleness bound: an issue time reaches the store within `flushMs` (default 1 s) and is visible
 * to reads in this process at once.
 */
export interface TouchBuffer {
  touch(id: string, at: number): void;
  pending(id: string): number | undefined;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Creates a {@link TouchBuffer} flushing every `flushMs`. */
export function createTouchBuffer(store: Store, flushMs: number, onError: (error: unknown) => void): TouchBuffer {
  let buffer = new Map<string, number>();
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (buffer.size === 0) return flushing;
    const batch = [...buffer].map(([id, at]) => ({ id, at }));
    buffer = new Map();
    flushing = flushing.then(() => store.recordTokensIssued(batch)).catch(onError);
    return flushing;
  };
  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();
  return {
    touch(id, at) {
      const prev = buffer.get(id);
      if (prev === undefined || at > prev) buffer.set(id, at);
    },
    pending: (id) => buffer.get(id),
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
