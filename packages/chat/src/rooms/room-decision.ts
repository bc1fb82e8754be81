import {
  authorize,
  type Capability,
  type DenialReason,
  ROOM_OPERATIONS,
  type RoomOperation,
  type RoomRole,
  type TokenScope,
} from '@tessera/core';
import type { RoomParticipantRecord, RoomRecord } from './rooms-store.js';

/** What a media server asks about a call in a room: start it, join it, or one in-call operation. */
export const ROOM_CALL_ACTIONS = ['start', 'join', ...ROOM_OPERATIONS] as const;

/** One of {@link ROOM_CALL_ACTIONS}. */
export type RoomCallAction = (typeof ROOM_CALL_ACTIONS)[number];

/** What it asks about a call outside any room. */
export const CALL_ACTIONS = ['start', 'join', 'inCall'] as const;

/** One of {@link CALL_ACTIONS}. */
export type CallAction = (typeof CALL_ACTIONS)[number];

/**
 * Why a call decision said no: a {@link DenialReason} of core's `authorize`, the user token itself (`token`), the
 * room's validity window (`room-not-open`, `room-closed`), or PSTN dial-out the room does not allow.
 */
export type CallDenialReason = DenialReason | 'token' | 'room-not-open' | 'room-closed' | 'pstn-dial-out-disabled';

/** The stable codes of a refusal (the decision body's `code`). */
export type CallDenialCode =
  | 'ERR_CAPABILITY_DENIED'
  | 'ERR_CAPABILITY_UNKNOWN'
  | 'ERR_ROOM_NOT_OPEN'
  | 'ERR_ROOM_CLOSED'
  | 'ERR_ROOM_PSTN_DIAL_OUT_DISABLED'
  | `ERR_TOKEN_${string}`;

/** The answer of a call decision (the body of `decisions:evaluate`). */
export type CallDecision =
  | {
      readonly allowed: true;
      readonly capability: Capability;
      readonly operation?: RoomOperation | undefined;
      readonly identity: string;
      readonly role?: RoomRole | undefined;
    }
  | {
      readonly allowed: false;
      readonly capability: Capability;
      readonly operation?: RoomOperation | undefined;
      readonly identity?: string | undefined;
      readonly role?: RoomRole | undefined;
      readonly reason: CallDenialReason;
      readonly code: CallDenialCode;
      readonly message: string;
      /** Scopes that grant the capability (scope refusals). */
      readonly allowedBy?: readonly TokenScope[] | undefined;
    };

/** True when `value` is one of {@link ROOM_CALL_ACTIONS}. */
export function isRoomCallAction(value: unknown): value is RoomCallAction {
  return typeof value === 'string' && (ROOM_CALL_ACTIONS as readonly string[]).includes(value);
}

/** True when `value` is one of {@link CALL_ACTIONS}. */
export function isCallAction(value: unknown): value is CallAction {
  return typeof value === 'string' && (CALL_ACTIONS as readonly string[]).includes(value);
}

/** The capability-table row an action in a room stands for, and the in-call operation when it is one. */
export function roomCapabilityOf(action: RoomCallAction): { capability: Capability; operation?: RoomOperation } {
  if (action === 'start') return { capability: 'voip.call.startInRoom' };
  if (action === 'join') return { capability: 'voip.call.joinInRoom' };
  return { capability: 'voip.call.inCallOperationInRoom', operation: action };
}

/** The capability-table row an action outside rooms stands for. */
export function callCapabilityOf(action: CallAction): Capability {
  return action === 'start' ? 'voip.call.start' : action === 'join' ? 'voip.call.join' : 'voip.call.inCallOperation';
}

/** The verified user a decision is about. */
export interface DecisionSubject {
  readonly identity: string;
  readonly scopes: readonly TokenScope[];
}

/** Options of {@link decideRoomCall}. */
export interface DecideRoomCallOptions {
  readonly subject: DecisionSubject;
  readonly action: RoomCallAction;
  readonly room: RoomRecord;
  /** The subject's roster entry; undefined when not invited. */
  readonly participant: RoomParticipantRecord | undefined;
  /** Now, Unix ms. */
  readonly now: number;
}

/**
 * May this user do `action` in a call of this room? Pure. Core's `authorize` with a `RoomContext` decides scope,
 * invitation and role (the seed's VoIP rows); then the room must be open (`validFrom` ≤ now < `validUntil`), and
 * PSTN dial-out needs the room's `pstnDialOutEnabled`. Invitation is judged before the window, so someone not
 * invited learns nothing about the room's schedule.
 */
export function decideRoomCall(options: DecideRoomCallOptions): CallDecision {
  const { capability, operation } = roomCapabilityOf(options.action);
  const { subject, room, participant } = options;
  const role = participant?.role;
  const base = { capability, ...(operation === undefined ? {} : { operation }), identity: subject.identity };
  const withRole = role === undefined ? base : { ...base, role };
  const result = authorize(subject, capability, {
    room: { invited: participant !== undefined, role, operation },
  });
  if (!result.allowed) {
    return {
      ...withRole,
      allowed: false,
      reason: result.reason,
      code: result.code,
      message: result.message,
      allowedBy: result.allowedBy,
    };
  }
  if (options.now < room.validFrom) {
    return {
      ...withRole,
      allowed: false,
      reason: 'room-not-open',
      code: 'ERR_ROOM_NOT_OPEN',
      message: `The room opens at ${new Date(room.validFrom).toISOString()}.`,
    };
  }
  if (options.now >= room.validUntil) {
    return {
      ...withRole,
      allowed: false,
      reason: 'room-closed',
      code: 'ERR_ROOM_CLOSED',
      message: `The room closed at ${new Date(room.validUntil).toISOString()}.`,
    };
  }
  if (operation === 'dialOutPstn' && !room.pstnDialOutEnabled) {
    return {
      ...withRole,
      allowed: false,
      reason: 'pstn-dial-out-disabled',
      code: 'ERR_ROOM_PSTN_DIAL_OUT_DISABLED',
      message: 'PSTN dial-out is not enabled in this room (pstnDialOutEnabled).',
    };
  }
  return { ...withRole, allowed: true };
}

/** May this user do `action` in a call outside any room? Core's `authorize`, pure. */
export function decideCall(subject: DecisionSubject, action: CallAction): CallDecision {
  const capability = callCapabilityOf(action);
  const result = authorize(subject, capability);
  if (result.allowed) return { allowed: true, capability, identity: subject.identity };
  return {
    allowed: false,
    capability,
    identity: subject.identity,
    reason: result.reason,
    code: result.code,
    message: result.message,
    allowedBy: result.allowedBy,
  };
}

/** The refusal for a user token that does not verify (expired, revoked, forged…). */
export function tokenDenial(capability: Capability, code: string, message: string): CallDecision {
  return { allowed: false, capability, reason: 'token', code: code as CallDenialCode, message };
}
