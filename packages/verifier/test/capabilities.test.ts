import {
  type AuthorizeContext,
  authorize,
  CAPABILITIES,
  CAPABILITY_TABLE,
  type Capability,
  ROOM_OPERATIONS,
  ROOM_ROLE_TABLE,
  ROOM_ROLES,
  type RoomOperation,
  type RoomRole,
  TOKEN_SCOPES,
  type TokenScope,
} from '@tessera/core';
import { describe, expect, it } from 'vitest';

// The two tables of the ACS identity-model page (seed 003, "Chat token scopes" / "VoIP token scopes"), copied
// by hand — an independent transcription the data in core must match cell for cell.
const CHAT_SEED = `
Create chat thread | Y | N | N
Update chat thread with ID | Y | N | N
Delete chat thread with ID | Y | N | N
Add participant to a chat thread | Y | Y | N
Remove participant from a chat thread | Y | Y | N
Get chat threads | Y | Y | Y
Get chat thread with ID | Y | Y | Y
Get ReadReceipt | Y | Y | Y
Create ReadReceipt | Y | Y | Y
Create message for chat thread with ID | Y | Y | Y
Get message with message ID | Y | Y | Y
Update your own message with message ID | Y | Y | Y
Delete your own message with message ID | Y | Y | Y
Send typing indicator | Y | Y | Y
Get participant for thread ID | Y | Y | Y`;
const VOIP_SEED = `
Start a VoIP call | Y | N
Start a VoIP call in Virtual Rooms, when the user is already invited to the Room | Y | Y
Join an InProgress VoIP call | Y | Y
Join an InProgress VoIP call in Virtual Rooms, when the user is already invited to the Room | Y | Y
All other in-call operations such as mute/unmute, screen share, and so on | Y | Y
All other in-call operations such as mute/unmute, screen share, and so on, in Virtual Rooms | Determined by user role | Determined by user role`;

// Tessera's presence rows (docs/presence.md): only the `presence` scope grants them.
const PRESENCE_ROWS = `
Set your own presence (Tessera)
Read the presence of users you share a thread or room with (Tessera)`;

const NAMES: readonly Capability[] = [
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
];

type Cell = 'Y' | 'N' | 'role';
interface SeedRow {
  capability: Capability;
  label: string;
  cells: Record<TokenScope, Cell>;
}

function seedRows(): SeedRow[] {
  const rows: SeedRow[] = [];
  const cell = (s: string): Cell => (s === 'Determined by user role' ? 'role' : (s as Cell));
  const chat = CHAT_SEED.trim().split('\n');
  const voip = VOIP_SEED.trim().split('\n');
  chat.forEach((line, i) => {
    const [label = '', a = '', b = '', c = ''] = line.split(' | ');
    rows.push({
      capability: NAMES[i] as Capability,
      label,
      cells: {
        chat: cell(a),
        'chat.join': cell(b),
        'chat.join.limited': cell(c),
        voip: 'N',
        'voip.join': 'N',
        presence: 'N',
      },
    });
  });
  voip.forEach((line, i) => {
    const [label = '', a = '', b = ''] = line.split(' | ');
    rows.push({
      capability: NAMES[chat.length + i] as Capability,
      label,
      cells: {
        chat: 'N',
        'chat.join': 'N',
        'chat.join.limited': 'N',
        voip: cell(a),
        'voip.join': cell(b),
        presence: 'N',
      },
    });
  });
  PRESENCE_ROWS.trim()
    .split('\n')
    .forEach((label, i) => {
      rows.push({
        capability: NAMES[chat.length + voip.length + i] as Capability,
        label,
        cells: { chat: 'N', 'chat.join': 'N', 'chat.join.limited': 'N', voip: 'N', 'voip.join': 'N', presence: 'Y' },
      });
    });
  return rows;
}

const ME = '8:acs:1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b_0194e4f4-1f2a-7b3c-8d4e-5f6a7b8c9d0e';
const SOMEONE_ELSE = '8:acs:1b4a2f6e-3c1d-4e5f-9a7b-8c9d0e1f2a3b_0194e4f4-1f2a-7b3c-8d4e-000000000000';

// The context under which only the scope decides: invited as Presenter, sender of the message.
const FULL_CONTEXT: AuthorizeContext = { room: { invited: true, role: 'Presenter' }, messageSenderId: ME };

