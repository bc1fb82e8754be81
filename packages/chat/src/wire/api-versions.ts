import { ChatError } from '../errors.js';

/** What one Chat api-version exposes (Azure/azure-rest-api-specs `Chat/stable/<version>`). */
export interface ChatApiVersion {
  readonly version: string;
  /** `metadata` on messages (send, update, read). */
  readonly messageMetadata: boolean;
  /** `metadata` on threads and participants, and `retentionPolicy` on threads. */
  readonly threadMetadata: boolean;
}

/** The Chat api-versions Tessera serves, oldest first; each exposes only what it had. */
export const CHAT_API_VERSIONS: readonly ChatApiVersion[] = [
  { version: '2021-03-07', messageMetadata: false, threadMetadata: false },
  { version: '2021-09-07', messageMetadata: true, threadMetadata: false },
  { version: '2023-11-07', messageMetadata: true, threadMetadata: false },
  { version: '2024-03-07', messageMetadata: true, threadMetadata: false },
  { version: '2025-03-15', messageMetadata: true, threadMetadata: true },
];

/** The `api-supported-versions` header of every chat answer. */
export const CHAT_SUPPORTED_VERSIONS_HEADER = CHAT_API_VERSIONS.map((v) => v.version).join(', ');

const BY_VERSION = new Map(CHAT_API_VERSIONS.map((v) => [v.version, v]));

/** The api-version of a request (`?api-version=`), or `ERR_CHAT_API_VERSION` when missing, repeated or unknown. */
export function resolveChatApiVersion(value: unknown): ChatApiVersion {
  const found = typeof value === 'string' ? BY_VERSION.get(value) : undefined;
  if (found === undefined) {
    throw new ChatError('ERR_CHAT_API_VERSION', {
      message: `The api-version must be one of ${CHAT_SUPPORTED_VERSIONS_HEADER}.`,
      target: 'api-version',
    });
  }
  return found;
}
