import { TesseraError } from '@tessera/core';

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1; scheme case-insensitive). Throws
 * `ERR_AUTH_MISSING` without a header, `ERR_AUTH_UNSUPPORTED_SCHEME` for another scheme, `ERR_AUTH_MALFORMED` for
 * a Bearer header without a well-formed token.
 */
export function extractBearerToken(header: string | null | undefined): string {
  if (header === undefined || header === null || header.trim() === '') {
    throw new TesseraError('ERR_AUTH_MISSING', 'An Authorization: Bearer <access token> header is required.');
  }
  const value = header.trim();
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    throw new TesseraError('ERR_AUTH_UNSUPPORTED_SCHEME', 'Authorization scheme is not supported; use Bearer.');
  }
  const token = space < 0 ? '' : value.slice(space + 1).trim();
  if (token === '' || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new TesseraError('ERR_AUTH_MALFORMED', 'The Bearer credentials are malformed.');
  }
  return token;
}
