export {
  TesseraClientError,
  isTesseraClientError,
  type TesseraClientErrorOptions,
} from './errors/tessera-client-error.js';
export { CLIENT_ERRORS, ClientError, type ClientErrorCode, isClientError } from './errors/client-error.js';
export { isTesseraErrorCode, serviceError, type ServiceErrorContext } from './errors/service-error.js';
export {
  IdentityClient,
  DEFAULT_API_VERSION,
  DEFAULT_PREVIEW_API_VERSION,
  type IdentityClientOptions,
} from './identity/identity-client.js';
export type { ClientContext, OperationOptions } from './identity/client-context.js';
export type {
  AccessKeyName,
  AccessKeys,
  AccessTokenResult,
  CommunicationIdentity,
  UserAndTokenResult,
  UserReference,
} from './identity/models.js';
export type { CreateUserOptions } from './operations/create-user.js';
export type { CreateUserAndTokenOptions } from './operations/create-user-and-token.js';
export type { CreateIdentityOptions } from './operations/post-identities.js';
export type { GetTokenOptions } from './operations/get-token.js';
export {
  AutoRefreshingTokenCredential,
  type AutoRefreshingTokenCredentialOptions,
  type CredentialAccessToken,
  type CredentialEventMap,
  type CredentialGetTokenOptions,
  type ExpiredEvent,
  type RefreshedEvent,
  type RefreshedToken,
  type RefreshFailedEvent,
  type RefreshTrigger,
  type TokenRefresher,
} from './credential/auto-refreshing-token-credential.js';
export { identityGoneCode, isIdentityGoneError } from './credential/identity-gone-code.js';
export {
  HttpPipeline,
  type HttpPipelineOptions,
  type PipelineRequest,
  type PipelineResponse,
  type ResilienceOptions,
} from './http/http-pipeline.js';
export {
  COMMUNICATION_SCOPE,
  bearerAuthenticator,
  hmacAuthenticator,
  type AccessKeyCredentialLike,
  type BearerTokenProvider,
  type IdentityClientCredential,
  type RequestAuthenticator,
  type TokenCredentialLike,
} from './http/request-authenticator.js';
export { createHmacHeaders, type HmacHeaders, type HmacSignInput } from './http/create-hmac-headers.js';
export { importHmacKey, contentHash, type HmacKey } from '@tessera/core';
export {
  CircuitBreaker,
  CircuitBreakerRegistry,
  defaultCircuitBreakerRegistry,
  type CircuitBreakerOptions,
  type CircuitPermit,
  type CircuitState,
} from './resilience/circuit-breaker.js';
export { fullJitterDelay, type BackoffOptions } from './resilience/full-jitter-delay.js';
export { parseRetryAfter, type HeaderReader } from './resilience/parse-retry-after.js';
export {
  systemClock,
  systemTimers,
  systemRandom,
  type Clock,
  type Timers,
  type TimerHandle,
  type RandomSource,
} from './runtime/clock.js';
export type { AbortSignalLike } from './runtime/abort-signal-like.js';
export {
  subscribeChatEvents,
  type ChatEventsCredential,
  type ChatEventsState,
  type ChatEventsSubscription,
  type ChatStreamEvent,
  type SubscribeChatEventsOptions,
} from './events/subscribe-chat-events.js';
