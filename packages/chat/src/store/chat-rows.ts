import type {
  ChatMembership,
  ChatMessageDraft,
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

/** The participant columns a membership query reads beside {@link THREAD_COLUMNS}, as `p_*` aliases. */
export const MEMBERSHIP_PARTICIPANT_COLUMNS =
  'p.raw_id AS p_raw_id, p.display_name AS p_display_name, p.share_history_time AS p_share_history_time, p.metadata AS p_metadata';

/** A membership row: the thread's columns and the participant's under `p_`. */
export interface MembershipRow extends ThreadRow {
  p_raw_id: string;
  p_display_name: Opt<string>;
  p_share_history_time: Num;
  p_metadata: Opt<string>;
}

export function toMembership(r: MembershipRow): ChatMembership {
  return {
    thread: toThread(r),
    participant: toParticipant({
      raw_id: r.p_raw_id,
      display_name: r.p_display_name,
      share_history_time: r.p_share_history_time,
      metadata: r.p_metadata,
    }),
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

/** The message columns in the order {@link messageFromValues} reads them (an array-mode select). */
export const MESSAGE_COLUMNS =
  'thread_id, id, sequence_id, type, sender, sender_display_name, content, topic, participants, initiator, metadata, version, created_on, edited_on, deleted_on';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A message from its {@link MESSAGE_COLUMNS} values. Lists read rows as arrays: better-sqlite3 builds an object per row
 * at ~0.2 µs a column (a page of 20 messages cost 68 µs as objects, 36 µs as arrays), and the record is built by
 * assignment, not by spreading optional parts.
 */
export function messageFromValues(v: readonly unknown[]): ChatMessageRecord {
  const m: Mutable<ChatMessageRecord> = {
    threadId: v[0] as string,
    id: String(v[1]),
    sequenceId: Number(v[2]),
    type: v[3] as ChatMessageType,
    version: v[11] as string,
    createdOn: Number(v[12]),
  };
  if (v[4] !== null) m.senderRawId = v[4] as string;
  if (v[5] !== null) m.senderDisplayName = v[5] as string;
  if (v[6] !== null) m.content = v[6] as string;
  if (v[7] !== null) m.topic = v[7] as string;
  if (v[8] !== null) m.participants = JSON.parse(v[8] as string) as ChatParticipantRecord[];
  if (v[9] !== null) m.initiatorRawId = v[9] as string;
  if (v[10] !== null) m.metadata = JSON.parse(v[10] as string) as Record<string, string>;
  if (v[13] !== null) m.editedOn = Number(v[13]);
  if (v[14] !== null) m.deletedOn = Number(v[14]);
  return m;
}

export function toMessage(r: MessageRow): ChatMessageRecord {
  return messageFromValues([
    r.thread_id,
    r.id,
    r.sequence_id,
    r.type,
    r.sender,
    r.sender_display_name,
    r.content,
    r.topic,
    r.participants,
    r.initiator,
    r.metadata,
    r.version,
    r.created_on,
    r.edited_on,
    r.deleted_on,
  ]);
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

/**
 * The record of a message just inserted from `draft` with {@link messageValues}: what {@link toMessage} reads back
 * from that row, built without reading it (the send path's insert need not be followed by a select).
 */
export function insertedMessage(
  threadId: string,
  id: string,
  sequenceId: number,
  d: ChatMessageDraft,
  now: number,
): ChatMessageRecord {
  return {
    threadId,
    id,
    sequenceId,
    type: d.type,
    version: id,
    createdOn: now,
    ...(d.senderRawId === undefined ? {} : { senderRawId: d.senderRawId }),
    ...(d.senderDisplayName === undefined ? {} : { senderDisplayName: d.senderDisplayName }),
    ...(d.content === undefined ? {} : { content: d.content }),
    ...(d.topic === undefined ? {} : { topic: d.topic }),
    ...(d.participants === undefined ? {} : { participants: d.participants }),
    ...(d.initiatorRawId === undefined ? {} : { initiatorRawId: d.initiatorRawId }),
    ...(d.metadata === undefined ? {} : { metadata: d.metadata }),
  };
}

/** The column list matching {@link messageValues}. */
export const MESSAGE_INSERT_COLUMNS =
  'thread_id, id, sequence_id, type, sender, sender_display_name, content, topic, participants, initiator, metadata, version, created_on';
