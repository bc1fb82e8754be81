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
  /** Per-route request counts and latency; undefined when the host counts requests itself (`requests: false`). */
  readonly requests: RequestMetrics | undefined;
  readonly tracing: RequestTracing | undefined;
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

/** Options of {@link createChatMetrics}. */
export interface ChatMetricsOptions {
  /**
   * Add `tessera_chat_requests_total` / `tessera_chat_request_duration_seconds` and request spans. Default true;
   * false when mounted in a host that counts every route itself (`tessera serve`).
   */
  readonly requests?: boolean;
}

/**
 * Creates the chat metrics in `registry` (a fresh one by default). Every label comes from a closed set (route
 * patterns, HTTP statuses, `allowed`/`denied`): never a thread, message, room or identity id.
 */
export function createChatMetrics(
  registry: Registry = createMetricsRegistry(),
  options: ChatMetricsOptions = {},
): ChatMetrics {
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
    requests: options.requests === false ? undefined : createRequestMetrics(registry, { prefix: 'tessera_chat_' }),
    tracing: options.requests === false ? undefined : createRequestTracing({ name: '@tessera/chat' }),
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
