import type { AuditEntry, AuditQuery, AuditRecord, Store } from '../store/store.js';

/**
 * The control-plane audit log. Recording never waits for the store: entries are buffered and appended in one
 * write every `flushMs` (or sooner when `maxBatch` pile up), like the `lastTokenIssuedAt` touch buffer, so the
 * issue hot path pays a push to an array. Reading flushes first, so a process always sees its own entries.
 */
export interface AuditLog {
  record(entry: AuditEntry): void;
  list(query: AuditQuery): Promise<AuditRecord[]>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  readonly store: Store;
  /** Milliseconds between flushes (default 1000). */
  readonly flushMs?: number | undefined;
  /** Entries that trigger an early flush (default 500). */
  readonly maxBatch?: number | undefined;
  /** Entries kept while the store is unreachable; beyond it the oldest are dropped and reported (default 100 000). */
  readonly maxBuffered?: number | undefined;
  readonly onError: (error: unknown) => void;
}

/** Creates an {@link AuditLog}. */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const maxBatch = options.maxBatch ?? 500;
  const maxBuffered = options.maxBuffered ?? 100_000;
  let buffer: AuditEntry[] = [];
  let flushing: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (buffer.length === 0) return flushing;
    const batch = buffer;
    buffer = [];
    flushing = flushing
      .then(() => options.store.appendAudit(batch))
      .catch((error: unknown) => {
        // Keep the batch for the next flush (in order, ahead of newer entries) unless that would grow unbounded.
        buffer = [...batch, ...buffer].slice(-maxBuffered);
        options.onError(error);
      });
    return flushing;
  };

  const timer = setInterval(() => void flush(), options.flushMs ?? 1000);
  timer.unref();

  return {
    record(entry) {
      buffer.push(entry);
      if (buffer.length >= maxBatch) void flush();
    },
    async list(query) {
      await flush();
      return options.store.listAudit(query);
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
