import type { ChatStore } from '../store/chat-store.js';

/** How many of a user's threads presence looks at (newest activity first), and participants per thread. */
export const PRESENCE_CONTACT_LIMITS = { maxThreads: 1000, maxParticipantsPerThread: 250 } as const;

/**
 * The raw ids (lower case) of the users who share a live thread with `rawId` (itself included): who may read its
 * presence and who hears its changes. Reads through the chat store port, so it works on every chat store.
 */
export async function presenceContacts(store: ChatStore, rawId: string): Promise<Set<string>> {
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
  return contacts;
}
