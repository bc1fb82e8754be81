import { createHash, randomBytes } from 'node:crypto';
import type { Capability, AuthorizeContext } from '@tessera/core';
import { type VerifiedToken, capabilityError, extractBearerToken } from '@tessera/verifier';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatContext } from '../chat-plugin.js';
import { ChatError } from '../errors.js';
import type { ChatEvent, ChatEventParticipant } from '../events/event-bus.js';
import type {
  ChatMessageDraft,
  ChatMessageRecord,
  ChatParticipantRecord,
  ChatRetentionPolicy,
  ChatThreadRecord,
} from '../store/chat-store.js';
import { type ChatApiVersion, resolveChatApiVersion } from '../wire/api-versions.js';
import { messageModel, participantModel, readReceiptModel, threadItem, threadProperties } from '../wire/chat-wire.js';
import {
  bodyObject,
  communicationUserRawId,
  invalid,
  optionalMetadata,
  optionalString,
  parseDateTime,
  queryInt,
  requiredString,
  resourceOfRawId,
  utf8Length,
} from '../wire/validate.js';

/** Limits the chat API enforces (ACS's where ACS states one; docs/chat.md lists them). */
export const CHAT_LIMITS = {
  /** ACS: "maximum message size 28 KB" — the content, in UTF-8 bytes. */
  maxMessageBytes: 28 * 1024,
  /** ACS: thread and participant metadata "up to 1KB". */
  maxThreadMetadataBytes: 1024,
  maxMessageMetadataBytes: 8 * 1024,
  maxTopicChars: 1024,
  maxDisplayNameChars: 256,
  /** ACS: 250 participants per thread; also the most one request may add. */
  maxParticipants: 250,
  defaultPageSize: 20,
  maxPageSize: 200,
  maxRetentionDays: 90,
  /** Largest request body: room for a 28 KB message written entirely in JSON escapes. */
  bodyLimit: 256 * 1024,
} as const;

const THREAD_ID = /^19:[A-Za-z0-9_\-.]{1,200}@thread\.v2$/;
const MESSAGE_ID = /^\d{1,16}$/;
const REPEATABILITY_ID = /^[\x21-\x7e]{1,128}$/;

interface ThreadAccess {
  readonly thread: ChatThreadRecord;
  readonly me: ChatParticipantRecord;
}

type Query = Record<string, unknown>;

