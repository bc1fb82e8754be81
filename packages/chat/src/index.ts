export {
  chatPlugin,
  resolveChatContext,
  type ChatPluginOptions,
  type ChatContext,
  type ChatRouteModule,
} from './chat-plugin.js';
export {
  CHAT_ERRORS,
  ChatError,
  isChatError,
  toChatErrorResponse,
  type ChatErrorBody,
  type ChatErrorCode,
  type ChatErrorOptions,
  type ChatErrorResponse,
  type ChatWireError,
} from './errors.js';
export type {
  ChatEvent,
  ChatEventBus,
  ChatEventListener,
  ChatEventMessage,
  ChatEventParticipant,
  ChatEventType,
  ChatMessageDeletedEvent,
  ChatMessageEditedEvent,
  ChatMessageReceivedEvent,
  ChatThreadCreatedEvent,
  ChatThreadDeletedEvent,
  ChatThreadPropertiesUpdatedEvent,
  ParticipantsAddedEvent,
  ParticipantsRemovedEvent,
  PresenceChangedEvent,
  ReadReceiptReceivedEvent,
  TypingIndicatorReceivedEvent,
} from './events/event-bus.js';
export {
  EVENT_STREAM_CAPABILITY,
  registerEventStreamRoutes,
  type ChatEventStreamOptions,
  type ChatStreamEndReason,
} from './events/events-route.js';
export {
  createChatEventHub,
  type ChatEventHub,
  type ChatEventHubOptions,
  type StreamAttachment,
  type StreamEntry,
} from './events/event-stream-hub.js';
export {
  createPostgresEventBus,
  postgresChatEventChannel,
  type PostgresEventBus,
  type PostgresEventBusOptions,
} from './events/postgres-event-bus.js';
export { openChatEventBus, type OpenChatEventBusOptions } from './events/open-chat-event-bus.js';
export { createInProcessEventBus, type InProcessEventBusOptions } from './events/in-process-event-bus.js';
export { silentChatLogger, type ChatLogger } from './logger.js';
export type {
  ChatMessageDraft,
  ChatMessageRecord,
  ChatMessageType,
  ChatParticipantRecord,
  ChatReadReceiptRecord,
  ChatRetentionPolicy,
  ChatStore,
  ChatThreadRecord,
  CreateThreadInput,
  CreateThreadResult,
  ListMessagesQuery,
  ListThreadsQuery,
  MessagePatch,
  ThreadPatch,
} from './store/chat-store.js';
export { createSqliteChatStore, type SqliteChatStoreOptions } from './store/sqlite-chat-store.js';
export { createPostgresChatStore, type PostgresChatStoreOptions } from './store/postgres-chat-store.js';
export { CHAT_LIMITS, registerChatRoutes } from './routes/chat-routes.js';
export {
  CHAT_API_VERSIONS,
  CHAT_SUPPORTED_VERSIONS_HEADER,
  resolveChatApiVersion,
  type ChatApiVersion,
} from './wire/api-versions.js';
export * from './rooms/index.js';
export { createNodeFetch, type NodeFetchOptions } from './http/node-fetch.js';
export { chatCorsOrigin, type ChatCorsOptions } from './http/cors.js';
export { createDeferredVerifier, type DeferredVerifier } from './service/deferred-verifier.js';
export {
  openChatStore,
  parseChatStoreLocation,
  type ChatStoreLocation,
} from './service/open-chat-store.js';
export {
  startChatService,
  chatServiceRoomsKeys,
  type ChatServiceOptions,
  type RunningChatService,
} from './service/start-chat-service.js';
export { type ChatMetrics, type ChatMetricsOptions, createChatMetrics } from './metrics/chat-metrics.js';
export {
  PRESENCE_LIMITS,
  parsePresenceBody,
  registerPresenceRoutes,
  type PresenceOptions,
} from './presence/presence-routes.js';
export {
  PRESENCE_STATES,
  type PresenceRecord,
  type PresenceState,
  type PresenceStore,
} from './presence/presence-store.js';
export { createSqlitePresenceStore, type SqlitePresenceStoreOptions } from './presence/presence-store-sqlite.js';
export { createPostgresPresenceStore, type PostgresPresenceStoreOptions } from './presence/presence-store-postgres.js';
export { openPresenceStore } from './presence/open-presence-store.js';
export {
  PRESENCE_CONTACT_LIMITS,
  presenceContacts,
  type PresenceContactsOptions,
} from './presence/presence-contacts.js';
