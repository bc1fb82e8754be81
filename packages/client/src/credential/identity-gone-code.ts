import { TesseraError, type TesseraErrorCode } from '@tessera/core';
import { ClientError } from '../errors/client-error.js';

const TERMINAL_CODES: ReadonlySet<string> = new Set<TesseraErrorCode>([
  'ERR_IDENTITY_NOT_FOUND',
  'ERR_IDENTITY_DELETED',
  'ERR_IDENTITY_NOT_OWNED',
  'ERR_TOKEN_REVOKED',
  'ERR_TOKEN_IDENTITY_DELETED',
]);

// ACS-style codes an app's token endpoint (or the Azure SDK's RestError) may carry.
const TERMINAL_SERVICE_CODES: Readonly<Record<string, TesseraErrorCode>> = {
  identitynotfound: 'ERR_IDENTITY_NOT_FOUND',
  identitydeleted: 'ERR_IDENTITY_DELETED',
  identitynotowned: 'ERR_IDENTITY_NOT_OWNED',
  identityrevoked: 'ERR_TOKEN_REVOKED',
  revoked: 'ERR_TOKEN_REVOKED',
  deleted: 'ERR_IDENTITY_DELETED',
};

function field(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

/**
 * The Tessera code of a refresher error meaning "this identity is gone": revoked, deleted, not found
 * (HTTP 404/410) or not owned. Such an identity can never get a token again, so refreshing stops for good.
 * Undefined for any other (possibly transient) error.
 */
export function identityGoneCode(error: unknown): TesseraErrorCode | undefined {
  if (error instanceof TesseraError || error instanceof ClientError) {
    if (error instanceof TesseraError && TERMINAL_CODES.has(error.code)) return error.code;
    const serviceCode = field(error, 'serviceCode');
    if (typeof serviceCode === 'string') return TERMINAL_SERVICE_CODES[serviceCode.toLowerCase()];
    return undefined;
  }
  const code = field(error, 'code');
  if (typeof code === 'string') {
    if (TERMINAL_CODES.has(code)) return code as TesseraErrorCode;
    const mapped = TERMINAL_SERVICE_CODES[code.toLowerCase()];
    if (mapped !== undefined) return mapped;
  }
  const status = field(error, 'statusCode') ?? field(error, 'status');
  if (status === 404) return 'ERR_IDENTITY_NOT_FOUND';
  if (status === 410) return 'ERR_IDENTITY_DELETED';
  return undefined;
}

/** Default `isTerminalError` of the credential: true when {@link identityGoneCode} finds a code. */
export function isIdentityGoneError(error: unknown): boolean {
  return identityGoneCode(error) !== undefined;
}
