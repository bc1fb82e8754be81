import { TOKEN_SCOPES, type TokenScope } from '../scopes/scopes.js';
import { type Capability, type CapabilityRow, capabilityRow } from './capability-table.js';
import {
  DEFAULT_ROOM_OPERATION,
  DEFAULT_ROOM_ROLE,
  isRoomOperation,
  isRoomRole,
  type RoomOperation,
  type RoomRole,
  roomRoleAllows,
} from './room-roles.js';

/** Who asks: the identity (raw id) and scopes of a verified token. */
export interface AuthorizeSubject {
  readonly identity: string;
  readonly scopes: readonly TokenScope[];
}

/** The caller's standing in the room a Rooms capability is about, as the data plane's roster says. */
export interface RoomContext {
  /** Whether the identity is on the room's roster. */
  readonly invited: boolean;
  /** The identity's role in the room; the Rooms default `Attendee` when absent. */
  readonly role?: RoomRole | undefined;
  /** Which in-call operation (only for `voip.call.inCallOperationInRoom`); `microphone` when absent. */
  readonly operation?: RoomOperation | undefined;
}

/** Facts a capability may need besides the token. */
export interface AuthorizeContext {
  /** Required by `voip.call.*InRoom`. */
  readonly room?: RoomContext | undefined;
  /** Required by `chat.message.updateOwn` / `deleteOwn`: the raw id of the message's sender. */
  readonly messageSenderId?: string | undefined;
}

/**
 * Why a capability was refused: no scope grants it, a Rooms capability without an invitation, a role that may not
 * perform the operation, someone else's message, a needed context fact missing, or a name not in the table.
 */
export type DenialReason =
  | 'scope'
  | 'not-invited'
  | 'room-role'
  | 'not-message-sender'
  | 'context-missing'
  | 'unknown-capability';

/** The answer of {@link authorize}. */
export type AuthorizeResult =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly code: 'ERR_CAPABILITY_DENIED' | 'ERR_CAPABILITY_UNKNOWN';
      readonly reason: DenialReason;
      /** The scopes whose cell for this capability is `Y` (or `role`): what would have allowed it. */
      readonly allowedBy: readonly TokenScope[];
      /** A sentence for people; contains no token material. */
      readonly message: string;
    };

const ALLOWED: AuthorizeResult = Object.freeze({ allowed: true });

const GRANTING = new Map<string, readonly TokenScope[]>();

function grantingScopes(row: CapabilityRow): readonly TokenScope[] {
  let scopes = GRANTING.get(row.capability);
  if (scopes === undefined) {
    scopes = Object.freeze(TOKEN_SCOPES.filter((s) => row.cells[s] !== 'N'));
    GRANTING.set(row.capability, scopes);
  }
  return scopes;
}

function deny(
  reason: DenialReason,
  allowedBy: readonly TokenScope[],
  message: string,
  code: 'ERR_CAPABILITY_DENIED' | 'ERR_CAPABILITY_UNKNOWN' = 'ERR_CAPABILITY_DENIED',
): AuthorizeResult {
  return { allowed: false, code, reason, allowedBy, message };
}

function sameIdentity(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/**
 * May the holder of a verified token do `capability`? Pure: the answer depends only on the arguments. Scopes are
 * a union (any granting scope suffices). Rooms capabilities need `context.room` with `invited: true` whatever the
 * scope, and in-call operations in a room follow the Rooms role (see `ROOM_ROLE_TABLE`); the own-message
 * capabilities need `context.messageSenderId` equal to the token's identity. A missing context fact denies.
 */
export function authorize(
  subject: AuthorizeSubject,
  capability: Capability,
  context: AuthorizeContext = {},
): AuthorizeResult {
  const row = capabilityRow(capability);
  if (row === undefined) {
    return deny('unknown-capability', [], 'The capability is not one Tessera knows.', 'ERR_CAPABILITY_UNKNOWN');
  }
  const allowedBy = grantingScopes(row);
  let granted = false;
  for (const scope of subject.scopes) {
    if (row.cells[scope] !== 'N' && row.cells[scope] !== undefined) {
      granted = true;
      break;
    }
  }
  if (!granted) {
    return deny(
      'scope',
      allowedBy,
      `The token's scopes do not allow '${capability}'; it needs one of: ${allowedBy.join(', ')}.`,
    );
  }
  switch (row.requires) {
    case 'none':
      return ALLOWED;
    case 'own-message': {
      const sender = context.messageSenderId;
      if (typeof sender !== 'string' || sender.length === 0) {
        return deny('context-missing', allowedBy, `'${capability}' needs the message's sender to decide.`);
      }
      return sameIdentity(sender, subject.identity)
        ? ALLOWED
        : deny('not-message-sender', allowedBy, 'Only the sender of a message may change or delete it.');
    }
    case 'room':
    case 'room-role': {
      const room = context.room;
      if (room === undefined) {
        return deny('context-missing', allowedBy, `'${capability}' needs the caller's room invitation to decide.`);
      }
      if (room.invited !== true) {
        return deny('not-invited', allowedBy, 'The identity is not invited to this room.');
      }
      if (row.requires === 'room') return ALLOWED;
      const role = room.role ?? DEFAULT_ROOM_ROLE;
      const operation = room.operation ?? DEFAULT_ROOM_OPERATION;
      if (!isRoomRole(role) || !isRoomOperation(operation)) {
        return deny('context-missing', allowedBy, 'The room role or operation is not one Tessera knows.');
      }
      return roomRoleAllows(role, operation)
        ? ALLOWED
        : deny('room-role', allowedBy, `The room role '${role}' may not perform '${operation}'.`);
    }
  }
}
