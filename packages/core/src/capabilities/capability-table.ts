import type { TokenScope } from '../scopes/scopes.js';

/**
 * Every capability a user access token can be asked about, named `<service>.<object>.<action>`.
 * The rows of the ACS identity-model tables "Chat token scopes" and "VoIP token scopes", in their order, then
 * Tessera's presence rows (the `presence` scope is a Tessera extension).
 */
export const CAPABILITIES = [
  'chat.thread.create',
  'chat.thread.update',
  'chat.thread.delete',
  'chat.participant.add',
  'chat.participant.remove',
  'chat.thread.list',
  'chat.thread.get',
  'chat.readReceipt.get',
  'chat.readReceipt.create',
  'chat.message.create',
  'chat.message.get',
  'chat.message.updateOwn',
  'chat.message.deleteOwn',
  'chat.typing.send',
  'chat.participant.list',
  'voip.call.start',
  'voip.call.startInRoom',
  'voip.call.join',
  'voip.call.joinInRoom',
  'voip.call.inCallOperation',
  'voip.call.inCallOperationInRoom',
  'presence.state.set',
  'presence.state.read',
] as const;

/** One capability name from {@link CAPABILITIES}. */
export type Capability = (typeof CAPABILITIES)[number];

/**
 * A cell of the table: `Y` the scope grants the capability, `N` it does not, `role` it grants it subject to the
 * user's Rooms role (the seed's "Determined by user role").
 */
export type CapabilityCell = 'Y' | 'N' | 'role';

/**
 * What a capability needs besides a scope: nothing, an invitation to the room (`room`), an invitation and a role
 * that permits the in-call operation (`room-role`), or being the sender of the message (`own-message`).
 */
export type CapabilityRequirement = 'none' | 'room' | 'room-role' | 'own-message';

/** One row of {@link CAPABILITY_TABLE}. */
export interface CapabilityRow {
  readonly capability: Capability;
  readonly service: 'chat' | 'voip' | 'presence';
  /** The row's wording in the ACS identity-model table, verbatim. */
  readonly label: string;
  /** One cell per token scope; the other services' scopes are always `N`. */
  readonly cells: Readonly<Record<TokenScope, CapabilityCell>>;
  readonly requires: CapabilityRequirement;
}

type Cells3 = readonly [chat: CapabilityCell, chatJoin: CapabilityCell, chatJoinLimited: CapabilityCell];
type Cells2 = readonly [voip: CapabilityCell, voipJoin: CapabilityCell];

function chatRow(capability: Capability, label: string, c: Cells3, requires: CapabilityRequirement = 'none') {
  const cells = {
    chat: c[0],
    'chat.join': c[1],
    'chat.join.limited': c[2],
    voip: 'N',
    'voip.join': 'N',
    presence: 'N',
  } as const;
  return Object.freeze({ capability, service: 'chat', label, cells: Object.freeze(cells), requires }) as CapabilityRow;
}

function voipRow(capability: Capability, label: string, c: Cells2, requires: CapabilityRequirement = 'none') {
  const cells = {
    chat: 'N',
    'chat.join': 'N',
    'chat.join.limited': 'N',
    voip: c[0],
    'voip.join': c[1],
    presence: 'N',
  } as const;
  return Object.freeze({ capability, service: 'voip', label, cells: Object.freeze(cells), requires }) as CapabilityRow;
}

/** A Tessera presence row: only the `presence` scope grants it. */
function presenceRow(capability: Capability, label: string): CapabilityRow {
  const cells = {
    chat: 'N',
    'chat.join': 'N',
    'chat.join.limited': 'N',
    voip: 'N',
    'voip.join': 'N',
    presence: 'Y',
  } as const;
  return Object.freeze({ capability, service: 'presence', label, cells: Object.freeze(cells), requires: 'none' });
}

/**
 * The capability table of the ACS identity model (learn.microsoft.com/azure/communication-services/concepts/
 * identity-model, "Chat token scopes" and "VoIP token scopes"), cell for cell, as data, plus Tessera's two presence
 * rows: `authorize`, the README and the tests are all generated from it.
 */
export const CAPABILITY_TABLE: readonly CapabilityRow[] = Object.freeze([
  chatRow('chat.thread.create', 'Create chat thread', ['Y', 'N', 'N']),
  chatRow('chat.thread.update', 'Update chat thread with ID', ['Y', 'N', 'N']),
  chatRow('chat.thread.delete', 'Delete chat thread with ID', ['Y', 'N', 'N']),
  chatRow('chat.participant.add', 'Add participant to a chat thread', ['Y', 'Y', 'N']),
  chatRow('chat.participant.remove', 'Remove participant from a chat thread', ['Y', 'Y', 'N']),
  chatRow('chat.thread.list', 'Get chat threads', ['Y', 'Y', 'Y']),
  chatRow('chat.thread.get', 'Get chat thread with ID', ['Y', 'Y', 'Y']),
  chatRow('chat.readReceipt.get', 'Get ReadReceipt', ['Y', 'Y', 'Y']),
  chatRow('chat.readReceipt.create', 'Create ReadReceipt', ['Y', 'Y', 'Y']),
  chatRow('chat.message.create', 'Create message for chat thread with ID', ['Y', 'Y', 'Y']),
  chatRow('chat.message.get', 'Get message with message ID', ['Y', 'Y', 'Y']),
  chatRow('chat.message.updateOwn', 'Update your own message with message ID', ['Y', 'Y', 'Y'], 'own-message'),
  chatRow('chat.message.deleteOwn', 'Delete your own message with message ID', ['Y', 'Y', 'Y'], 'own-message'),
  chatRow('chat.typing.send', 'Send typing indicator', ['Y', 'Y', 'Y']),
  chatRow('chat.participant.list', 'Get participant for thread ID', ['Y', 'Y', 'Y']),
  voipRow('voip.call.start', 'Start a VoIP call', ['Y', 'N']),
  voipRow(
    'voip.call.startInRoom',
    'Start a VoIP call in Virtual Rooms, when the user is already invited to the Room',
    ['Y', 'Y'],
    'room',
  ),
  voipRow('voip.call.join', 'Join an InProgress VoIP call', ['Y', 'Y']),
  voipRow(
    'voip.call.joinInRoom',
    'Join an InProgress VoIP call in Virtual Rooms, when the user is already invited to the Room',
    ['Y', 'Y'],
    'room',
  ),
  voipRow('voip.call.inCallOperation', 'All other in-call operations such as mute/unmute, screen share, and so on', [
    'Y',
    'Y',
  ]),
  voipRow(
    'voip.call.inCallOperationInRoom',
    'All other in-call operations such as mute/unmute, screen share, and so on, in Virtual Rooms',
    ['role', 'role'],
    'room-role',
  ),
  presenceRow('presence.state.set', 'Set your own presence (Tessera)'),
  presenceRow('presence.state.read', 'Read the presence of users you share a thread or room with (Tessera)'),
]);

const BY_NAME = new Map<string, CapabilityRow>(CAPABILITY_TABLE.map((row) => [row.capability, row]));

/** True when `value` is one of {@link CAPABILITIES}. */
export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && BY_NAME.has(value);
}

/** The table row of a capability; undefined for an unknown name. */
export function capabilityRow(capability: string): CapabilityRow | undefined {
  return BY_NAME.get(capability);
}
