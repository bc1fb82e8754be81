import { createHash, randomInt } from 'node:crypto';
import { isTesseraError } from '@tessera/core';
import type { Verifier } from '@tessera/verifier';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type ChatLogger, silentChatLogger } from '../logger.js';
import type { ChatMetrics } from '../metrics/chat-metrics.js';
import {
  CALL_ACTIONS,
  type CallDecision,
  callCapabilityOf,
  decideCall,
  decideRoomCall,
  isCallAction,
  isRoomCallAction,
  ROOM_CALL_ACTIONS,
  roomCapabilityOf,
  tokenDenial,
} from './room-decision.js';
import {
  createRoomsAuthenticator,
  type RoomsAccessKey,
  type RoomsAuthenticator,
  type RoomsBearerAuthenticator,
  type RoomsDataAction,
  requireAction,
} from './rooms-auth.js';
import { badArgument, RoomsError, toRoomsErrorResponse } from './rooms-errors.js';
import {
  checkRoomId,
  checkRoomTimes,
  hasPstnDialOut,
  parseCreateRoom,
  parseJsonObject,
  parseParticipants,
  parseRepeatability,
  parseRoomsApiVersion,
  parseUpdateRoom,
  ROOMS_SUPPORTED_VERSIONS_HEADER,
  type RoomsApiVersion,
} from './rooms-request.js';
import { type RoomRecord, RoomIdTakenError, type RoomsStore } from './rooms-store.js';

/** What the Rooms API needs besides the chat plugin's verifier, clock and logger. */
export interface RoomsOptions {
  /** Where rooms and rosters live (migrated by the caller; never closed by the plugin). */
  readonly store: RoomsStore;
  /**
   * The access keys HMAC requests may be signed with, read on every request (mounted in `tessera serve`: the
   * server's primary and secondary keys; standalone: the key of the service's connection string).
   */
  readonly accessKeys: () => readonly RoomsAccessKey[];
  /** Bearer (OIDC) authentication with data actions; absent: HMAC only. */
  readonly bearer?: RoomsBearerAuthenticator | undefined;
  /** Largest accepted `x-ms-date` skew, ms. Default 15 minutes. */
  readonly maxClockSkewMs?: number | undefined;
  /** Host (with port) of the public endpoint, accepted as the signed host behind a proxy. */
  readonly publicHost?: string | undefined;
  /** When set, participants must be users of this Communication Services resource. */
  readonly resourceId?: string | undefined;
  /** Rooms or participants per page of a list. Default 100. */
  readonly pageSize?: number | undefined;
  /** Most participants a room may have. Default 250. */
  readonly maxParticipants?: number | undefined;
}

/** Options of {@link roomsPlugin}: {@link RoomsOptions} and the user-token verifier for call decisions. */
export interface RoomsPluginOptions extends RoomsOptions {
  /** Verifies the user access tokens call decisions are asked about. */
  readonly verifier: Verifier;
  /** Now, Unix ms. Default `Date.now`. */
  readonly clock?: (() => number) | undefined;
  readonly logger?: ChatLogger | undefined;
  /** Counts rooms created and call decisions (createChatMetrics). Default: none. */
  readonly metrics?: ChatMetrics | undefined;
}

/** Largest request body the Rooms routes read (a full roster of long raw ids fits many times over). */
const BODY_LIMIT = 256 * 1024;

const JSON_TYPES = ['application/json', 'application/merge-patch+json'];

