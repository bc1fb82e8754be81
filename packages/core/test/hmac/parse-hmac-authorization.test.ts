import { describe, expect, it } from 'vitest';
import { parseHmacAuthorization } from '../../src/index.js';
import { catchTessera, expectNoSecret } from '../support/secrets.js';
import { hmacVectors } from '../support/vectors.js';

const SIG = 'mu5xYAb29xAJ9FWHnWI9Yjm6x5Xb0takS2DzWOOazoE=';

describe('parseHmacAuthorization', () => {
  it.each(hmacVectors().map((v) => [v.name, v] as const))('parses the SDK header: %s', (_n, v) => {
    expect(parseHmacAuthorization(v.expected.authorization)).toEqual({
      signedHeaders: ['x-ms-date', 'host', 'x-ms-content-sha256'],
      signature: v.expected.signature,
    });
  });

  // The exact SDK form is read without splitting; it must answer what the general parse answers (reached here
  // through a lower-case scheme), for odd signatures too: the same result, or the same error code.
  const outcome = (header: string) => {
    try {
      return { parsed: parseHmacAuthorization(header) };
    } catch (error) {
      return { code: catchTessera(() => parseHmacAuthorization(header)).code, message: (error as Error).message };
    }
  };
  it.each([
    SIG,
    'a+/b==',
    'x&Signature=y',
    ' padded',
    'trailing ',
    '=',
    `${SIG}=`,
    SIG.slice(0, -1),
    `${SIG.slice(0, 42)}n=`,
    `${SIG.slice(0, 43)}A`,
    `${SIG}&Signature=${SIG}`,
    `${SIG}&SignedHeaders=host`,
    Buffer.from(SIG, 'base64').toString('base64url'),
  ])('the canonical header and its general parse agree (signature %j)', (signature) => {
    const canonical = `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
    const general = `hmac-sha256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
    expect(outcome(canonical)).toEqual(outcome(general));
  });

  it('an empty canonical signature is still ERR_AUTH_MALFORMED', () => {
    expect(
      catchTessera(() =>
        parseHmacAuthorization('HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature='),
      ).code,
    ).toBe('ERR_AUTH_MALFORMED');
  });

  it('keeps base64 padding and + / in the signature', () => {
    const signature = 'a+/b'.repeat(10).concat('abc=');
    const parsed = parseHmacAuthorization(
      `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
    );
    expect(parsed.signature).toBe(signature);
  });

  // Issue #16: canonical encodings only. Buffer.from(_, 'base64') reads every one of these as the same 32 bytes.
  it.each([
    ['unpadded', SIG.slice(0, -1)],
    ['padded twice', `${SIG}=`],
    ['base64url', Buffer.from(SIG, 'base64').toString('base64url')],
    ['non-zero trailing bits', `${SIG.slice(0, 42)}p=`],
    ['31 bytes', Buffer.alloc(31, 1).toString('base64')],
    ['33 bytes', Buffer.alloc(33, 1).toString('base64')],
    ['64 bytes', Buffer.alloc(64, 1).toString('base64')],
    ['not base64', '!'.repeat(43).concat('=')],
    ['inner space', `${SIG.slice(0, 10)} ${SIG.slice(10)}`],
  ])('a signature that is not the strict base64 of 32 bytes (%s) → ERR_AUTH_MALFORMED', (_n, signature) => {
    for (const scheme of ['HMAC-SHA256', 'hmac-sha256']) {
      const header = `${scheme} SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
      const error = catchTessera(() => parseHmacAuthorization(header));
      expect(error.code).toBe('ERR_AUTH_MALFORMED');
      expect(error.message).toMatch(/base64/);
      expectNoSecret(error, [signature]);
    }
  });

  it.each([
    [
      'Signature twice (same value)',
      `SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${SIG}&Signature=${SIG}`,
    ],
    [
      'Signature twice (any case)',
      `SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${SIG}&SIGNATURE=${SIG}`,
    ],
    ['SignedHeaders twice', `SignedHeaders=host&SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${SIG}`],
    ['an empty duplicate', `SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${SIG}&Signature=`],
  ])('a parameter given twice (%s) → ERR_AUTH_MALFORMED', (_n, params) => {
    const error = catchTessera(() => parseHmacAuthorization(`HMAC-SHA256 ${params}`));
    expect(error.code).toBe('ERR_AUTH_MALFORMED');
    expect(error.message).toMatch(/more than once/);
    expectNoSecret(error, [SIG]);
  });

  it('is case-insensitive in the scheme and parameter names, and lower-cases header names', () => {
    expect(
      parseHmacAuthorization(`hmac-sha256 signedheaders=X-MS-Date;HOST;x-ms-content-sha256&SIGNATURE=${SIG}`),
    ).toEqual({ signedHeaders: ['x-ms-date', 'host', 'x-ms-content-sha256'], signature: SIG });
  });

  it('tolerates extra spaces and parameters in either order', () => {
    expect(
      parseHmacAuthorization(`HMAC-SHA256   Signature=${SIG} & SignedHeaders=x-ms-date;host;x-ms-content-sha256  `),
    ).toEqual({ signedHeaders: ['x-ms-date', 'host', 'x-ms-content-sha256'], signature: SIG });
  });

  it('returns legacy SignedHeaders (date;host;…, pre-2021 SDKs) as sent, for the server to decide', () => {
    expect(parseHmacAuthorization(`HMAC-SHA256 SignedHeaders=date;host;x-ms-content-sha256&Signature=${SIG}`)).toEqual({
      signedHeaders: ['date', 'host', 'x-ms-content-sha256'],
      signature: SIG,
    });
  });

  it.each([
    ['Bearer', `Bearer ${SIG}`],
    ['Basic', `Basic ${SIG}`],
    ['HMAC-SHA512', `HMAC-SHA512 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${SIG}`],
    ['empty header', ''],
    ['a bare signature', SIG],
  ])('another scheme (%s) → ERR_AUTH_UNSUPPORTED_SCHEME, without echoing the credential', (_n, header) => {
    const error = catchTessera(() => parseHmacAuthorization(header));
    expect(error.code).toBe('ERR_AUTH_UNSUPPORTED_SCHEME');
    expectNoSecret(error, [SIG]);
  });

  it.each([
    ['scheme only', 'HMAC-SHA256'],
    ['no SignedHeaders', `HMAC-SHA256 Signature=${SIG}`],
    ['no Signature', 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256'],
    ['empty Signature', 'HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature='],
    ['empty SignedHeaders', `HMAC-SHA256 SignedHeaders=&Signature=${SIG}`],
    ['comma instead of ampersand', `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256,Signature=${SIG}`],
  ])('%s → ERR_AUTH_MALFORMED, without echoing the signature', (_n, header) => {
    const error = catchTessera(() => parseHmacAuthorization(header));
    expect(error.code).toBe('ERR_AUTH_MALFORMED');
    expectNoSecret(error, [SIG]);
  });
});
