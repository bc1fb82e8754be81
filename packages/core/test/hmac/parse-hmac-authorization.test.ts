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
  // through a lower-case scheme), for odd signatures too.
  it.each([SIG, 'a+/b==', 'x&Signature=y', ' padded', 'trailing ', '='])(
    'the canonical header and its general parse agree (signature %j)',
    (signature) => {
      const canonical = `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
      const general = `hmac-sha256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`;
      expect(parseHmacAuthorization(canonical)).toEqual(parseHmacAuthorization(general));
    },
  );

  it('an empty canonical signature is still ERR_AUTH_MALFORMED', () => {
    expect(
      catchTessera(() =>
        parseHmacAuthorization('HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature='),
      ).code,
    ).toBe('ERR_AUTH_MALFORMED');
  });

  it('keeps base64 padding and + / in the signature', () => {
    const parsed = parseHmacAuthorization(
      `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=a+/b==`,
    );
    expect(parsed.signature).toBe('a+/b==');
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