/** A new room id: 17 digits starting with 99, as the ids ACS hands out look. */
export function newRoomId(): string {
  let digits = '99';
  while (digits.length < 17) digits += String(randomInt(0, 10));
  return digits;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A room as the wire has it at `version`. */
function roomModel(room: RoomRecord, version: RoomsApiVersion): Record<string, unknown> {
  return {
    id: room.id,
    createdAt: iso(room.createdAt),
    validFrom: iso(room.validFrom),
    validUntil: iso(room.validUntil),
    ...(hasPstnDialOut(version) ? { pstnDialOutEnabled: room.pstnDialOutEnabled } : {}),
  };
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function badCursor() {
  return badArgument('continuationToken', 'The continuation token is not one this service issued.');
}

/** A continuation token back to its object; 400 for anything this service did not issue. */
function decodeCursor(text: unknown): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  if (typeof text !== 'string' || text.length > 256) throw badCursor();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badCursor();
  return value as Record<string, unknown>;
}

/** The absolute link to the next page, on the host the client called (the one it signs). */
function nextLink(request: FastifyRequest, path: string, version: string, cursor: string): string {
  const host = request.headers.host ?? 'localhost';
  return `${request.protocol}://${host}${path}?api-version=${version}&continuationToken=${cursor}`;
}

function fingerprint(body: Buffer | undefined): string {
  return createHash('sha256')
    .update(body ?? Buffer.alloc(0))
    .digest('base64url');
}

/**
 * The ACS Rooms API (api-version 2023-06-14, 2024-04-15, 2025-03-13; `@azure/communication-rooms` 1.2.0 works
 * unchanged) and Tessera's call decisions, as an encapsulated Fastify plugin: its own body parser (raw bytes, for
 * HMAC), error handler and authentication (HMAC access keys, or OIDC bearer with data actions).
 */
export const roomsPlugin: FastifyPluginAsync<RoomsPluginOptions> = async (app, options) => {
  if (options.store === undefined || typeof options.store.getRoom !== 'function') {
    throw new TypeError('roomsPlugin: options.store is required (a RoomsStore).');
  }
  if (typeof options.accessKeys !== 'function') {
    throw new TypeError('roomsPlugin: options.accessKeys is required (a function returning the accepted keys).');
  }
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silentChatLogger;
  const store = options.store;
  const pageSize = options.pageSize ?? 100;
  const maxParticipants = options.maxParticipants ?? 250;
  const metrics = options.metrics;
  const counted = (decision: CallDecision): CallDecision => {
    metrics?.callDecision(decision.allowed);
    return decision;
  };
  const authenticate: RoomsAuthenticator = createRoomsAuthenticator({
    accessKeys: options.accessKeys,
    bearer: options.bearer,
    maxClockSkewMs: options.maxClockSkewMs,
    publicHost: options.publicHost,
    clock,
  });

  // Raw bytes: HMAC covers them exactly, and JSON is parsed by the route so its errors are ACS-shaped.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    done(null, body);
  });
  app.setErrorHandler(async (error, _request, reply) => {
    const code = (error as { code?: unknown }).code;
    const mapped =
      code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? new RoomsError('ERR_ROOMS_BODY_TOO_LARGE')
        : code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'
          ? new RoomsError('ERR_ROOMS_BODY_MALFORMED')
          : error;
    const r = toRoomsErrorResponse(mapped);
    if (r.status >= 500 && !isTesseraError(mapped)) {
      logger.error('rooms: request failed', {
        status: r.status,
        name: error instanceof Error ? error.name : 'unknown',
      });
    }
    return reply
      .code(r.status)
      .headers({ ...r.headers, 'api-supported-versions': ROOMS_SUPPORTED_VERSIONS_HEADER })
      .type('application/json')
      .send(r.body);
  });

  type Handler = (request: FastifyRequest, reply: FastifyReply, body: Buffer) => Promise<unknown>;

  /** Authenticates, checks the data action and the body's media type, then runs the handler. */
  const guarded =
    (action: RoomsDataAction, handler: Handler) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const principal = await authenticate({
        method: request.method,
        rawUrl: request.raw.url ?? request.url,
        headers: request.headers,
        body,
        localPort: request.socket.localPort,
      });
      requireAction(principal, action);
      if (body.length > 0) {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!JSON_TYPES.includes(type)) throw new RoomsError('ERR_ROOMS_UNSUPPORTED_MEDIA_TYPE');
      }
      reply.header('api-supported-versions', ROOMS_SUPPORTED_VERSIONS_HEADER);
      return handler(request, reply, body);
    };

  const versionOf = (request: FastifyRequest): RoomsApiVersion =>
    parseRoomsApiVersion((request.query as Record<string, unknown>)['api-version']);
  const roomIdOf = (request: FastifyRequest): string => checkRoomId((request.params as { roomId: string }).roomId);

  /** The room, or 404 when unknown or deleted. */
  async function liveRoom(roomId: string): Promise<RoomRecord> {
    const room = await store.getRoom(roomId);
    if (room === undefined || room.deletedAt !== undefined) throw new RoomsError('ERR_ROOMS_NOT_FOUND');
    return room;
  }

  app.post(
    '/rooms',
    guarded('rooms/write', async (request, reply, raw) => {
      const version = versionOf(request);
      const now = clock();
      const requestId = parseRepeatability(
        request.headers['repeatability-request-id'],
        request.headers['repeatability-first-sent'],
      );
      const parsed = parseCreateRoom(parseJsonObject(raw), now, version, {
        resourceId: options.resourceId,
        maxParticipants,
      });
      const repeatability = requestId === undefined ? undefined : { requestId, fingerprint: fingerprint(raw) };
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await store.createRoom({
            room: {
              id: newRoomId(),
              createdAt: now,
              validFrom: parsed.validFrom,
              validUntil: parsed.validUntil,
              pstnDialOutEnabled: parsed.pstnDialOutEnabled,
            },
            participants: parsed.participants,
            repeatability,
          });
          if (!result.sameRequest) {
            throw new RoomsError('ERR_ROOMS_REPEATABILITY_CONFLICT', {
              target: 'Repeatability-Request-ID',
              headers: { 'repeatability-result': 'rejected' },
            });
          }
          if (requestId !== undefined) reply.header('repeatability-result', 'accepted');
          if (result.created) metrics?.roomCreated();
          return reply.code(201).header('location', result.room.id).send(roomModel(result.room, version));
        } catch (error) {
          // 17 random digits rarely collide; when they do, draw again (a few times at most).
          if (!(error instanceof RoomIdTakenError) || attempt >= 4) throw error;
        }
      }
    }),
  );

  app.get(
    '/rooms',
    guarded('rooms/read', async (request) => {
      const version = versionOf(request);
      const cursor = decodeCursor((request.query as Record<string, unknown>).continuationToken);
      if (cursor !== undefined && (typeof cursor.c !== 'number' || typeof cursor.i !== 'string')) throw badCursor();
      const after = cursor === undefined ? undefined : { createdAt: cursor.c as number, id: cursor.i as string };
      const rooms = await store.listRooms(pageSize + 1, after);
      const page = rooms.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        value: page.map((room) => roomModel(room, version)),
        ...(rooms.length > pageSize && last !== undefined
          ? { nextLink: nextLink(request, '/rooms', version, encodeCursor({ c: last.createdAt, i: last.id })) }
          : {}),
      };
    }),
  );

  app.get(
    '/rooms/:roomId',
    guarded('rooms/read', async (request) => {
      const version = versionOf(request);
      return roomModel(await liveRoom(roomIdOf(request)), version);
    }),
  );

  app.patch(
    '/rooms/:roomId',
    guarded('rooms/write', async (request, _reply, raw) => {
      const version = versionOf(request);
      const roomId = roomIdOf(request);
      const patch = parseUpdateRoom(parseJsonObject(raw), version);
      const room = await liveRoom(roomId);
      checkRoomTimes(
        { validFrom: patch.validFrom ?? room.validFrom, validUntil: patch.validUntil ?? room.validUntil },
        clock(),
      );
      const updated = await store.updateRoom(roomId, patch);
      if (updated === undefined) throw new RoomsError('ERR_ROOMS_NOT_FOUND');
      return roomModel(updated, version);
    }),
  );

  app.delete(
    '/rooms/:roomId',
    guarded('rooms/write', async (request, reply) => {
      versionOf(request);
      // Idempotent, as the service: deleting a deleted (or unknown) room answers 204 too.
      await store.deleteRoom(roomIdOf(request), clock());
      return reply.code(204).send();
    }),
  );

  app.get(
    '/rooms/:roomId/participants',
    guarded('rooms/read', async (request) => {
      const version = versionOf(request);
      const roomId = roomIdOf(request);
      await liveRoom(roomId);
      const cursor = decodeCursor((request.query as Record<string, unknown>).continuationToken);
      const afterPosition = cursor === undefined ? undefined : cursor.p;
      if (afterPosition !== undefined && (typeof afterPosition !== 'number' || !Number.isSafeInteger(afterPosition))) {
        throw badCursor();
      }
      const rows = await store.listParticipants(roomId, pageSize + 1, afterPosition);
      const page = rows.slice(0, pageSize);
      const last = page[page.length - 1];
      return {
        value: page.map((p) => ({ rawId: p.rawId, role: p.role })),
        ...(rows.length > pageSize && last !== undefined
          ? {
              nextLink: nextLink(request, `/rooms/${roomId}/participants`, version, encodeCursor({ p: last.position })),
            }
          : {}),
      };
    }),
  );

  app.patch(
    '/rooms/:roomId/participants',
    guarded('rooms/write', async (request, _reply, raw) => {
      versionOf(request);
      const roomId = roomIdOf(request);
      const body = parseJsonObject(raw);
      const changes = parseParticipants(body.participants, {
        resourceId: options.resourceId,
        maxParticipants,
        invalidIdentifier: 'ERR_ROOMS_PARTICIPANTS_INVALID',
      });
      const outcome = await store.updateParticipants(roomId, changes.upserts, changes.removals, maxParticipants);
      if (outcome === 'not-found') throw new RoomsError('ERR_ROOMS_NOT_FOUND');
      if (outcome === 'too-many') {
        throw new RoomsError('ERR_ROOMS_TOO_MANY_PARTICIPANTS', {
          message: `A room may have at most ${maxParticipants} participants.`,
          target: 'participants',
        });
      }
      return {};
    }),
  );

  /** The user token and action of a decision request. */
  function decisionInput(raw: Buffer, actions: readonly string[]): { token: string; action: string } {
    const body = parseJsonObject(raw);
    const { token, action } = body;
    if (typeof token !== 'string' || token === '' || token.length > 16_384) {
      throw badArgument('token', 'The user access token to judge is required (a string).');
    }
    if (typeof action !== 'string' || !actions.includes(action)) {
      throw badArgument('action', `The action must be one of: ${actions.join(', ')}.`);
    }
    return { token, action };
  }

  /** Verifies the user token; a token that does not verify is a refusal, not an error of the request. */
  async function subjectOf(token: string) {
    try {
      const verified = await options.verifier.verify(token);
      return { identity: verified.identity, scopes: verified.scopes };
    } catch (error) {
      if (isTesseraError(error) && error.code.startsWith('ERR_TOKEN_')) return error;
      throw error;
    }
  }

  app.post(
    '/rooms/:roomId/decisions::evaluate',
    guarded('rooms/decide', async (request, _reply, raw): Promise<CallDecision> => {
      const roomId = roomIdOf(request);
      const { token, action } = decisionInput(raw, ROOM_CALL_ACTIONS);
      if (!isRoomCallAction(action)) throw badArgument('action', 'Unknown action.');
      const room = await liveRoom(roomId);
      const subject = await subjectOf(token);
      if (subject instanceof Error) {
        return counted(tokenDenial(roomCapabilityOf(action).capability, subject.code, subject.message));
      }
      const participant = await store.getParticipant(roomId, subject.identity.toLowerCase());
      return counted(decideRoomCall({ subject, action, room, participant, now: clock() }));
    }),
  );

  app.post(
    '/calls/decisions::evaluate',
    guarded('rooms/decide', async (_request, _reply, raw): Promise<CallDecision> => {
      const { token, action } = decisionInput(raw, CALL_ACTIONS);
      if (!isCallAction(action)) throw badArgument('action', 'Unknown action.');
      const subject = await subjectOf(token);
      if (subject instanceof Error) {
        return counted(tokenDenial(callCapabilityOf(action), subject.code, subject.message));
      }
      return counted(decideCall(subject, action));
    }),
  );
};

/** Registers the Rooms API on a Fastify instance (encapsulated): what `chatPlugin` calls when given `rooms`. */
export async function registerRoomsRoutes(
  app: FastifyInstance,
  context: {
    readonly verifier: Verifier;
    readonly clock: () => number;
    readonly logger: ChatLogger;
    readonly metrics?: ChatMetrics | undefined;
  },
  options: RoomsOptions,
): Promise<void> {
  await app.register(roomsPlugin, {
    ...options,
    verifier: context.verifier,
    clock: context.clock,
    logger: context.logger,
    metrics: context.metrics,
  });
}
