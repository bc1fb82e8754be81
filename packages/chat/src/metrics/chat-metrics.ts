import {
  type CounterCell,
  counterFamily,
  createMetricsRegistry,
  createRequestMetrics,
  createRequestTracing,
  type Registry,
  type RequestMetrics,
  type RequestTracing,
} from '@tessera/metrics';

/** The chat data plane's metrics (`tessera_chat_*`, plus the process's `process_*` and `nodejs_*`). */
export interface ChatMetrics {
  readonly registry: Registry;
  readonly requests: RequestMetrics;
  readonly tracing: RequestTracing;
  /** A message was stored (`POST /chat/threads/{id}/messages`). */
  messageSent(): void;
  /** A thread was created (not a repeated request answered from its first result). */
  threadCreated(): void;
  /** A room was created through the Rooms API. */
  roomCreated(): void;
  /** A call decision answered: `allowed` or `denied`. */
  callDecision(allowed: boolean): void;
  /** An SSE event stream (`GET /chat/events`) opened (+1) or ended (-1). */
  streamOpen(delta: 1 | -1): void;
  /** An event frame was written to an SSE stream. */
  eventDelivered(): void;
  /** Publishing an event on the event bus failed (the change itself is stored). */
  publishFailed(): void;
}

/**
 * Creates the chat metrics in `registry` (a fresh one by default). Every label comes from a closed set (route
 * patterns, HTTP statuses, `allowed`/`denied`): never a thread, message, room or identity id.
 */
export function createChatMetrics(registry: Registry = createMetricsRegistry()): ChatMetrics {
  const counter = (name: string, help: string): CounterCell =>
    counterFamily(registry, { name: `tessera_chat_${name}`, help }).cell();
  const messages = counter('messages_sent_total', 'Chat messages stored.');
  const threads = counter('threads_created_total', 'Chat threads created.');
  const rooms = counter('rooms_created_total', 'Rooms created through the Rooms API.');
  const delivered = counter('events_delivered_total', 'Event frames written to SSE streams (GET /chat/events).');
  const publishFailures = counter(
    'event_publish_failures_total',
    'Events the event bus failed to publish (the change itself was stored).',
  );
  const decisions = counterFamily(registry, {
    name: 'tessera_chat_call_decisions_total',
    help: 'Call decisions answered (rooms and calls), by outcome: allowed or denied.',
    labelNames: ['outcome'],
  });
  const allowed = decisions.cell('allowed');
  const denied = decisions.cell('denied');
  let open = 0;
  registry.registerMetric({
    name: 'tessera_chat_event_streams_open',
    help: 'SSE event streams (GET /chat/events) open now.',
    type: 'gauge',
    aggregator: 'sum',
    get: () => ({
      name: 'tessera_chat_event_streams_open',
      help: 'SSE event streams (GET /chat/events) open now.',
      type: 'gauge',
      aggregator: 'sum',
      values: [{ labels: {}, value: open }],
    }),
  } as never);
  return {
    registry,
    requests: createRequestMetrics(registry, { prefix: 'tessera_chat_' }),
    tracing: createRequestTracing({ name: '@tessera/chat' }),
    messageSent: () => messages.inc(),
    threadCreated: () => threads.inc(),
    roomCreated: () => rooms.inc(),
    callDecision: (ok) => (ok ? allowed : denied).inc(),
    streamOpen: (delta) => {
      open += delta;
    },
    eventDelivered: () => delivered.inc(),
    publishFailed: () => publishFailures.inc(),
  };
}