/** Registers the ACS Chat API (`/chat/threads/…`) on the plugin's instance. */
export function registerChatRoutes(app: FastifyInstance, ctx: ChatContext): void {
  const { store, verifier, clock, logger } = ctx;
  const routeOptions = { bodyLimit: CHAT_LIMITS.bodyLimit };

  /** Verifies the Bearer token and authorizes `capability` (403 naming it when the scopes do not allow it). */
  async function caller(request: FastifyRequest, capability: Capability): Promise<VerifiedToken> {
    const token = await verifier.verify(extractBearerToken(request.headers.authorization));
    // The own-message capabilities are asked here about the caller's own message: only the scope is judged now,
    // the sender once the message is loaded (ownMessage).
    authorizeOrThrow(
      token,
      capability,
      capability === 'chat.message.updateOwn' || capability === 'chat.message.deleteOwn'
        ? { messageSenderId: token.identity }
        : undefined,
    );
    return token;
  }

  function authorizeOrThrow(token: VerifiedToken, capability: Capability, context?: AuthorizeContext): void {
    const result = verifier.authorize(token, capability, context);
    if (!result.allowed) throw capabilityError(result, capability);
  }

  function apiOf(request: FastifyRequest): ChatApiVersion {
    return resolveChatApiVersion((request.query as Query)['api-version']);
  }

  function me(token: VerifiedToken): string {
    return token.identity.toLowerCase();
  }

  /**
   * The thread and the caller's place in it. An unknown, malformed or deleted thread id, a thread of another
   * resource and a thread the caller is not in all answer the same 403 (ACS: "Permissions check failed"), so the
   * answer never reveals whether a thread exists.
   */
  async function access(threadId: string, token: VerifiedToken): Promise<ThreadAccess> {
    if (!THREAD_ID.test(threadId)) throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    const membership = await store.getMembership(threadId, me(token));
    if (
      membership === undefined ||
      membership.thread.deletedOn !== undefined ||
      membership.thread.resourceId !== token.resource.toLowerCase()
    ) {
      throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    }
    return { thread: membership.thread, me: membership.participant };
  }

  /** Messages before the caller's shareHistoryTime do not exist for them. */
  async function visibleMessage(a: ThreadAccess, messageId: string): Promise<ChatMessageRecord> {
    const message = MESSAGE_ID.test(messageId) ? await store.getMessage(a.thread.id, messageId) : undefined;
    if (message === undefined || message.createdOn < a.me.shareHistoryTime) {
      throw new ChatError('ERR_CHAT_MESSAGE_NOT_FOUND', { target: 'chatMessageId' });
    }
    return message;
  }

  async function recipients(threadId: string): Promise<string[]> {
    return store.participantIds(threadId);
  }

  function publish(event: ChatEvent): void {
    ctx.events.publish(event).catch(() => {
      ctx.metrics?.publishFailed();
      logger.warn('chat: an event could not be published', { type: event.type });
    });
  }

  function pageLink(request: FastifyRequest, params: Record<string, string | number | undefined>): string {
    const url = new URL(request.url, `${request.protocol}://${request.host}`);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    query.set('api-version', apiOf(request).version);
    return `${url.origin}${url.pathname}?${query.toString()}`;
  }

  function pageSize(query: Query): number {
    return queryInt(query.maxPageSize, 'maxPageSize', 1, 1_000_000) === undefined
      ? CHAT_LIMITS.defaultPageSize
      : Math.min(CHAT_LIMITS.maxPageSize, Number(query.maxPageSize));
  }

  function startTimeOf(query: Query): number | undefined {
    return query.startTime === undefined ? undefined : parseDateTime(query.startTime, 'startTime');
  }

  function participantOf(rawId: string, displayName?: string): ChatEventParticipant {
    return displayName === undefined ? { rawId } : { rawId, displayName };
  }

  /** Parses `participants` items; malformed ones fail the request, other resources' become invalidParticipants. */
  function parseParticipants(
    list: unknown,
    api: ChatApiVersion,
    resource: string,
    now: number,
  ): { valid: ChatParticipantRecord[]; invalid: Record<string, unknown>[] } {
    if (!Array.isArray(list)) throw invalid('participants', "'participants' must be an array.");
    if (list.length > CHAT_LIMITS.maxParticipants) {
      throw invalid('participants', `At most ${CHAT_LIMITS.maxParticipants} participants per request.`);
    }
    const byId = new Map<string, ChatParticipantRecord>();
    const foreign: Record<string, unknown>[] = [];
    list.forEach((item: unknown, i) => {
      const target = `participants[${i}]`;
      const p = bodyObjectAt(item, target);
      const rawId = communicationUserRawId(p.communicationIdentifier, `${target}.communicationIdentifier`);
      const displayName = optionalString(p, 'displayName', CHAT_LIMITS.maxDisplayNameChars, `${target}.displayName`);
      const share =
        p.shareHistoryTime === undefined || p.shareHistoryTime === null
          ? 0
          : parseDateTime(p.shareHistoryTime, `${target}.shareHistoryTime`);
      const metadata = api.threadMetadata
        ? optionalMetadata(p, 'metadata', CHAT_LIMITS.maxThreadMetadataBytes)
        : undefined;
      if (resourceOfRawId(rawId) !== resource) {
        foreign.push({ code: '403', message: 'Permissions check failed', target: rawId });
        return;
      }
      byId.set(rawId, {
        rawId,
        ...(displayName === undefined ? {} : { displayName }),
        shareHistoryTime: Math.max(0, Math.min(share, now)),
        ...(metadata === undefined ? {} : { metadata: metadata as Record<string, string> }),
      });
    });
    return { valid: [...byId.values()], invalid: foreign };
  }

  function parseRetention(value: unknown): ChatRetentionPolicy | undefined {
    if (value === undefined || value === null) return undefined;
    const o = bodyObjectAt(value, 'retentionPolicy');
    if (o.kind === 'none') return { kind: 'none' };
    if (o.kind !== 'threadCreationDate') {
      throw invalid('retentionPolicy.kind', "'retentionPolicy.kind' must be 'threadCreationDate' or 'none'.");
    }
    const days = o.deleteThreadAfterDays;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > CHAT_LIMITS.maxRetentionDays) {
      throw invalid(
        'retentionPolicy.deleteThreadAfterDays',
        `'deleteThreadAfterDays' must be a whole number from 1 to ${CHAT_LIMITS.maxRetentionDays}.`,
      );
    }
    return { kind: 'threadCreationDate', deleteThreadAfterDays: days };
  }

  function send(reply: FastifyReply, status: number, body?: unknown): FastifyReply {
    if (body === undefined) return reply.code(status).send();
    return reply.code(status).type('application/json').send(body);
  }

  // ---- threads ------------------------------------------------------------------------------------------------

  app.post('/chat/threads', routeOptions, async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.thread.create');
    const body = bodyObject(request.body);
    const topic = requiredString(body, 'topic', CHAT_LIMITS.maxTopicChars, { nonEmpty: true });
    const now = clock();
    const creator = me(token);
    const resource = token.resource.toLowerCase();
    const parsed =
      body.participants === undefined || body.participants === null
        ? { valid: [], invalid: [] }
        : parseParticipants(body.participants, api, resource, now);
    const metadata = api.threadMetadata
      ? optionalMetadata(body, 'metadata', CHAT_LIMITS.maxThreadMetadataBytes)
      : undefined;
    const retentionPolicy = api.threadMetadata ? parseRetention(body.retentionPolicy) : undefined;
    const requestIdHeader = request.headers['repeatability-request-id'];
    if (
      requestIdHeader !== undefined &&
      (typeof requestIdHeader !== 'string' || !REPEATABILITY_ID.test(requestIdHeader))
    ) {
      throw invalid('repeatability-request-id', "'repeatability-request-id' must be 1 to 128 visible characters.");
    }
    const participants = parsed.valid.some((p) => p.rawId === creator)
      ? parsed.valid
      : [{ rawId: creator, shareHistoryTime: 0 }, ...parsed.valid];
    const thread = {
      id: `19:${randomBytes(16).toString('hex')}@thread.v2`,
      resourceId: resource,
      topic,
      createdBy: creator,
      createdOn: now,
      metadata: (metadata ?? {}) as Record<string, string>,
      ...(retentionPolicy === undefined ? {} : { retentionPolicy }),
    };
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([api.version, topic, participants, metadata ?? null, retentionPolicy ?? null]))
      .digest('base64url');
    const result = await store.createThread({
      thread,
      participants,
      systemMessages: [
        { type: 'participantAdded', participants, initiatorRawId: creator },
        { type: 'topicUpdated', topic, initiatorRawId: creator },
      ],
      repeatability: requestIdHeader === undefined ? undefined : { requestId: requestIdHeader, fingerprint },
    });
    if (!result.created && !result.sameRequest) throw new ChatError('ERR_CHAT_REPEATABILITY_CONFLICT');
    if (result.created) {
      ctx.metrics?.threadCreated();
      publish({
        type: 'chatThreadCreated',
        threadId: thread.id,
        recipients: participants.map((p) => p.rawId),
        occurredOn: new Date(now).toISOString(),
        createdBy: participantOf(creator),
        topic,
        participants: participants.map((p) => participantOf(p.rawId, p.displayName)),
        ...(metadata === undefined ? {} : { metadata: metadata as Record<string, string> }),
      });
    }
    const answer: Record<string, unknown> = { chatThread: threadProperties(result.thread, api) };
    if (parsed.invalid.length > 0) answer.invalidParticipants = parsed.invalid;
    return send(reply, 201, answer);
  });

  app.get('/chat/threads', async (request, reply) => {
    apiOf(request);
    const token = await caller(request, 'chat.thread.list');
    const query = request.query as Query;
    const limit = pageSize(query);
    const startTime = startTimeOf(query);
    let after: { lastMessageReceivedOn: number; id: string } | undefined;
    if (query.continuationToken !== undefined) after = decodeThreadCursor(query.continuationToken);
    const rows = await store.listThreads(me(token), { startTime, limit: limit + 1, after });
    const page = rows.slice(0, limit);
    const answer: Record<string, unknown> = { value: page.map((t) => threadItem(t)) };
    const last = page.at(-1);
    if (rows.length > limit && last !== undefined) {
      answer.nextLink = pageLink(request, {
        continuationToken: encodeThreadCursor(last),
        startTime: typeof query.startTime === 'string' ? query.startTime : undefined,
        maxPageSize: limit,
      });
    }
    return send(reply, 200, answer);
  });

  app.get('/chat/threads/:threadId', async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.thread.get');
    const a = await access(threadIdOf(request), token);
    return send(reply, 200, threadProperties(a.thread, api));
  });

  app.patch('/chat/threads/:threadId', routeOptions, async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.thread.update');
    const body = bodyObject(request.body);
    const topic =
      body.topic === undefined || body.topic === null
        ? undefined
        : requiredString(body, 'topic', CHAT_LIMITS.maxTopicChars, { nonEmpty: true });
    const metadata = api.threadMetadata
      ? optionalMetadata(body, 'metadata', CHAT_LIMITS.maxThreadMetadataBytes, true)
      : undefined;
    const retentionPolicy = api.threadMetadata ? parseRetention(body.retentionPolicy) : undefined;
    const a = await access(threadIdOf(request), token);
    if (metadata !== undefined) {
      const merged: Record<string, string> = { ...a.thread.metadata };
      for (const [k, v] of Object.entries(metadata)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const bytes = Object.entries(merged).reduce((n, [k, v]) => n + utf8Length(k) + utf8Length(v), 0);
      if (bytes > CHAT_LIMITS.maxThreadMetadataBytes) {
        throw invalid('metadata', `'metadata' is larger than ${CHAT_LIMITS.maxThreadMetadataBytes} bytes.`);
      }
    }
    const now = clock();
    const caller_ = me(token);
    const updated = await store.updateThread(
      a.thread.id,
      { topic, metadata, retentionPolicy },
      topic === undefined ? undefined : { type: 'topicUpdated', topic, initiatorRawId: caller_ },
      now,
    );
    if (updated === undefined) throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    publish({
      type: 'chatThreadPropertiesUpdated',
      threadId: a.thread.id,
      recipients: await recipients(a.thread.id),
      occurredOn: new Date(now).toISOString(),
      updatedBy: participantOf(caller_),
      topic: updated.topic,
      ...(api.threadMetadata ? { metadata: updated.metadata } : {}),
    });
    return send(reply, 204);
  });

  app.delete('/chat/threads/:threadId', async (request, reply) => {
    apiOf(request);
    const token = await caller(request, 'chat.thread.delete');
    const a = await access(threadIdOf(request), token);
    const before = await recipients(a.thread.id);
    const now = clock();
    await store.deleteThread(a.thread.id, now);
    publish({
      type: 'chatThreadDeleted',
      threadId: a.thread.id,
      recipients: before,
      occurredOn: new Date(now).toISOString(),
      deletedBy: participantOf(me(token)),
    });
    return send(reply, 204);
  });

  // ---- participants -------------------------------------------------------------------------------------------

  app.get('/chat/threads/:threadId/participants', async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.participant.list');
    const query = request.query as Query;
    const limit = pageSize(query);
    const skip = queryInt(query.skip, 'skip', 0, 1_000_000_000) ?? 0;
    const a = await access(threadIdOf(request), token);
    const rows = await store.listParticipants(a.thread.id, skip, limit + 1);
    const answer: Record<string, unknown> = { value: rows.slice(0, limit).map((p) => participantModel(p, api)) };
    if (rows.length > limit) answer.nextLink = pageLink(request, { skip: skip + limit, maxPageSize: limit });
    return send(reply, 200, answer);
  });

  app.post('/chat/threads/:threadId/participants/::add', routeOptions, async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.participant.add');
    const body = bodyObject(request.body);
    if (body.participants === undefined || body.participants === null) {
      throw invalid('participants', "'participants' is required.");
    }
    const now = clock();
    const parsed = parseParticipants(body.participants, api, token.resource.toLowerCase(), now);
    const a = await access(threadIdOf(request), token);
    if (parsed.valid.length > 0) {
      const initiator = me(token);
      await store.addParticipants(
        a.thread.id,
        parsed.valid,
        { type: 'participantAdded', participants: parsed.valid, initiatorRawId: initiator },
        now,
      );
      publish({
        type: 'participantsAdded',
        threadId: a.thread.id,
        recipients: await recipients(a.thread.id),
        occurredOn: new Date(now).toISOString(),
        addedBy: participantOf(initiator),
        participantsAdded: parsed.valid.map((p) => ({
          rawId: p.rawId,
          ...(p.displayName === undefined ? {} : { displayName: p.displayName }),
          shareHistoryTime: new Date(p.shareHistoryTime).toISOString(),
        })),
      });
    }
    return send(reply, 201, parsed.invalid.length > 0 ? { invalidParticipants: parsed.invalid } : {});
  });

  app.post('/chat/threads/:threadId/participants/::remove', routeOptions, async (request, reply) => {
    apiOf(request);
    const token = await caller(request, 'chat.participant.remove');
    const rawId = communicationUserRawId(bodyObject(request.body), 'communicationIdentifier');
    const a = await access(threadIdOf(request), token);
    const before = await recipients(a.thread.id);
    const removed = await store.getParticipant(a.thread.id, rawId);
    if (removed === undefined) throw new ChatError('ERR_CHAT_PARTICIPANT_NOT_FOUND', { target: rawId });
    const now = clock();
    const initiator = me(token);
    const done = await store.removeParticipant(
      a.thread.id,
      rawId,
      { type: 'participantRemoved', participants: [removed], initiatorRawId: initiator },
      now,
    );
    if (!done) throw new ChatError('ERR_CHAT_PARTICIPANT_NOT_FOUND', { target: rawId });
    publish({
      type: 'participantsRemoved',
      threadId: a.thread.id,
      recipients: before,
      occurredOn: new Date(now).toISOString(),
      removedBy: participantOf(initiator),
      participantsRemoved: [participantOf(removed.rawId, removed.displayName)],
    });
    return send(reply, 204);
  });

  // ---- messages -----------------------------------------------------------------------------------------------

  app.post('/chat/threads/:threadId/messages', routeOptions, async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.message.create');
    const body = bodyObject(request.body);
    const content = requiredString(body, 'content', Number.MAX_SAFE_INTEGER);
    if (utf8Length(content) > CHAT_LIMITS.maxMessageBytes) {
      throw new ChatError('ERR_CHAT_MESSAGE_TOO_LARGE', { target: 'content' });
    }
    const senderDisplayName = optionalString(body, 'senderDisplayName', CHAT_LIMITS.maxDisplayNameChars);
    const type = body.type === undefined || body.type === null ? 'text' : body.type;
    if (type !== 'text' && type !== 'html') throw invalid('type', "'type' must be 'text' or 'html'.");
    const metadata = api.messageMetadata
      ? optionalMetadata(body, 'metadata', CHAT_LIMITS.maxMessageMetadataBytes)
      : undefined;
    const threadId = threadIdOf(request);
    if (!THREAD_ID.test(threadId)) throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    const now = clock();
    const draft = {
      type,
      senderRawId: me(token),
      content,
      ...(senderDisplayName === undefined ? {} : { senderDisplayName }),
      ...(metadata === undefined ? {} : { metadata: metadata as Record<string, string> }),
    } satisfies ChatMessageDraft;
    // The participant check, the append and the recipients in one store call (as access() would answer: 403).
    const sent = await store.sendMessage({ threadId, resourceId: token.resource.toLowerCase(), draft, now });
    if (sent === undefined) throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    ctx.metrics?.messageSent();
    publish({
      type: 'chatMessageReceived',
      threadId,
      recipients: sent.recipients,
      occurredOn: new Date(now).toISOString(),
      message: eventMessage(sent.message),
    });
    return send(reply, 201, { id: sent.message.id });
  });

  app.get('/chat/threads/:threadId/messages', async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.message.get');
    const query = request.query as Query;
    const limit = pageSize(query);
    const startTime = startTimeOf(query);
    const beforeId = query.continuationToken;
    if (beforeId !== undefined && (typeof beforeId !== 'string' || !MESSAGE_ID.test(beforeId))) {
      throw invalid('continuationToken', "'continuationToken' is not one this service issued.");
    }
    const a = await access(threadIdOf(request), token);
    const rows = await store.listMessages(a.thread.id, {
      notBefore: Math.max(a.me.shareHistoryTime, startTime ?? 0),
      limit: limit + 1,
      beforeId,
    });
    const page = rows.slice(0, limit);
    const answer: Record<string, unknown> = { value: page.map((m) => messageModel(m, api)) };
    const last = page.at(-1);
    if (rows.length > limit && last !== undefined) {
      answer.nextLink = pageLink(request, {
        continuationToken: last.id,
        startTime: typeof query.startTime === 'string' ? query.startTime : undefined,
        maxPageSize: limit,
      });
    }
    return send(reply, 200, answer);
  });

  app.get('/chat/threads/:threadId/messages/:messageId', async (request, reply) => {
    const api = apiOf(request);
    const token = await caller(request, 'chat.message.get');
    const a = await access(threadIdOf(request), token);
    const message = await visibleMessage(a, paramOf(request, 'messageId'));
    return send(reply, 200, messageModel(message, api));
  });

  app.patch('/chat/threads/:threadId/messages/:messageId', routeOptions, async (request, reply) => {
    const api = apiOf(request);
    const verified = await caller(request, 'chat.message.updateOwn');
    const body = bodyObject(request.body);
    const content =
      body.content === undefined || body.content === null
        ? undefined
        : requiredString(body, 'content', Number.MAX_SAFE_INTEGER);
    if (content !== undefined && utf8Length(content) > CHAT_LIMITS.maxMessageBytes) {
      throw new ChatError('ERR_CHAT_MESSAGE_TOO_LARGE', { target: 'content' });
    }
    const metadata = api.messageMetadata
      ? optionalMetadata(body, 'metadata', CHAT_LIMITS.maxMessageMetadataBytes, true)
      : undefined;
    const a = await access(threadIdOf(request), verified);
    const message = await visibleMessage(a, paramOf(request, 'messageId'));
    ownMessage(verified, message, 'chat.message.updateOwn');
    if (message.deletedOn !== undefined) throw new ChatError('ERR_CHAT_MESSAGE_NOT_FOUND', { target: 'chatMessageId' });
    const now = clock();
    const updated = await store.updateMessage(a.thread.id, message.id, { content, metadata }, now);
    if (updated === undefined) throw new ChatError('ERR_CHAT_MESSAGE_NOT_FOUND', { target: 'chatMessageId' });
    publish({
      type: 'chatMessageEdited',
      threadId: a.thread.id,
      recipients: await recipients(a.thread.id),
      occurredOn: new Date(now).toISOString(),
      message: eventMessage(updated),
      editedOn: new Date(updated.editedOn ?? now).toISOString(),
    });
    return send(reply, 204);
  });

  app.delete('/chat/threads/:threadId/messages/:messageId', async (request, reply) => {
    apiOf(request);
    const verified = await caller(request, 'chat.message.deleteOwn');
    const a = await access(threadIdOf(request), verified);
    const message = await visibleMessage(a, paramOf(request, 'messageId'));
    ownMessage(verified, message, 'chat.message.deleteOwn');
    if (message.deletedOn !== undefined) return send(reply, 204);
    const now = clock();
    const deleted = await store.deleteMessage(a.thread.id, message.id, now);
    if (deleted !== undefined && message.senderRawId !== undefined) {
      publish({
        type: 'chatMessageDeleted',
        threadId: a.thread.id,
        recipients: await recipients(a.thread.id),
        occurredOn: new Date(now).toISOString(),
        messageId: deleted.id,
        version: deleted.version,
        sender: participantOf(message.senderRawId, message.senderDisplayName),
        deletedOn: new Date(deleted.deletedOn ?? now).toISOString(),
      });
    }
    return send(reply, 204);
  });

  /** The own-message rule: system messages belong to nobody; another user's message answers 403 naming the capability. */
  function ownMessage(token: VerifiedToken, message: ChatMessageRecord, capability: Capability): void {
    if (message.senderRawId === undefined) throw new ChatError('ERR_CHAT_NOT_SENDER');
    authorizeOrThrow(token, capability, { messageSenderId: message.senderRawId });
  }

  // ---- read receipts and typing -------------------------------------------------------------------------------

  app.get('/chat/threads/:threadId/readReceipts', async (request, reply) => {
    apiOf(request);
    const token = await caller(request, 'chat.readReceipt.get');
    const query = request.query as Query;
    const limit = pageSize(query);
    const skip = queryInt(query.skip, 'skip', 0, 1_000_000_000) ?? 0;
    const a = await access(threadIdOf(request), token);
    const rows = await store.listReadReceipts(a.thread.id, skip, limit + 1);
    const answer: Record<string, unknown> = { value: rows.slice(0, limit).map((r) => readReceiptModel(r)) };
    if (rows.length > limit) answer.nextLink = pageLink(request, { skip: skip + limit, maxPageSize: limit });
    return send(reply, 200, answer);
  });

  app.post('/chat/threads/:threadId/readReceipts', routeOptions, async (request, reply) => {
    apiOf(request);
    const token = await caller(request, 'chat.readReceipt.create');
    const body = bodyObject(request.body);
    const chatMessageId = requiredString(body, 'chatMessageId', 32);
    const a = await access(threadIdOf(request), token);
    const message = await visibleMessage(a, chatMessageId);
    const now = clock();
    const sender = me(token);
    await store.putReadReceipt(a.thread.id, { senderRawId: sender, chatMessageId: message.id, readOn: now });
    publish({
      type: 'readReceiptReceived',
      threadId: a.thread.id,
      recipients: await recipients(a.thread.id),
      occurredOn: new Date(now).toISOString(),
      sender: participantOf(sender),
      chatMessageId: message.id,
      readOn: new Date(now).toISOString(),
    });
    return send(reply, 200);
  });

  app.post('/chat/threads/:threadId/typing', routeOptions, async (request, reply) => {
    apiOf(request);
    const token = await caller(request, 'chat.typing.send');
    const body = bodyObject(request.body, false);
    const senderDisplayName = optionalString(body, 'senderDisplayName', CHAT_LIMITS.maxDisplayNameChars);
    const a = await access(threadIdOf(request), token);
    const now = clock();
    const sender = me(token);
    publish({
      type: 'typingIndicatorReceived',
      threadId: a.thread.id,
      recipients: (await recipients(a.thread.id)).filter((id) => id !== sender),
      occurredOn: new Date(now).toISOString(),
      sender: participantOf(sender, senderDisplayName),
    });
    return send(reply, 200);
  });
}

