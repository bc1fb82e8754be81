/**
 * The chat store port: what the chat routes need from a database, nothing more. Records are domain values
 * (raw ids, Unix milliseconds), not wire shapes. Every method is atomic: a change and the system message it
 * causes are stored together or not at all. One conformance suite (test/store-conformance.ts) holds every
 * implementation (SQLite, PostgreSQL) to the same behaviour.
 */

/** ACS thread retention: kept forever, or deleted a number of days after creation (api-version 2024-03-07+). */
export type ChatRetentionPolicy =
  | { readonly kind: 'none' }
  | { readonly kind: 'threadCreationDate'; readonly deleteThreadAfterDays: number };

/** A chat thread. */
export interface ChatThreadRecord {
  /** `19:<32 hex>@thread.v2`. */
  readonly id: string;
  /** The Communication Services resource the thread belongs to (its creator's). */
  readonly resourceId: string;
  readonly topic: string;
  /** Raw id of the creator. */
  readonly createdBy: string;
  readonly createdOn: number;
  readonly deletedOn?: number | undefined;
  /** Time of the latest message (system messages included); `createdOn` before any. */
  readonly lastMessageReceivedOn: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly retentionPolicy?: ChatRetentionPolicy | undefined;
}

/** A participant of a thread. */
export interface ChatParticipantRecord {
  readonly rawId: string;
  readonly displayName?: string | undefined;
  /** The history this participant sees starts here (Unix ms; 0 = all of it). */
  readonly shareHistoryTime: number;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** The kinds of message ACS stores: user messages and the system messages it writes itself. */
export type ChatMessageType = 'text' | 'html' | 'topicUpdated' | 'participantAdded' | 'participantRemoved';

/** A message before the store gives it an id: what the routes hand to the store. */
/** What {@link ChatStore.sendMessage} stores. */
export interface SendMessageInput {
  readonly threadId: string;
  /** The resource the sender's token belongs to (lower case): a thread of another resource is not theirs. */
  readonly resourceId: string;
  /** The message; `senderRawId` (lower case) must be a participant. */
  readonly draft: ChatMessageDraft & { readonly senderRawId: string };
  readonly now: number;
}

/** What {@link ChatStore.sendMessage} stored, and who it goes to. */
export interface SentMessage {
  readonly message: ChatMessageRecord;
  readonly recipients: string[];
}

/** A thread and one participant's record in it ({@link ChatStore.getMembership}). */
export interface ChatMembership {
  readonly thread: ChatThreadRecord;
  readonly participant: ChatParticipantRecord;
}

export interface ChatMessageDraft {
  readonly type: ChatMessageType;
  /** The sender's raw id (user messages only). */
  readonly senderRawId?: string | undefined;
  readonly senderDisplayName?: string | undefined;
  /** The text or html (user messages). */
  readonly content?: string | undefined;
  /** The new topic (`topicUpdated`). */
  readonly topic?: string | undefined;
  /** Who was added or removed (`participantAdded` / `participantRemoved`). */
  readonly participants?: readonly ChatParticipantRecord[] | undefined;
  /** Who caused a system message. */
  readonly initiatorRawId?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

/** A stored message. */
export interface ChatMessageRecord extends ChatMessageDraft {
  readonly threadId: string;
  /**
   * Numeric string, milliseconds-based like ACS (`max(now, previous + 1)` within the thread), so ids increase
   * with time and order the thread.
   */
  readonly id: string;
  /** 1, 2, 3… within the thread. */
  readonly sequenceId: number;
  /** The id at first; the edit time (ms, as a string) after an edit or delete. */
  readonly version: string;
  readonly createdOn: number;
  readonly editedOn?: number | undefined;
  readonly deletedOn?: number | undefined;
}

/** A read receipt: the latest message a participant has read. */
export interface ChatReadReceiptRecord {
  readonly senderRawId: string;
  readonly chatMessageId: string;
  readonly readOn: number;
}

/** Creates a thread with its first participants and the system messages of its creation. */
export interface CreateThreadInput {
  readonly thread: Omit<ChatThreadRecord, 'deletedOn' | 'lastMessageReceivedOn'>;
  /** Every first participant, the creator included. */
  readonly participants: readonly ChatParticipantRecord[];
  /** System messages stored with the thread (ACS: participantAdded, then topicUpdated). */
  readonly systemMessages: readonly ChatMessageDraft[];
  /**
   * `repeatability-request-id` idempotency: a second create by the same creator with the same `requestId`
   * returns the first thread instead of creating one; `fingerprint` (a hash of the request) tells a replay from
   * a different request reusing the id.
   */
  readonly repeatability?: { readonly requestId: string; readonly fingerprint: string } | undefined;
}

/** What {@link ChatStore.createThread} answers. */
export interface CreateThreadResult {
  readonly thread: ChatThreadRecord;
  /** False when the repeatability id matched an earlier create. */
  readonly created: boolean;
  /** On a replay: whether the earlier request had the same fingerprint. */
  readonly sameRequest: boolean;
}

/** A page of threads, newest activity first. */
export interface ListThreadsQuery {
  /** Only threads whose latest message is at or after this time (Unix ms). */
  readonly startTime?: number | undefined;
  readonly limit: number;
  /** Continue after this thread of the previous page. */
  readonly after?: { readonly lastMessageReceivedOn: number; readonly id: string } | undefined;
}

/** A page of messages, newest first. */
export interface ListMessagesQuery {
  /** Only messages created at or after this time (Unix ms): the caller's shareHistoryTime and/or `startTime`. */
  readonly notBefore: number;
  readonly limit: number;
  /** Continue with messages older than this id (numeric comparison). */
  readonly beforeId?: string | undefined;
}

/** Changes of {@link ChatStore.updateThread}; absent fields are kept. */
export interface ThreadPatch {
  readonly topic?: string | undefined;
  /** Merge-patch of the metadata: a `null` value removes the key. */
  readonly metadata?: Readonly<Record<string, string | null>> | undefined;
  readonly retentionPolicy?: ChatRetentionPolicy | undefined;
}

/** Changes of {@link ChatStore.updateMessage}; absent fields are kept. */
export interface MessagePatch {
  readonly content?: string | undefined;
  /** Merge-patch of the metadata: a `null` value removes the key. */
  readonly metadata?: Readonly<Record<string, string | null>> | undefined;
}

/** The chat store port. */
export interface ChatStore {
  /** Creates or upgrades the tables (idempotent; safe from several processes at once). */
  migrate(): Promise<void>;
  close(): Promise<void>;

