import {
  type DestinationStream,
  destination as pinoDestination,
  type Logger,
  pino,
  symbols as pinoSymbols,
} from 'pino';

/** Options of {@link createServerLogger}. */
export interface ServerLoggerOptions {
  readonly level: string;
  /** Where lines go; default stdout through an asynchronous buffer. */
  readonly destination?: NodeJS.WritableStream | undefined;
}

let lastMs = -1;
let lastTime = '';

/**
 * pino's ISO `time` field, formatted once per millisecond rather than once per line: at thousands of requests a
 * second, most lines of a millisecond share it (Date#toISOString was a visible part of a log line's cost).
 */
export function isoTimeField(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * The server's logger: JSON lines (pino), one per request at level info. On stdout the lines go through an
 * asynchronous buffer (sonic-boom) instead of one synchronous write(2) each — stdout on a pipe is synchronous in
 * Node, so every request paid a system call and, when the reader lagged, blocked the event loop; buffered, the lines
 * of many requests leave in one write. `flush()` writes out what is left (called on close).
 */
export function createServerLogger(options: ServerLoggerOptions): { logger: Logger; flush(): void } {
  const stdout = options.destination === undefined ? pinoDestination({ dest: 1, sync: false }) : undefined;
  const destination: DestinationStream | NodeJS.WritableStream = options.destination ?? stdout ?? process.stdout;
  const logger = pino({ level: options.level, base: null, timestamp: isoTimeField }, destination as DestinationStream);
  return {
    logger,
    flush() {
      try {
        stdout?.flushSync();
      } catch {
        // Nothing to flush to (stdout closed): the lines are lost either way.
      }
    },
  };
}

/** The fields of the one line logged per request (app.ts). */
export interface RequestLogFields {
  readonly op: string;
  readonly identityId: string | undefined;
  readonly status: number;
  readonly latencyMs: number;
  readonly requestId: string;
  readonly principal: string | undefined;
}

/**
 * A writer of the per-request line, byte for byte what `logger.info(fields, 'request')` writes (level, time, the
 * fields in this order, absent ones left out, then `msg`), built as one template string straight onto the logger's
 * stream: pino's generic serialisation of the object was most of a line's cost, once per request.
 */
export function requestLineWriter(logger: Logger): (fields: RequestLogFields) => void {
  const stream = (logger as unknown as Record<symbol, { write(line: string): unknown }>)[pinoSymbols.streamSym];
  const level = logger.levels.values.info ?? 30;
  if (stream === undefined) return (fields) => logger.info(fields, 'request');
  return (f) => {
    stream.write(
      `{"level":${level}${isoTimeField()},"op":${JSON.stringify(f.op)}` +
        (f.identityId === undefined ? '' : `,"identityId":${JSON.stringify(f.identityId)}`) +
        `,"status":${f.status},"latencyMs":${f.latencyMs},"requestId":${JSON.stringify(f.requestId)}` +
        (f.principal === undefined ? '' : `,"principal":${JSON.stringify(f.principal)}`) +
        ',"msg":"request"}\n',
    );
  };
}
