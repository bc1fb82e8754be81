import type {
  ChatMessageRecord,
  ChatParticipantRecord,
  ChatReadReceiptRecord,
  ChatThreadRecord,
} from '../store/chat-store.js';
import type { ChatApiVersion } from './api-versions.js';

/** The wire form of a communication user (`CommunicationIdentifierModel`), as ACS answers it. */
export interface IdentifierModel {
  rawId: string;
  communicationUser: { id: string };
}

/** `{ rawId, communicationUser: { id } }` of a raw id. */
export function identifierModel(rawId: string): IdentifierModel {
  return { rawId, communicationUser: { id: rawId } };
}

/** Unix ms as ACS writes times: RFC 3339, whole seconds, `Z`. */
export function wireTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/** `ChatThreadProperties`. */
export function threadProperties(thread: ChatThreadRecord, api: ChatApiVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: thread.id,
    topic: thread.topic,
    createdOn: wireTime(thread.createdOn),
    createdByCommunicationIdentifier: identifierModel(thread.createdBy),
  };
  if (thread.deletedOn !== undefined) out.deletedOn = wireTime(thread.deletedOn);
  if (api.threadMetadata) {
    out.metadata = { ...thread.metadata };
    if (thread.retentionPolicy !== undefined) out.retentionPolicy = { ...thread.retentionPolicy };
  }
  return out;
}

/** `ChatThreadItem`. */
export function threadItem(thread: ChatThreadRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: thread.id,
    topic: thread.topic,
    lastMessageReceivedOn: wireTime(thread.lastMessageReceivedOn),
  };
  if (thread.deletedOn !== undefined) out.deletedOn = wireTime(thread.deletedOn);
  return out;
}

/** `ChatParticipant`. */
export function participantModel(p: ChatParticipantRecord, api: ChatApiVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {
    communicationIdentifier: identifierModel(p.rawId),
    shareHistoryTime: wireTime(p.shareHistoryTime),
  };
  if (p.displayName !== undefined) out.displayName = p.displayName;
  if (api.threadMetadata && p.metadata !== undefined) out.metadata = { ...p.metadata };
  return out;
}

/** `ChatMessage`: user messages with their content, system messages with topic / participants / initiator. */
export function messageModel(m: ChatMessageRecord, api: ChatApiVersion): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    type: m.type,
    sequenceId: String(m.sequenceId),
    version: m.version,
  };
  const content: Record<string, unknown> = {};
  if (m.type === 'text' || m.type === 'html') {
    if (m.deletedOn === undefined) content.message = m.content ?? '';
  } else {
    if (m.topic !== undefined) content.topic = m.topic;
    if (m.participants !== undefined) content.participants = m.participants.map((p) => participantModel(p, api));
    if (m.initiatorRawId !== undefined) content.initiatorCommunicationIdentifier = identifierModel(m.initiatorRawId);
  }
  out.content = content;
  if (m.type === 'text' || m.type === 'html') out.senderDisplayName = m.senderDisplayName ?? '';
  out.createdOn = wireTime(m.createdOn);
  if (m.senderRawId !== undefined) out.senderCommunicationIdentifier = identifierModel(m.senderRawId);
  if (m.deletedOn !== undefined) out.deletedOn = wireTime(m.deletedOn);
  if (m.editedOn !== undefined) out.editedOn = wireTime(m.editedOn);
  if (api.messageMetadata && m.metadata !== undefined && m.deletedOn === undefined) out.metadata = { ...m.metadata };
  return out;
}

/** `ChatMessageReadReceipt`. */
export function readReceiptModel(r: ChatReadReceiptRecord): Record<string, unknown> {
  return {
    senderCommunicationIdentifier: identifierModel(r.senderRawId),
    chatMessageId: r.chatMessageId,
    readOn: wireTime(r.readOn),
  };
}