function bodyObjectAt(value: unknown, target: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(target, `'${target}' must be an object.`);
  }
  return value as Record<string, unknown>;
}

function paramOf(request: FastifyRequest, name: string): string {
  const value = (request.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

function threadIdOf(request: FastifyRequest): string {
  return paramOf(request, 'threadId');
}

function eventMessage(m: ChatMessageRecord) {
  return {
    id: m.id,
    type: m.type === 'html' ? ('html' as const) : ('text' as const),
    version: m.version,
    content: m.content ?? '',
    sender: {
      rawId: m.senderRawId ?? '',
      ...(m.senderDisplayName === undefined ? {} : { displayName: m.senderDisplayName }),
    },
    createdOn: new Date(m.createdOn).toISOString(),
    ...(m.metadata === undefined ? {} : { metadata: m.metadata }),
  };
}

function encodeThreadCursor(t: ChatThreadRecord): string {
  return Buffer.from(`${t.lastMessageReceivedOn}|${t.id}`).toString('base64url');
}

function decodeThreadCursor(value: unknown): { lastMessageReceivedOn: number; id: string } {
  const fail = () => invalid('continuationToken', "'continuationToken' is not one this service issued.");
  if (typeof value !== 'string' || value.length > 400 || !/^[A-Za-z0-9_-]+$/.test(value)) throw fail();
  const text = Buffer.from(value, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  const ms = Number(text.slice(0, bar));
  const id = text.slice(bar + 1);
  if (bar < 1 || !Number.isSafeInteger(ms) || !THREAD_ID.test(id)) throw fail();
  return { lastMessageReceivedOn: ms, id };
}
