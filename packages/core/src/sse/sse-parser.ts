/** One dispatched server-sent event. */
export interface SseEvent {
  /** The `event:` field; `message` when absent. */
  readonly event: string;
  readonly data: string;
  /** The last event id seen on the stream so far (the `id:` field persists across events). */
  readonly lastEventId: string;
}

/** Callbacks of {@link SseParser}. */
export interface SseParserHandlers {
  onEvent(event: SseEvent): void;
  /** A valid `retry:` field: the server's suggested reconnection delay in ms. */
  onRetry?(ms: number): void;
}

/**
 * An incremental parser for `text/event-stream` (WHATWG HTML §9.2.6, "Interpreting an event stream"): feed it
 * decoded text in chunks of any size; lines may end in CRLF, LF or CR, even split across chunks. Comments
 * (`:` lines) are ignored, `data:` lines are joined with LF, an event without data is not dispatched.
 */
export class SseParser {
  readonly #handlers: SseParserHandlers;
  #buffer = '';
  #data: string[] = [];
  #eventType = '';
  #lastEventId = '';
  #sawCr = false;
  #started = false;

  constructor(handlers: SseParserHandlers) {
    this.#handlers = handlers;
  }

  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Feeds the next chunk of decoded text. */
  push(chunk: string): void {
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR ending the previous chunk already ended its line; a LF opening this one belongs to it.
    if (this.#sawCr && text.startsWith('\n')) text = text.slice(1);
    this.#sawCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.#buffer + text.slice(start, i);
      this.#buffer = '';
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.#sawCr = true;
        }
      }
      start = i + 1;
      this.#line(line);
    }
    this.#buffer += text.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    }
    switch (field) {
      case 'event':
        this.#eventType = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) this.#lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#handlers.onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const type = this.#eventType;
    this.#data = [];
    this.#eventType = '';
    if (data.length === 0) return;
    this.#handlers.onEvent({
      event: type === '' ? 'message' : type,
      data: data.join('\n'),
      lastEventId: this.#lastEventId,
    });
  }
}
