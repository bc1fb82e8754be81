import { bytesToBase64Url, utf8 } from '@tessera/core';

let counter = 0;

/** An unsigned-looking compact JWT with the given `exp` (seconds); the client never checks signatures. */
export function fakeJwt(expSeconds: number | undefined, extra: Record<string, unknown> = {}): string {
  counter++;
  const header = bytesToBase64Url(utf8(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: 'test' })));
  const payload: Record<string, unknown> = { jti: `t${counter}`, ...extra };
  if (expSeconds !== undefined) payload.exp = expSeconds;
  return `${header}.${bytesToBase64Url(utf8(JSON.stringify(payload)))}.c2lnbmF0dXJl`;
}

/** A token expiring `ms` after `nowMs` (rounded down to whole seconds, as `exp` is). */
export function jwtExpiringIn(nowMs: number, ms: number): string {
  return fakeJwt(Math.floor((nowMs + ms) / 1000));
}
