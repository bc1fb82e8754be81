import { type Capability, isRawId } from '@tessera/core';
import { type VerifiedToken, capabilityError, extractBearerToken } from '@tessera/verifier';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatContext } from '../chat-plugin.js';
import { ChatError } from '../errors.js';
import type { PresenceChangedEvent } from '../events/event-bus.js';
import { bodyObject, invalid, optionalString, parseDateTime } from '../wire/validate.js';
import type { RoomsStore } from '../rooms/rooms-store.js';
import { presenceContacts } from './presence-contacts.js';
import { PRESENCE_STATES, type PresenceRecord, type PresenceState, type PresenceStore } from './presence-store.js';

/** Options of the presence routes (`ChatPluginOptions.presence`). */
export interface PresenceOptions {
  /** Where presence lives (migrated by the caller; the plugin never closes it). */
  readonly store: PresenceStore;
  /** How often expired states are looked for and announced, ms. Default 1000. */
  readonly expirySweepMs?: number | undefined;
}

/** Limits of the presence API (docs/presence.md). */
export const PRESENCE_LIMITS = {
  maxNoteChars: 256,
  /** The longest expiry: 7 days. */
  maxExpiryMinutes: 7 * 24 * 60,
  maxBatchIds: 100,
  bodyLimit: 64 * 1024,
} as const;

/** A presence as the routes answer it. */
interface PresenceModel {
  readonly id: string;
  readonly state: PresenceState;
  readonly note?: string;
  readonly expiresOn?: string;
  readonly lastModifiedOn?: string;
}

/** What a user reads as at `now`: unset or expired reads `offline` without a note. */
function presenceModel(rawId: string, record: PresenceRecord | undefined, now: number): PresenceModel {
  if (record === undefined || (record.expiresOn !== undefined && record.expiresOn <= now)) {
    return { id: rawId, state: 'offline' };
  }
  return {
    id: rawId,
    state: record.state,
    ...(record.note === undefined ? {} : { note: record.note }),
    ...(record.expiresOn === undefined ? {} : { expiresOn: new Date(record.expiresOn).toISOString() }),
    lastModifiedOn: new Date(record.updatedOn).toISOString(),
  };
}

/** A raw id from the path or a batch, lower case; `ERR_CHAT_IDENTIFIER_INVALID` naming `target` otherwise. */
function rawIdOf(value: unknown, target: string): string {
  if (typeof value !== 'string' || value.length > 512 || !isRawId(value)) {
    throw new ChatError('ERR_CHAT_IDENTIFIER_INVALID', { target });
  }
  return value.toLowerCase();
}

/** Parses the body of `PUT /presence/me` into a record (every field validated). */
export function parsePresenceBody(body: unknown, rawId: string, now: number): PresenceRecord {
  const source = bodyObject(body);
  const state = source.state;
  if (typeof state !== 'string' || !(PRESENCE_STATES as readonly string[]).includes(state)) {
    throw invalid('state', `'state' must be one of ${PRESENCE_STATES.join(', ')}.`);
  }
  const note = optionalString(source, 'note', PRESENCE_LIMITS.maxNoteChars);
  const hasOn = source.expiresOn !== undefined && source.expiresOn !== null;
  const hasIn = source.expiresInMinutes !== undefined && source.expiresInMinutes !== null;
  if (hasOn && hasIn) throw invalid('expiresOn', "Give 'expiresOn' or 'expiresInMinutes', not both.");
  const latest = now + PRESENCE_LIMITS.maxExpiryMinutes * 60_000;
  let expiresOn: number | undefined;
  if (hasIn) {
    const minutes = source.expiresInMinutes;
    if (
      typeof minutes !== 'number' ||
      !Number.isInteger(minutes) ||
      minutes < 1 ||
      minutes > PRESENCE_LIMITS.maxExpiryMinutes
    ) {
      throw invalid(
        'expiresInMinutes',
        `'expiresInMinutes' must be a whole number from 1 to ${PRESENCE_LIMITS.maxExpiryMinutes}.`,
      );
    }
    expiresOn = now + minutes * 60_000;
  } else if (hasOn) {
    expiresOn = parseDateTime(source.expiresOn, 'expiresOn');
    if (expiresOn <= now || expiresOn > latest) {
      throw invalid('expiresOn', "'expiresOn' must be in the future and at most 7 days ahead.");
    }
  }
  return {
    rawId,
    state: state as PresenceState,
    ...(note === undefined || note === '' ? {} : { note }),
    ...(expiresOn === undefined ? {} : { expiresOn }),
    updatedOn: now,
  };
}

