import { TesseraError } from '../errors.js';
import type { TokenScope } from '../scopes/scopes.js';

/** What one ACS Identity api-version exposes. Each version exposes only what it had on the real service. */
export interface ApiVersionFeatures {
  readonly version: string;
  /** Scopes accepted on issue / create. */
  readonly scopes: readonly TokenScope[];
  /** `expiresInMinutes` accepted on create and issue. */
  readonly customExpiry: boolean;
  /** `customId` on create and `GET /identities/{id}`. */
  readonly customIdAndGet: boolean;
  /** `POST /teamsUser/:exchangeAccessToken`. */
  readonly teamsExchange: boolean;
  /** `Repeatability-Request-ID` honoured on `POST /identities`. */
  readonly repeatability: boolean;
}

const BASIC: readonly TokenScope[] = ['chat', 'voip'];
const ALL: readonly TokenScope[] = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'];

/** The api-versions Tessera serves, oldest first (docs/spec/wire-protocol.md §1.1). */
export const API_VERSIONS: readonly ApiVersionFeatures[] = [
  {
    version: '2021-03-07',
    scopes: BASIC,
    customExpiry: false,
    customIdAndGet: false,
    teamsExchange: false,
    repeatability: false,
  },
  {
    version: '2022-06-01',
    scopes: BASIC,
    customExpiry: false,
    customIdAndGet: false,
    teamsExchange: true,
    repeatability: false,
  },
  {
    version: '2022-10-01',
    scopes: BASIC,
    customExpiry: true,
    customIdAndGet: false,
    teamsExchange: true,
    repeatability: false,
  },
  {
    version: '2023-08-01',
    scopes: BASIC,
    customExpiry: true,
    customIdAndGet: false,
    teamsExchange: true,
    repeatability: true,
  },
  {
    version: '2023-10-01',
    scopes: ALL,
    customExpiry: true,
    customIdAndGet: false,
    teamsExchange: true,
    repeatability: true,
  },
  {
    version: '2025-03-02-preview',
    scopes: ALL,
    customExpiry: true,
    customIdAndGet: true,
    teamsExchange: true,
    repeatability: true,
  },
  {
    version: '2025-06-30',
    scopes: ALL,
    customExpiry: true,
    customIdAndGet: false,
    teamsExchange: true,
    repeatability: true,
  },
];

/**
 * Tessera's own api-version: everything the newest ACS versions have (customId and `GET /identities/{id}` too)
 * plus the `presence` scope, which no ACS api-version accepts. Not in {@link API_VERSIONS} nor in the
 * `api-supported-versions` header (those list ACS versions); {@link resolveApiVersion} accepts it.
 */
export const TESSERA_API_VERSION: ApiVersionFeatures = Object.freeze({
  version: '2025-06-30-tessera',
  scopes: Object.freeze([...ALL, 'presence'] as TokenScope[]),
  customExpiry: true,
  customIdAndGet: true,
  teamsExchange: true,
  repeatability: true,
});

/** The value of the `api-supported-versions` response header. */
export const API_SUPPORTED_VERSIONS_HEADER = API_VERSIONS.map((v) => v.version).join(', ');

const BY_VERSION = new Map([...API_VERSIONS, TESSERA_API_VERSION].map((v) => [v.version, v]));

/**
 * Looks up an api-version. Throws `ERR_UNSUPPORTED_API_VERSION` with the service's message when the
 * version is missing or unknown; `requestUri` is the request's path and query as received.
 */
export function resolveApiVersion(version: string | undefined, requestUri: string): ApiVersionFeatures {
  const found = version === undefined ? undefined : BY_VERSION.get(version);
  if (found === undefined) {
    throw new TesseraError(
      'ERR_UNSUPPORTED_API_VERSION',
      version === undefined || version === ''
        ? `The HTTP resource that matches the request URI '${requestUri}' requires the query parameter 'api-version'.`
        : `The HTTP resource that matches the request URI '${requestUri}' does not support the API version '${version}'.`,
      { target: 'api-version' },
    );
  }
  return found;
}
