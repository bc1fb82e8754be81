import { randomBytes } from 'node:crypto';
import type { ChatEvent, ChatEventBus } from './event-bus.js';

/** One event as a user's stream sends it: its stream id (`<epoch>-<seq>`) and the event. */
export interface StreamEntry {
  /** The SSE `id:` — `<epoch>-<seq>`, the epoch naming this process's buffer of the user, seq counting from 1. */
  readonly id: string;
  readonly event: ChatEvent;
}

/** Options of {@link createChatEventHub}. */
export interface ChatEventHubOptions {
  readonly bus: ChatEventBus;
  /** Events kept per user for `Last-Event-ID` resume. Default 256. */
  readonly replayEvents?: number | undefined;
  /** How long a user's buffer outlives their last open stream, ms. Default 300,000 (5 minutes). */
  readonly retainMs?: number | undefined;
}

/** What {@link ChatEventHub.attach} hands a new stream. */
export interface StreamAttachment {
  /**
   * Buffered events after `Last-Event-ID`, oldest first (empty without one); after a gap in this buffer, all of
   * it.
   */
  readonly replay: readonly StreamEntry[];
  /**
   * True when `Last-Event-ID` was given but cannot be resumed from (another process's or an older buffer, or
   * events dropped out of the bound): the stream must tell the client events may have been missed.
   */
  readonly gap: boolean;
  /** Stops delivering to this stream. Idempotent. */
  detach(): void;
}

/**
 * Per-user replay buffers over a {@link ChatEventBus}: the first stream of a user subscribes to the bus for them;
 * every event gets the next id of that user's buffer and goes to each of the user's open streams. The buffer
 * keeps the last `replayEvents` events and lives `retainMs` past the user's last stream, so a client that
 * reconnects within that window resumes without a gap.
 */
export interface ChatEventHub {
  attach(userRawId: string, lastEventId: string | undefined, deliver: (entry: StreamEntry) => void): StreamAttachment;
  /** Users with a live buffer (for tests and metrics). */
  bufferedUsers(): number;
  /** Drops every buffer and bus subscription. */
  close(): void;
}

interface UserChannel {
  readonly epoch: string;
  seq: number;
  readonly buffer: StreamEntry[];
  readonly streams: Set<(entry: StreamEntry) => void>;
  readonly unsubscribe: () => void;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Creates a {@link ChatEventHub}. */
export function createChatEventHub(options: ChatEventHubOptions): ChatEventHub {
  const replayEvents = options.replayEvents ?? 256;
  const retainMs = options.retainMs ?? 300_000;
  const channels = new Map<string, UserChannel>();

  function open(userRawId: string): UserChannel {
    const existing = channels.get(userRawId);
    if (existing !== undefined) return existing;
    const channel: UserChannel = {
      epoch: randomBytes(6).toString('hex'),
      seq: 0,
      buffer: [],
      streams: new Set(),
      idleTimer: undefined,
      unsubscribe: options.bus.subscribe(userRawId, (event) => {
        channel.seq += 1;
        const entry: StreamEntry = { id: `${channel.epoch}-${channel.seq}`, event };
        channel.buffer.push(entry);
        if (channel.buffer.length > replayEvents) channel.buffer.shift();
        for (const deliver of [...channel.streams]) deliver(entry);
      }),
    };
    channels.set(userRawId, channel);
    return channel;
  }

  function drop(userRawId: string, channel: UserChannel): void {
    if (channel.idleTimer !== undefined) clearTimeout(channel.idleTimer);
    channel.unsubscribe();
    if (channels.get(userRawId) === channel) channels.delete(userRawId);
  }

  return {
    attach(userRawId, lastEventId, deliver) {
      const channel = open(userRawId);
      if (channel.idleTimer !== undefined) {
        clearTimeout(channel.idleTimer);
        channel.idleTimer = undefined;
      }
      let replay: StreamEntry[] = [];
      let gap = false;
      if (lastEventId !== undefined && lastEventId !== '') {
        const [epoch, seqText] = lastEventId.split('-');
        const seq = /^\d{1,15}$/.test(seqText ?? '') ? Number(seqText) : Number.NaN;
        const oldest = channel.seq - channel.buffer.length; // the last seq no longer buffered
        if (epoch !== channel.epoch || !(seq <= channel.seq)) gap = true;
        else if (seq < oldest) {
          // Older than the bound: what is still buffered follows the gap notice.
          gap = true;
          replay = [...channel.buffer];
        } else replay = channel.buffer.slice(channel.buffer.length - (channel.seq - seq));
      }
      channel.streams.add(deliver);
      let attached = true;
      return {
        replay,
        gap,
        detach() {
          if (!attached) return;
          attached = false;
          channel.streams.delete(deliver);
          if (channel.streams.size > 0 || channels.get(userRawId) !== channel) return;
          channel.idleTimer = setTimeout(() => drop(userRawId, channel), retainMs);
          channel.idleTimer.unref?.();
        },
      };
    },
    bufferedUsers() {
      return channels.size;
    },
    close() {
      for (const [userRawId, channel] of [...channels]) drop(userRawId, channel);
    },
  };
}