/**
 * Registers Tessera's presence API (`PUT /presence/me`, `GET /presence/{rawId}`, `POST /presence:batchGet`) and
 * the sweeper that announces expired states. A user sees the presence of the users they share a thread with, and
 * of those they share a room with when `rooms` (the Rooms API's store, `chatPlugin` passes it) is given.
 */
export function registerPresenceRoutes(
  app: FastifyInstance,
  ctx: ChatContext,
  options: PresenceOptions,
  rooms?: RoomsStore | undefined,
): void {
  const { verifier, clock, logger } = ctx;
  const presence = options.store;
  const contactsOf = (rawId: string, now: number) => presenceContacts(ctx.store, rawId, { rooms, now });
  const routeOptions = { bodyLimit: PRESENCE_LIMITS.bodyLimit };

  async function caller(request: FastifyRequest, capability: Capability): Promise<VerifiedToken> {
    const token = await verifier.verify(extractBearerToken(request.headers.authorization));
    const result = verifier.authorize(token, capability);
    if (!result.allowed) throw capabilityError(result, capability);
    return token;
  }

  async function announce(record: PresenceRecord, now: number): Promise<void> {
    const model = presenceModel(record.rawId, record, now);
    const event: PresenceChangedEvent = {
      type: 'presenceChanged',
      threadId: '',
      recipients: [...(await contactsOf(record.rawId, now))],
      occurredOn: new Date(now).toISOString(),
      userRawId: record.rawId,
      state: model.state,
      ...(model.note === undefined ? {} : { note: model.note }),
      ...(model.expiresOn === undefined ? {} : { expiresOn: model.expiresOn }),
    };
    await ctx.events.publish(event);
  }

  app.put('/presence/me', routeOptions, async (request, reply) => {
    const token = await caller(request, 'presence.state.set');
    const now = clock();
    const record = parsePresenceBody(request.body, token.identity.toLowerCase(), now);
    await presence.put(record);
    announce(record, now).catch(() => logger.warn('presence: a change could not be published', {}));
    return reply.code(200).send(presenceModel(record.rawId, record, now));
  });

  app.get('/presence/:rawId', async (request, reply) => {
    const token = await caller(request, 'presence.state.read');
    const me = token.identity.toLowerCase();
    const param = (request.params as { rawId?: unknown }).rawId;
    const rawId = param === 'me' ? me : rawIdOf(param, 'rawId');
    if (rawId !== me && !(await contactsOf(me, clock())).has(rawId)) {
      throw new ChatError('ERR_CHAT_NOT_PARTICIPANT');
    }
    const [record] = await presence.getMany([rawId]);
    return reply.code(200).send(presenceModel(rawId, record, clock()));
  });

  app.post('/presence::batchGet', routeOptions, async (request, reply) => {
    const token = await caller(request, 'presence.state.read');
    const ids = bodyObject(request.body).ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > PRESENCE_LIMITS.maxBatchIds) {
      throw invalid('ids', `'ids' must be a list of 1 to ${PRESENCE_LIMITS.maxBatchIds} raw ids.`);
    }
    const wanted = [...new Set(ids.map((id, i) => rawIdOf(id, `ids[${i}]`)))];
    const now = clock();
    const contacts = await contactsOf(token.identity.toLowerCase(), now);
    const visible = wanted.filter((id) => contacts.has(id));
    const records = new Map((await presence.getMany(visible)).map((r) => [r.rawId, r]));
    const refused = wanted.filter((id) => !contacts.has(id));
    return reply.code(200).send({
      value: visible.map((id) => presenceModel(id, records.get(id), now)),
      ...(refused.length === 0
        ? {}
        : { invalid: refused.map((target) => ({ code: '403', message: 'Permissions check failed', target })) }),
    });
  });

  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void (async () => {
      try {
        const now = clock();
        for (const record of await presence.claimExpired(now, 100)) await announce(record, now);
      } catch {
        logger.warn('presence: the expiry sweep failed (it retries)', {});
      } finally {
        sweeping = false;
      }
    })();
  }, options.expirySweepMs ?? 1000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
