// Reads a text/event-stream over fetch for the tests: every event (and comment count) as it arrives.
import { type SseEvent, SseParser } from '@tessera/verifier';

/** An open stream: the events so far, a way to wait for the next ones, and the status/headers. */
export interface OpenStream {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  /** The raw text received (comments included). */
  text(): string;
  /** Resolves when `predicate` holds for the events received (checked on each event); rejects when the stream ends first. */
  until(predicate: (events: readonly SseEvent[]) => boolean): Promise<readonly SseEvent[]>;
  /** Resolves when the server has ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens `GET url` with the given headers and parses the answer as a stream (or reads the error body). */
export async function openStream(url: string | URL, headers: Record<string, string>): Promise<OpenStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  let raw = '';
  const waiters = new Set<() => void>();
  const parser = new SseParser({
    onEvent: (event) => {
      events.push(event);
      for (const w of [...waiters]) w();
    },
  });
  let done = false;
  const ended = (async () => {
    if (response.body === null) return;
    const decoder = new TextDecoder();
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) break;
        const text = decoder.decode(value, { stream: true });
        raw += text;
        parser.push(text);
        for (const w of [...waiters]) w();
      }
    } catch {
      // aborted by close()
    } finally {
      done = true;
      for (const w of [...waiters]) w();
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    events,
    text: () => raw,
    until(predicate) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(events)) {
            waiters.delete(check);
            resolve(events);
          } else if (done) {
            waiters.delete(check);
            reject(new Error(`stream ended first; events: ${events.map((e) => e.event).join(', ')}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    ended,
    close: () => abort.abort(),
  };
}