  createThread(input: CreateThreadInput): Promise<CreateThreadResult>;
  /** The thread, deleted ones included (check `deletedOn`); undefined when unknown. */
  getThread(threadId: string): Promise<ChatThreadRecord | undefined>;
  /** The threads `rawId` currently participates in, not deleted. */
  listThreads(rawId: string, query: ListThreadsQuery): Promise<ChatThreadRecord[]>;
  /** Applies the patch and stores `systemMessage` (topicUpdated) with it; undefined when the thread is unknown. */
  updateThread(
    threadId: string,
    patch: ThreadPatch,
    systemMessage: ChatMessageDraft | undefined,
    now: number,
  ): Promise<ChatThreadRecord | undefined>;
  /** Marks the thread deleted; false when unknown or already deleted. */
  deleteThread(threadId: string, now: number): Promise<boolean>;

  getParticipant(threadId: string, rawId: string): Promise<ChatParticipantRecord | undefined>;
  /**
   * The thread and `rawId`'s place in it, read together (one query: every chat request asks this first); undefined
   * when the thread is unknown or `rawId` is not a participant. A deleted thread is returned (the caller decides).
   */
  getMembership(threadId: string, rawId: string): Promise<ChatMembership | undefined>;
  /** The raw ids of the current participants, in no particular order (who an event goes to). */
  participantIds(threadId: string): Promise<string[]>;
  /** Current participants, in the order they joined. */
  listParticipants(threadId: string, skip: number, limit: number): Promise<ChatParticipantRecord[]>;
  /** Adds (or updates) participants and stores the participantAdded message, in one transaction. */
  addParticipants(
    threadId: string,
    participants: readonly ChatParticipantRecord[],
    systemMessage: ChatMessageDraft,
    now: number,
  ): Promise<void>;
  /** Removes a participant and stores the participantRemoved message; false when not a participant. */
  removeParticipant(threadId: string, rawId: string, systemMessage: ChatMessageDraft, now: number): Promise<boolean>;

  /** Stores a message, giving it the next id and sequence id of the thread. */
  appendMessage(threadId: string, draft: ChatMessageDraft, now: number): Promise<ChatMessageRecord>;
  /**
   * A participant's message, checked and stored in one transaction (the send path: one store call, not a read, a
   * write and a read): when `draft.senderRawId` is a participant of thread `threadId`, which is not deleted and
   * belongs to `resourceId`, the message is appended and returned with the raw ids of the thread's participants
   * (who the event goes to); otherwise nothing is written and the answer is undefined.
   */
  sendMessage(input: SendMessageInput): Promise<SentMessage | undefined>;
  getMessage(threadId: string, messageId: string): Promise<ChatMessageRecord | undefined>;
  listMessages(threadId: string, query: ListMessagesQuery): Promise<ChatMessageRecord[]>;
  /** Edits a message (sets `editedOn`, `version`); undefined when unknown or deleted. */
  updateMessage(
    threadId: string,
    messageId: string,
    patch: MessagePatch,
    now: number,
  ): Promise<ChatMessageRecord | undefined>;
  /** Deletes a message (sets `deletedOn`, `version`); undefined when unknown; idempotent on a deleted one. */
  deleteMessage(threadId: string, messageId: string, now: number): Promise<ChatMessageRecord | undefined>;

  /** Records that `receipt.senderRawId` read up to `receipt.chatMessageId` (one receipt per participant, latest wins). */
  putReadReceipt(threadId: string, receipt: ChatReadReceiptRecord): Promise<void>;
  listReadReceipts(threadId: string, skip: number, limit: number): Promise<ChatReadReceiptRecord[]>;
}
