import type { ChatEvent, ChatEventBus, ChatEventListener } from './event-bus.js';

/** Options of {@link createInProcessEventBus}. */
export interface InProcessEventBusOptions {
  /** Told when a listener throws (the event still reaches the other listeners). */
  onListenerError?: (error: unknown, event: ChatEvent) => void;
}

/**
 * A {@link ChatEventBus} within one process: a map from raw id to its listeners, delivering synchronously inside
 * `publish`. Enough for one server; a cluster needs a bus that also crosses processes.
 */
export function createInProcessEventBus(options: InProcessEventBusOptions = {}): ChatEventBus & {
  /** Listeners currently registered, all users together (for metrics and tests). */
  listenerCount(): number;
} {
  const listeners = new Map<string, Set<ChatEventListener>>();
  const resolved = Promise.resolve();
  return {
    publish(event: ChatEvent): Promise<void> {
      for (const rawId of event.recipients) {
        const set = listeners.get(rawId);
        if (set === undefined) continue;
        for (const listener of [...set]) {
          try {
            listener(event);
          } catch (error) {
            options.onListenerError?.(error, event);
          }
        }
      }
      return resolved;
    },
    subscribe(userRawId: string, listener: ChatEventListener): () => void {
      let set = listeners.get(userRawId);
      if (set === undefined) {
        set = new Set();
        listeners.set(userRawId, set);
      }
      // Wrapped so the same function may subscribe twice and each unsubscribe removes exactly its own entry.
      const entry: ChatEventListener = (event) => listener(event);
      set.add(entry);
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = listeners.get(userRawId);
        current?.delete(entry);
        if (current?.size === 0) listeners.delete(userRawId);
      };
    },
    async close(): Promise<void> {
      listeners.clear();
    },
    listenerCount(): number {
      let n = 0;
      for (const set of listeners.values()) n += set.size;
      return n;
    },
  };
}
