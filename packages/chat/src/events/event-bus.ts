/**
 * Chat events: what happened in a thread, addressed to the raw ids of the users who should hear of it. The chat
 * routes publish one event per change after it is stored; a subscriber (the SSE stream, a test) hears the events
 * whose `recipients` include its user. Every field is JSON-safe (strings, numbers, plain objects), so a
 * cross-process bus can send an event as `JSON.stringify(event)` and hand `JSON.parse` of it to its listeners.
 * Event names follow the official SDK's `ChatEventId`s.
 */

/** The sender or subject of an event: a raw id (`8:acs:…`) and the display name, when one was given. */
export interface ChatEventParticipant {
  readonly rawId: string;
  readonly displayName?: string | undefined;
  /** ISO 8601; the history the participant shares (participantsAdded only). */
  readonly shareHistoryTime?: string | undefined;
}

/** Fields every event has. */
interface ChatEventBase {
  /** The thread the event is about (`19:…@thread.v2`). */
  readonly threadId: string;
  /**
   * Raw ids of the users who should receive it (the thread's participants at the time, in most events), in lower
   * case as the chat routes store them: subscribe with `token.identity.toLowerCase()`.
   */
  readonly recipients: readonly string[];
  /** When it happened, ISO 8601 with milliseconds. */
  readonly occurredOn: string;
}

/** A text or html message, as the events carry it. */
export interface ChatEventMessage {
  readonly id: string;
  readonly type: 'text' | 'html';
  readonly version: string;
  readonly content: string;
  readonly sender: ChatEventParticipant;
  readonly createdOn: string;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** A message was sent. */
export interface ChatMessageReceivedEvent extends ChatEventBase {
  readonly type: 'chatMessageReceived';
  readonly message: ChatEventMessage;
}

/** A message was edited (content or metadata). */
export interface ChatMessageEditedEvent extends ChatEventBase {
  readonly type: 'chatMessageEdited';
  readonly message: ChatEventMessage;
  readonly editedOn: string;
}

/** A message was deleted. */
export interface ChatMessageDeletedEvent extends ChatEventBase {
  readonly type: 'chatMessageDeleted';
  readonly messageId: string;
  readonly version: string;
  readonly sender: ChatEventParticipant;
  readonly deletedOn: string;
}

/** A participant is typing. */
export interface TypingIndicatorReceivedEvent extends ChatEventBase {
  readonly type: 'typingIndicatorReceived';
  readonly sender: ChatEventParticipant;
}

/** A participant read up to a message. */
export interface ReadReceiptReceivedEvent extends ChatEventBase {
  readonly type: 'readReceiptReceived';
  readonly sender: ChatEventParticipant;
  readonly chatMessageId: string;
  readonly readOn: string;
}

/** A thread was created (recipients: its first participants, creator included). */
export interface ChatThreadCreatedEvent extends ChatEventBase {
  readonly type: 'chatThreadCreated';
  readonly createdBy: ChatEventParticipant;
  readonly topic: string;
  readonly participants: readonly ChatEventParticipant[];
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** The topic (or metadata / retention policy) of a thread changed. */
export interface ChatThreadPropertiesUpdatedEvent extends ChatEventBase {
  readonly type: 'chatThreadPropertiesUpdated';
  readonly updatedBy: ChatEventParticipant;
  readonly topic: string;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** A thread was deleted (recipients: its participants just before). */
export interface ChatThreadDeletedEvent extends ChatEventBase {
  readonly type: 'chatThreadDeleted';
  readonly deletedBy: ChatEventParticipant;
}

/** Participants were added (recipients: everyone in the thread afterwards). */
export interface ParticipantsAddedEvent extends ChatEventBase {
  readonly type: 'participantsAdded';
  readonly addedBy: ChatEventParticipant;
  readonly participantsAdded: readonly ChatEventParticipant[];
}

/** A participant was removed (recipients: everyone in the thread before, the removed one included). */
export interface ParticipantsRemovedEvent extends ChatEventBase {
  readonly type: 'participantsRemoved';
  readonly removedBy: ChatEventParticipant;
  readonly participantsRemoved: readonly ChatEventParticipant[];
}

/**
 * A user's presence changed. Presence belongs to a user, not a thread: `threadId` is the empty string and
 * `recipients` are the users who share a thread (or room) with them. Tessera extension; no ACS counterpart.
 */
export interface PresenceChangedEvent extends ChatEventBase {
  readonly type: 'presenceChanged';
  readonly userRawId: string;
  readonly state: string;
  readonly note?: string | undefined;
  readonly expiresOn?: string | undefined;
}

/** Every event the chat data plane publishes. */
export type ChatEvent =
  | ChatMessageReceivedEvent
  | ChatMessageEditedEvent
  | ChatMessageDeletedEvent
  | TypingIndicatorReceivedEvent
  | ReadReceiptReceivedEvent
  | ChatThreadCreatedEvent
  | ChatThreadPropertiesUpdatedEvent
  | ChatThreadDeletedEvent
  | ParticipantsAddedEvent
  | ParticipantsRemovedEvent
  | PresenceChangedEvent;

/** The `type` of a {@link ChatEvent}. */
export type ChatEventType = ChatEvent['type'];

/** Receives the events addressed to one user. Must not throw (a throw is caught and logged, never re-thrown). */
export type ChatEventListener = (event: ChatEvent) => void;

/**
 * Where chat events go. `publish` delivers an event to the listeners of every raw id in `event.recipients`
 * (in this process, and in the others when the bus spans processes); it resolves once the event is handed over
 * (a local bus: delivered; a cross-process bus: sent), never rejects for a listener's failure, and may reject
 * when a cross-process transport is down — the routes log that and still answer (the change is stored).
 * `subscribe` registers a listener for one user and returns the function that removes it. Events of one
 * publisher reach a listener in publish order.
 */
export interface ChatEventBus {
  publish(event: ChatEvent): Promise<void>;
  subscribe(userRawId: string, listener: ChatEventListener): () => void;
  /** Stops the bus (drops every listener, closes transports). */
  close(): Promise<void>;
}
