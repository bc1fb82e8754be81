import type {
  ChatMessageRecord,
  ChatMessageType,
  ChatParticipantRecord,
  ChatReadReceiptRecord,
  ChatRetentionPolicy,
  ChatThreadRecord,
} from './chat-store.js';

// Row shapes shared by the SQLite and PostgreSQL stores: the same columns, numbers as numbers or numeric strings
// (PostgreSQL BIGINT comes back as a string).

type Num = number | string;
type Opt<T> = T | null;

/** A `chat_threads` row. */
export interface ThreadRow {
  id: string;
  resource_id: string;
  topic: string;
  created_by: string;
  created_on: Num;
  deleted_on: Opt<Num>;
  last_message_on: Num;
  metadata: string;
  retention: Opt<string>;
  fingerprint?: Opt<string>;
}

/** A `chat_participants` row. */
export interface ParticipantRow {
  raw_id: string;
  display_name: Opt<string>;
  share_history_time: Num;
  metadata: Opt<string>;
}

/** A `chat_messages` row. */
export interface MessageRow {
  thread_id: string;
  id: Num;
  sequence_id: Num;
  type: string;
  sender: Opt<string>;
  sender_display_name: Opt<string>;
  content: Opt<string>;
  topic: Opt<string>;
  participants: Opt<string>;
  initiator: Opt<string>;
  metadata: Opt<string>;
  version: string;
  created_on: Num;
  edited_on: Opt<Num>;
  deleted_on: Opt<Num>;
}

/** A `chat_read_receipts` row. */
export interface ReceiptRow {
  sender: string;
  message_id: Num;
  read_on: Num;
}

/** The columns selected for a thread, in both stores. */
export const THREAD_COLUMNS =
  't.id, t.resource_id, t.topic, t.created_by, t.created_on, t.deleted_on, t.last_message_on, t.metadata, t.retention';

export function toThread(r: ThreadRow): ChatThreadRecord {
  return {
    id: r.id,
    resourceId: r.resource_id,
    topic: r.topic,
    createdBy: r.created_by,
    createdOn: Number(r.created_on),
    ...(r.deleted_on === null ? {} : { deletedOn: Number(r.deleted_on) }),
    lastMessageReceivedOn: Number(r.last_message_on),
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    ...(r.retention === null ? {} : { retentionPolicy: JSON.parse(r.retention) as ChatRetentionPolicy }),
  };
}

export function toParticipant(r: ParticipantRow): ChatParticipantRecord {
  return {
    rawId: r.raw_id,
    ...(r.display_name === null ? {} : { displayName: r.display_name }),
    shareHistoryTime: Number(r.share_history_time),
    ...(r.metadata === null ? {} : { metadata: JSON.parse(r.metadata) as Record<string, string> }),
  };
}

export function toMessage(r: MessageRow): ChatMessageRecord {
  return {
    threadId: r.thread_id,
    id: String(r.id),
    sequenceId: Number(r.sequence_id),
    type: r.type as ChatMessageType,
    version: r.version,
    createdOn: Number(r.created_on),
    ...(r.sender === null ? {} : { senderRawId: r.sender }),
    ...(r.sender_display_name === null ? {} : { senderDisplayName: r.sender_display_name }),
    ...(r.content === null ? {} : { content: r.content }),
    ...(r.topic === null ? {} : { topic: r.topic }),
    ...(r.participants === null ? {} : { participants: JSON.parse(r.participants) as ChatParticipantRecord[] }),
    ...(r.initiator === null ? {} : { initiatorRawId: r.initiator }),
    ...(r.metadata === null ? {} : { metadata: JSON.parse(r.metadata) as Record<string, string> }),
    ...(r.edited_on === null ? {} : { editedOn: Number(r.edited_on) }),
    ...(r.deleted_on === null ? {} : { deletedOn: Number(r.deleted_on) }),
  };
}

export function toReceipt(r: ReceiptRow): ChatReadReceiptRecord {
  return { senderRawId: r.sender, chatMessageId: String(r.message_id), readOn: Number(r.read_on) };
}

/** JSON text of a value, or null. */
export function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Applies a metadata merge-patch (`null` removes a key). */
export function mergeMetadata(
  base: Readonly<Record<string, string>> | undefined,
  patch: Readonly<Record<string, string | null>>,
): Record<string, string> {
  const out: Record<string, string> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** The values of a message's columns after `thread_id, id, sequence_id`, in the order both stores insert them. */
export function messageValues(
  d: {
    type: string;
    senderRawId?: string | undefined;
    senderDisplayName?: string | undefined;
    content?: string | undefined;
    topic?: string | undefined;
    participants?: readonly ChatParticipantRecord[] | undefined;
    initiatorRawId?: string | undefined;
    metadata?: Readonly<Record<string, string>> | undefined;
  },
  version: string,
  now: number,
): (string | number | null)[] {
  return [
    d.type,
    d.senderRawId ?? null,
    d.senderDisplayName ?? null,
    d.content ?? null,
    d.topic ?? null,
    json(d.participants),
    d.initiatorRawId ?? null,
    json(d.metadata),
    version,
    now,
  ];
}

/** The column list matching {@link messageValues}. */
export const MESSAGE_INSERT_COLUMNS =
  'thread_id, id, sequence_id, type, sender, sender_display_name, content, topic, participants, initiator, metadata, version, created_on';
