import type { RoomsStore } from '../rooms/rooms-store.js';
import type { ChatStore } from '../store/chat-store.js';

/**
 * How many of a user's threads presence looks at (newest activity first) and participants per thread; how many of
 * its live rooms (newest first) and participants per room.
 */
export const PRESENCE_CONTACT_LIMITS = {
  maxThreads: 1000,
  maxParticipantsPerThread: 250,
  maxRooms: 1000,
  maxParticipantsPerRoom: 250,
} as const;

/** Options of {@link presenceContacts}. */
export interface PresenceContactsOptions {
  /** The rooms store: the user's room mates are contacts too. Absent (presence without rooms): threads only. */
  readonly rooms?: RoomsStore | undefined;
  /** Now, Unix ms: rooms whose `validUntil` has passed are no longer shared. Default `Date.now()`. */
  readonly now?: number | undefined;
}

/**
 * The raw ids (lower case) of the users who share a live thread or a live room with `rawId` (itself included): who
 * may read its presence and who hears its changes. Reads through the chat and rooms store ports, so it works on
 * every store. A room is live while it is not deleted and its `validUntil` has not passed.
 */
export async function presenceContacts(
  store: ChatStore,
  rawId: string,
  options: PresenceContactsOptions = {},
): Promise<Set<string>> {
  const contacts = new Set<string>([rawId]);
  let after: { lastMessageReceivedOn: number; id: string } | undefined;
  let seen = 0;
  while (seen < PRESENCE_CONTACT_LIMITS.maxThreads) {
    const page = await store.listThreads(rawId, { limit: 200, ...(after === undefined ? {} : { after }) });
    for (const thread of page) {
      const participants = await store.listParticipants(thread.id, 0, PRESENCE_CONTACT_LIMITS.maxParticipantsPerThread);
      for (const p of participants) contacts.add(p.rawId.toLowerCase());
    }
    seen += page.length;
    const last = page.at(-1);
    if (page.length < 200 || last === undefined) break;
    after = { lastMessageReceivedOn: last.lastMessageReceivedOn, id: last.id };
  }
  const rooms = options.rooms;
  if (rooms !== undefined) {
    const roomIds = await rooms.listRoomsOf(rawId, options.now ?? Date.now(), PRESENCE_CONTACT_LIMITS.maxRooms);
    for (const roomId of roomIds) {
      const participants = await rooms.listParticipants(roomId, PRESENCE_CONTACT_LIMITS.maxParticipantsPerRoom);
      for (const p of participants) contacts.add(p.rawId.toLowerCase());
    }
  }
  return contacts;
}