describe('capability table: the seed, cell for cell', () => {
  const rows = seedRows();

  it('has exactly the 21 named capabilities of the seed, in its order and wording, then the 2 presence rows', () => {
    expect(CAPABILITIES).toEqual(NAMES);
    expect(CAPABILITY_TABLE.map((r) => r.capability)).toEqual(NAMES);
    expect(CAPABILITY_TABLE.map((r) => r.label)).toEqual(rows.map((r) => r.label));
  });

  for (const row of rows) {
    for (const scope of TOKEN_SCOPES) {
      const expected = row.cells[scope];
      it(`${row.capability} × ${scope} = ${expected}`, () => {
        const data = CAPABILITY_TABLE.find((r) => r.capability === row.capability);
        expect(data?.cells[scope]).toBe(expected);
        const result = authorize({ identity: ME, scopes: [scope] }, row.capability, FULL_CONTEXT);
        expect(result.allowed).toBe(expected !== 'N');
        if (!result.allowed) {
          expect(result.code).toBe('ERR_CAPABILITY_DENIED');
          expect(result.reason).toBe('scope');
          expect(result.allowedBy).toEqual(TOKEN_SCOPES.filter((s) => row.cells[s] !== 'N'));
          expect(result.allowedBy).not.toContain(scope);
        }
      });
    }
  }

  it('denies every capability to a token with no scopes', () => {
    for (const capability of NAMES) {
      expect(authorize({ identity: ME, scopes: [] }, capability, FULL_CONTEXT)).toMatchObject({
        allowed: false,
        reason: 'scope',
      });
    }
  });
});

describe('several scopes are a union', () => {
  it.each([
    [['chat.join.limited', 'voip.join'], 'chat.participant.add', false],
    [['chat.join.limited', 'chat.join'], 'chat.participant.add', true],
    [['chat.join', 'voip'], 'voip.call.start', true],
    [['chat.join', 'voip'], 'chat.thread.create', false],
    [['voip.join', 'chat'], 'chat.thread.delete', true],
    [['voip.join', 'chat'], 'voip.call.start', false],
  ] as const)('%j → %s allowed: %s', (scopes, capability, allowed) => {
    expect(authorize({ identity: ME, scopes }, capability, FULL_CONTEXT).allowed).toBe(allowed);
  });
});

describe('Rooms capabilities need an invitation, whatever the scope', () => {
  const roomCaps = ['voip.call.startInRoom', 'voip.call.joinInRoom', 'voip.call.inCallOperationInRoom'] as const;
  for (const capability of roomCaps) {
    for (const scope of ['voip', 'voip.join'] as const) {
      it(`${capability} with ${scope}: not invited → denied (not-invited)`, () => {
        const result = authorize({ identity: ME, scopes: [scope] }, capability, {
          room: { invited: false, role: 'Presenter' },
        });
        expect(result).toMatchObject({ allowed: false, code: 'ERR_CAPABILITY_DENIED', reason: 'not-invited' });
      });
      it(`${capability} with ${scope}: no room context → denied (context-missing)`, () => {
        expect(authorize({ identity: ME, scopes: [scope] }, capability)).toMatchObject({
          allowed: false,
          reason: 'context-missing',
        });
      });
    }
  }

  it('start and join in a room are allowed to every invited role, Consumer included', () => {
    for (const role of ROOM_ROLES) {
      for (const capability of ['voip.call.startInRoom', 'voip.call.joinInRoom'] as const) {
        expect(
          authorize({ identity: ME, scopes: ['voip.join'] }, capability, { room: { invited: true, role } }),
        ).toEqual({
          allowed: true,
        });
      }
    }
  });

  it('the non-room call capabilities ignore room context', () => {
    expect(
      authorize({ identity: ME, scopes: ['voip.join'] }, 'voip.call.inCallOperation', { room: { invited: false } }),
    ).toEqual({ allowed: true });
  });
});

// ACS "Predefined participant roles and permissions in Virtual Rooms calls", transcribed independently.
const ROLE_EXPECTATIONS: Record<RoomOperation, Record<RoomRole, boolean>> = {
  receiveMedia: { Presenter: true, Collaborator: true, Attendee: true, Consumer: true },
  captions: { Presenter: true, Collaborator: true, Attendee: true, Consumer: true },
  camera: { Presenter: true, Collaborator: true, Attendee: true, Consumer: false },
  microphone: { Presenter: true, Collaborator: true, Attendee: true, Consumer: false },
  shareScreen: { Presenter: true, Collaborator: true, Attendee: false, Consumer: false },
  muteOthers: { Presenter: true, Collaborator: false, Attendee: false, Consumer: false },
  removeParticipant: { Presenter: true, Collaborator: false, Attendee: false, Consumer: false },
  inviteParticipant: { Presenter: true, Collaborator: false, Attendee: false, Consumer: false },
  dialOutPstn: { Presenter: true, Collaborator: false, Attendee: false, Consumer: false },
};

