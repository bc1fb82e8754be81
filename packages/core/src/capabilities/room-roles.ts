/**
 * Rooms participant roles (Rooms API 2025-03-13: `Presenter`, `Attendee` (the default), `Consumer`,
 * `Collaborator`).
 */
export const ROOM_ROLES = ['Presenter', 'Collaborator', 'Attendee', 'Consumer'] as const;

/** One Rooms participant role. */
export type RoomRole = (typeof ROOM_ROLES)[number];

/** The role a room participant has when none was assigned, as in the Rooms API. */
export const DEFAULT_ROOM_ROLE: RoomRole = 'Attendee';

/**
 * The in-call operations a Rooms role decides, grouped from the rows of the ACS "Predefined participant roles and
 * permissions in Virtual Rooms calls" table.
 */
export const ROOM_OPERATIONS = [
  'receiveMedia',
  'captions',
  'camera',
  'microphone',
  'shareScreen',
  'muteOthers',
  'removeParticipant',
  'inviteParticipant',
  'dialOutPstn',
] as const;

/** One in-call operation of {@link ROOM_OPERATIONS}. */
export type RoomOperation = (typeof ROOM_OPERATIONS)[number];

/**
 * The operation `voip.call.inCallOperationInRoom` is judged as when the caller names none: mute/unmute, the seed's
 * own example of an in-call operation. Consumers (receive only) are refused it; every other role may.
 */
export const DEFAULT_ROOM_OPERATION: RoomOperation = 'microphone';

/** One row of {@link ROOM_ROLE_TABLE}. */
export interface RoomOperationRow {
  readonly operation: RoomOperation;
  /** The rows of the ACS roles table this operation stands for, verbatim. */
  readonly acsRows: readonly string[];
  readonly roles: Readonly<Record<RoomRole, boolean>>;
}

function row(operation: RoomOperation, acsRows: readonly string[], allowed: readonly RoomRole[]): RoomOperationRow {
  const roles = Object.freeze({
    Presenter: allowed.includes('Presenter'),
    Collaborator: allowed.includes('Collaborator'),
    Attendee: allowed.includes('Attendee'),
    Consumer: allowed.includes('Consumer'),
  });
  return Object.freeze({ operation, acsRows: Object.freeze([...acsRows]), roles });
}

/**
 * Which Rooms role may perform which in-call operation, transcribed from "Predefined participant roles and
 * permissions in Virtual Rooms calls" (learn.microsoft.com/azure/communication-services/concepts/rooms/room-concept;
 * source MicrosoftDocs/azure-docs articles/communication-services/concepts/rooms/room-concept.md). In short:
 * Presenter has full control; Collaborator is Attendee plus screen sharing; Attendee is limited to its own audio and
 * video; Consumer only receives audio, video and screen sharing. Muting a remote user, removing a participant,
 * inviting one and dialling out to PSTN are Presenter-only (PSTN dial-out also needs the room's
 * `pstnDialOutEnabled`, which the data plane checks).
 */
export const ROOM_ROLE_TABLE: readonly RoomOperationRow[] = Object.freeze([
  row(
    'receiveMedia',
    [
      'Active speaker',
      'Choose speaker for calls',
      'Show participants state',
      'Show call state',
      'Show if a participant is muted',
      'Show the reason why a participant left a call',
      'Participants can view shared screen',
      'Render remote video stream',
    ],
    ['Presenter', 'Collaborator', 'Attendee', 'Consumer'],
  ),
  row(
    'captions',
    ['Start call captions', 'Change captions language'],
    ['Presenter', 'Collaborator', 'Attendee', 'Consumer'],
  ),
  row(
    'camera',
    ['Turn video on/off', 'Switch between cameras', 'Set camera', 'Ask for permission to use audio and/or video'],
    ['Presenter', 'Collaborator', 'Attendee'],
  ),
  row('microphone', ['Mute/Unmute mic', 'Choose mic for calls', 'Set mic'], ['Presenter', 'Collaborator', 'Attendee']),
  row('shareScreen', ['Share screen', 'Share an application', 'Share a browser tab'], ['Presenter', 'Collaborator']),
  row('muteOthers', ['Mute remote user'], ['Presenter']),
  row('removeParticipant', ['Remove a participant'], ['Presenter']),
  row('inviteParticipant', ['Invite to join a Virtual Room participant to a call'], ['Presenter']),
  row('dialOutPstn', ['Dial-out to PSTN participants from Virtual Rooms calls'], ['Presenter']),
]);

const OPERATIONS = new Map<string, RoomOperationRow>(ROOM_ROLE_TABLE.map((r) => [r.operation, r]));

/** True when `value` is one of {@link ROOM_ROLES}. */
export function isRoomRole(value: unknown): value is RoomRole {
  return typeof value === 'string' && (ROOM_ROLES as readonly string[]).includes(value);
}

/** True when `value` is one of {@link ROOM_OPERATIONS}. */
export function isRoomOperation(value: unknown): value is RoomOperation {
  return typeof value === 'string' && OPERATIONS.has(value);
}

/** True when a participant with `role` may perform `operation` in a Rooms call. */
export function roomRoleAllows(role: RoomRole, operation: RoomOperation): boolean {
  return OPERATIONS.get(operation)?.roles[role] === true;
}
