export {
  roomsPlugin,
  registerRoomsRoutes,
  newRoomId,
  type RoomsOptions,
  type RoomsPluginOptions,
} from './rooms-plugin.js';
export {
  ROOMS_DATA_ACTIONS,
  createRoomsAuthenticator,
  verifyHmacRequest,
  requireAction,
  type RoomsAccessKey,
  type RoomsAuthRequest,
  type RoomsAuthenticator,
  type RoomsAuthenticatorOptions,
  type RoomsBearerAuthenticator,
  type RoomsDataAction,
  type RoomsPrincipal,
} from './rooms-auth.js';
export {
  createRoomsOidcAuthenticator,
  type RoomsActionGrant,
  type RoomsOidcAuthenticatorOptions,
  type RoomsOidcIssuer,
} from './rooms-oidc-authenticator.js';
export {
  ROOMS_ERRORS,
  ROOMS_MALFORMED_MESSAGE,
  RoomsError,
  badArgument,
  toRoomsErrorResponse,
  type RoomsErrorBody,
  type RoomsErrorCode,
  type RoomsErrorDetail,
  type RoomsErrorOptions,
  type RoomsErrorResponse,
  type RoomsWireError,
} from './rooms-errors.js';
export {
  ROOMS_API_VERSIONS,
  MAX_ROOM_SPAN_MS,
  type RoomsApiVersion,
} from './rooms-request.js';
export {
  ROOM_CALL_ACTIONS,
  CALL_ACTIONS,
  decideRoomCall,
  decideCall,
  type CallAction,
  type CallDecision,
  type CallDenialCode,
  type CallDenialReason,
  type RoomCallAction,
  type DecideRoomCallOptions,
  type DecisionSubject,
} from './room-decision.js';
export {
  RoomIdTakenError,
  type CreateRoomInput,
  type CreateRoomResult,
  type RoomParticipantRecord,
  type RoomParticipantRow,
  type RoomPatch,
  type RoomRecord,
  type RoomsCursor,
  type RoomsStore,
} from './rooms-store.js';
export { createSqliteRoomsStore, type SqliteRoomsStoreOptions } from './sqlite-rooms-store.js';
export { createPostgresRoomsStore, type PostgresRoomsStoreOptions } from './postgres-rooms-store.js';
export { openRoomsStore } from './open-rooms-store.js';
