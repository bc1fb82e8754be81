// The runtime-neutral entry: WebCrypto, fetch and streams only. Node-only code lives in ./node.js, framework
// adapters in ./fastify.js and ./express.js — none of them is imported from here.
export {
  createVerifier,
  type Verifier,
  type VerifierOptions,
  type VerifierStatus,
  type RevocationOptions,
  type StalenessPolicy,
} from './create-verifier.js';
export type { VerifiedToken } from './verified-token.js';
export type { VerifierLogger } from './logger.js';
export { fetchServerMetadata, type FetchLike, type ServerMetadata } from './discovery.js';
export type { EcPublicJwk, SignatureVerifier, VerificationKey } from './signature/signature-verifier.js';
export { webCryptoSignatureVerifier } from './signature/webcrypto-signature-verifier.js';
export { TokenCache, CACHE_KEY_CHARS, type CacheEntry } from './cache/token-cache.js';
export { SseParser, type SseEvent, type SseParserHandlers } from './revocation/sse-parser.js';
export { RevocationStateStore, identityKey, type RevocationSnapshotData } from './revocation/revocation-state.js';
export type { RevocationFeedStatus } from './revocation/revocation-feed.js';
export { createRequestSigner, type RequestSigner } from './revocation/sign-request.js';
export { extractBearerToken } from './http/bearer-token.js';
export {
  errorResponse,
  errorToResponse,
  capabilityError,
  type HttpErrorResponse,
} from './http/error-response.js';
export {
  checkAuthorization,
  type AuthorizationRequirement,
  type AuthorizationOutcome,
} from './http/check-authorization.js';
export {
  authenticateRequest,
  createRequestAuthenticator,
  type RequestAuthentication,
} from './http/authenticate-request.js';
export {
  authorize,
  CAPABILITIES,
  CAPABILITY_TABLE,
  ROOM_ROLES,
  ROOM_OPERATIONS,
  ROOM_ROLE_TABLE,
  type Capability,
  type AuthorizeContext,
  type AuthorizeResult,
  type RoomContext,
  type RoomRole,
  type RoomOperation,
} from '@tessera/core';