describe('in-call operations in a room follow the Rooms role (every cell)', () => {
  it('the role table covers every operation and role', () => {
    expect(ROOM_ROLE_TABLE.map((r) => r.operation)).toEqual([...ROOM_OPERATIONS]);
    expect([...ROOM_ROLES].sort()).toEqual(['Attendee', 'Collaborator', 'Consumer', 'Presenter']);
  });

  for (const operation of ROOM_OPERATIONS) {
    for (const role of ROOM_ROLES) {
      const expected = ROLE_EXPECTATIONS[operation][role];
      for (const scope of ['voip', 'voip.join'] as const) {
        it(`${operation} × ${role} with ${scope} = ${expected ? 'Y' : 'N'}`, () => {
          expect(ROOM_ROLE_TABLE.find((r) => r.operation === operation)?.roles[role]).toBe(expected);
          const result = authorize({ identity: ME, scopes: [scope] }, 'voip.call.inCallOperationInRoom', {
            room: { invited: true, role, operation },
          });
          expect(result.allowed).toBe(expected);
          if (!result.allowed) expect(result.reason).toBe('room-role');
        });
      }
    }
  }

  it('defaults: role Attendee (the Rooms default), operation microphone (the seed example, mute/unmute)', () => {
    const subject = { identity: ME, scopes: ['voip.join'] as TokenScope[] };
    expect(authorize(subject, 'voip.call.inCallOperationInRoom', { room: { invited: true } }).allowed).toBe(true);
    expect(
      authorize(subject, 'voip.call.inCallOperationInRoom', { room: { invited: true, operation: 'shareScreen' } })
        .allowed,
    ).toBe(false);
    expect(
      authorize(subject, 'voip.call.inCallOperationInRoom', { room: { invited: true, role: 'Consumer' } }).allowed,
    ).toBe(false);
  });

  it('an unknown role or operation from the data plane is denied, not guessed', () => {
    const result = authorize({ identity: ME, scopes: ['voip'] }, 'voip.call.inCallOperationInRoom', {
      room: { invited: true, role: 'Organizer' as RoomRole },
    });
    expect(result).toMatchObject({ allowed: false, reason: 'context-missing' });
  });
});

describe('own-message capabilities allow only the sender', () => {
  for (const capability of ['chat.message.updateOwn', 'chat.message.deleteOwn'] as const) {
    for (const scope of ['chat', 'chat.join', 'chat.join.limited'] as const) {
      it(`${capability} with ${scope}: own message allowed, someone else's denied, unknown sender denied`, () => {
        const subject = { identity: ME, scopes: [scope] };
        expect(authorize(subject, capability, { messageSenderId: ME })).toEqual({ allowed: true });
        expect(authorize(subject, capability, { messageSenderId: ME.toUpperCase() })).toEqual({ allowed: true });
        expect(authorize(subject, capability, { messageSenderId: SOMEONE_ELSE })).toMatchObject({
          allowed: false,
          reason: 'not-message-sender',
          allowedBy: ['chat', 'chat.join', 'chat.join.limited'],
        });
        expect(authorize(subject, capability)).toMatchObject({ allowed: false, reason: 'context-missing' });
      });
    }
  }
});

describe('authorize is pure', () => {
  it('an unknown capability name is refused with ERR_CAPABILITY_UNKNOWN', () => {
    expect(authorize({ identity: ME, scopes: ['chat'] }, 'chat.everything' as Capability)).toMatchObject({
      allowed: false,
      code: 'ERR_CAPABILITY_UNKNOWN',
      allowedBy: [],
    });
  });

  it('same inputs, same answer; inputs untouched; the table is frozen', () => {
    const subject = Object.freeze({ identity: ME, scopes: Object.freeze(['chat.join'] as TokenScope[]) });
    const context = Object.freeze({ messageSenderId: ME });
    const a = authorize(subject, 'chat.thread.create', context);
    const b = authorize(subject, 'chat.thread.create', context);
    expect(a).toEqual(b);
    expect(Object.isFrozen(CAPABILITY_TABLE)).toBe(true);
    expect(Object.isFrozen(CAPABILITY_TABLE[0])).toBe(true);
    expect(Object.isFrozen(CAPABILITY_TABLE[0]?.cells)).toBe(true);
  });
});
