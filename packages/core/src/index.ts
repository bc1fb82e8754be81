export {
  ERROR_CODES,
  TesseraError,
  isTesseraError,
  type TesseraErrorCode,
  type TesseraErrorOptions,
} from './errors.js';
export {
  bytesToBase64,
  bytesToBase64Url,
  textToBase64Url,
  base64ToBytes,
  base64UrlToBytesStrict,
  isBase64UrlCandidate,
  base64UrlDecodedLength,
  utf8,
  fromUtf8,
} from './encoding/base64.js';
export { SseParser, type SseEvent, type SseParserHandlers } from './sse/sse-parser.js';
export { formatRawId, parseRawId, isRawId, isUuid, type CommunicationUserId } from './identity/raw-id.js';
export { uuidV7 } from './identity/uuid-v7.js';
export { TOKEN_SCOPES, isTokenScope, parseScopes, type TokenScope, type ParseScopesOptions } from './scopes/scopes.js';
export {
  API_VERSIONS,
  TESSERA_API_VERSION,
  API_SUPPORTED_VERSIONS_HEADER,
  resolveApiVersion,
  type ApiVersionFeatures,
} from './api/api-versions.js';
export {
  MIN_TOKEN_MINUTES,
  MAX_TOKEN_MINUTES,
  MAX_CUSTOM_ID_LENGTH,
  parseExpiresInMinutes,
  parseCustomId,
} from './tokens/lifetime.js';
export {
  TOKEN_CONTRACT_VERSION,
  LOW_S_TOKEN_CONTRACT_VERSION,
  SUPPORTED_TOKEN_CONTRACT_VERSIONS,
  ACS_SCP_CONSTANT,
  buildClaims,
  encodeClaimsJson,
  type ClaimsJson,
  parseClaims,
  scopesOf,
  formatAccessKeyRef,
  parseAccessKeyRef,
  type TokenClaims,
  type BuildClaimsOptions,
  type AccessKeyRef,
} from './tokens/claims.js';
export {
  encodeSigningInput,
  encodeJwtSegment,
  assembleJwt,
  decodeJwt,
  splitJwt,
  type SplitJwt,
  MAX_TOKEN_LENGTH,
  type JwtHeader,
  type DecodedJwt,
  type DecodeJwtOptions,
} from './tokens/jwt.js';
export { isHighS, toLowS } from './tokens/ecdsa-low-s.js';
export { checkSignatureForm } from './tokens/check-signature-form.js';
export { checkTokenTimes, type CheckTokenTimesOptions } from './tokens/check-token-times.js';
export {
  checkRevocation,
  revocationCode,
  REVOCATION_MESSAGES,
  type RevocationCode,
  type RevocationState,
  type IdentityRevocationState,
  type AccessKeyVersions,
} from './revocation/check-revocation.js';
export {
  SIGNED_HEADERS,
  EMPTY_CONTENT_HASH,
  buildStringToSign,
  formatHmacAuthorization,
  parseHmacAuthorization,
  parseHttpDate,
  type StringToSignParts,
  type HmacAuthorization,
} from './hmac/string-to-sign.js';
export {
  importHmacKey,
  contentHash,
  signRequestHeaders,
  type HmacKey,
  type HmacSubtle,
  type SignRequestOptions,
  type SignedRequestHeaders,
} from './hmac/sign-request.js';
export {
  formatConnectionString,
  parseConnectionString,
  normalizeEndpoint,
  type ConnectionString,
} from './connection-string.js';
export {
  CAPABILITIES,
  CAPABILITY_TABLE,
  isCapability,
  capabilityRow,
  type Capability,
  type CapabilityCell,
  type CapabilityRequirement,
  type CapabilityRow,
} from './capabilities/capability-table.js';
export {
  ROOM_ROLES,
  ROOM_OPERATIONS,
  ROOM_ROLE_TABLE,
  DEFAULT_ROOM_ROLE,
  DEFAULT_ROOM_OPERATION,
  isRoomRole,
  isRoomOperation,
  roomRoleAllows,
  type RoomRole,
  type RoomOperation,
  type RoomOperationRow,
} from './capabilities/room-roles.js';
export {
  authorize,
  type AuthorizeSubject,
  type AuthorizeContext,
  type AuthorizeResult,
  type RoomContext,
  type DenialReason,
} from './capabilities/authorize.js';
export {
  RATE_LIMITED_OPERATIONS,
  ACS_RATE_LIMITS,
  parseRateLimitPolicy,
  type RateLimitedOperation,
  type RateLimit,
  type RateLimitPolicy,
} from './rate-limit/rate-limit-policy.js';
export { takeToken, type BucketState, type TakeResult } from './rate-limit/token-bucket.js';
