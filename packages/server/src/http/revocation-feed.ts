import type { ServerResponse } from 'node:http';
import type { RevocationEvent, RevocationSnapshot, Store } from '../store/store.js';

/** Fans revocation events out to server-sent-event subscribers, reading them back from the store in seq order. */
export interface RevocationFeed {
  /** Something was appended to the event log: read it and broadcast. */
  notify(): void;
  /** Attaches an SSE response; `afterSeq` undefined → start with a snapshot. */
  subscribe(res: ServerResponse, afterSeq: number | undefined): Promise<void>;
  /** The last seq broadcast. */
  seq(): number;
  /** Subscribers connected now. */
  subscribers(): number;
  close(): void;
}

/** Options for {@link createRevocationFeed}. */
export interface RevocationFeedOptions {
  readonly store: Store;
  readonly heartbeatMs: number;
  readonly clock: () => number;
  readonly onError: (error: unknown) => void;
  /** Notified for every event broadcast, e.g. to refresh caches. */
  readonly onEvent?: (event: RevocationEvent) => void;
}

const PAGE = 1000;

function frame(event: string, id: number | undefined, data: unknown): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function eventData(e: RevocationEvent): unknown {
  return e.type === 'key.regenerated'
    ? { seq: e.seq, at: e.at, keyName: e.keyName, version: e.version }
    : { seq: e.seq, at: e.at, identityId: e.identityId, epoch: e.epoch };
}

/** Creates the feed hub; call `start()` once the store is ready. */
export async function createRevocationFeed(options: RevocationFeedOptions): Promise<RevocationFeed> {
  const { store } = options;
  interface Subscriber {
    readonly res: ServerResponse;
    /** Last seq this subscriber has been sent. */
    seq: number;
    /** False while catching up from the store; live events wait in `queue` meanwhile. */
    live: boolean;
    readonly queue: Array<{ seq: number; text: string }>;
  }
  const subscribers = new Set<Subscriber>();
  let lastSeq = (await store.revocationSnapshot()).seq;
  let pumping = false;
  let again = false;

  const send = (res: ServerResponse, text: string): void => {
    if (!res.writableEnded) res.write(text);
  };
  const deliver = (sub: Subscriber, seq: number, text: string): void => {
    if (!sub.live) sub.queue.push({ seq, text });
    else if (seq > sub.seq) {
      sub.seq = seq;
      send(sub.res, text);
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          const events = await store.listEvents(lastSeq, PAGE);
          for (const e of events) {
            lastSeq = e.seq;
            options.onEvent?.(e);
            const text = frame(e.type, e.seq, eventData(e));
            for (const sub of subscribers) deliver(sub, e.seq, text);
          }
          if (events.length < PAGE) break;
        }
      } while (again);
    } catch (error) {
      options.onError(error);
    } finally {
      pumping = false;
    }
  };

  const heartbeat = setInterval(() => {
    const text = frame('heartbeat', undefined, { seq: lastSeq, at: options.clock() });
    for (const sub of subscribers) if (sub.live) send(sub.res, text);
  }, options.heartbeatMs);
  heartbeat.unref();

  const snapshotFrame = (s: RevocationSnapshot): string => frame('snapshot', s.seq, s);

  return {
    notify: () => void pump(),
    seq: () => lastSeq,
    subscribers: () => subscribers.size,
    async subscribe(res, afterSeq) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 1000\n\n');
      // Join first (queued), then catch up from the store, then drain the queue: nothing missed, nothing twice.
      const sub: Subscriber = { res, seq: 0, live: false, queue: [] };
      subscribers.add(sub);
      res.on('close', () => subscribers.delete(sub));
      let resumed = afterSeq !== undefined && afterSeq <= lastSeq;
      if (resumed && afterSeq !== undefined) sub.seq = afterSeq;
      for (;;) {
        if (!resumed) {
          const snapshot = await store.revocationSnapshot();
          send(res, snapshotFrame(snapshot));
          sub.seq = snapshot.seq;
          resumed = true;
        }
        const events = await store.listEvents(sub.seq, PAGE);
        // Events after this position were pruned (before or while reading): start again from a snapshot, which
        // replaces the subscriber's state. Its seq is at or past the pruning mark, so this happens at most once.
        if ((await store.eventsPrunedThrough()) > sub.seq) {
          resumed = false;
          continue;
        }
        for (const e of events) {
          send(res, frame(e.type, e.seq, eventData(e)));
          sub.seq = e.seq;
        }
        if (events.length < PAGE) break;
      }
      sub.live = true;
      for (const q of sub.queue.splice(0)) deliver(sub, q.seq, q.text);
      send(res, frame('heartbeat', undefined, { seq: sub.seq, at: options.clock() }));
    },
    close() {
      clearInterval(heartbeat);
      for (const sub of subscribers) sub.res.end();
      subscribers.clear();
    },
  };
}
