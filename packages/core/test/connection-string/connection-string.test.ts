import { describe, expect, it } from 'vitest';
import { formatConnectionString, normalizeEndpoint, parseConnectionString } from '../../src/index.js';
import { catchTessera, expectNoSecret } from '../support/secrets.js';

const KEY = 'mXCaqaq73EDkivcf4ghm0iCKTvKTv5Dut1rL1vFT25o=';

describe('parseConnectionString', () => {
  it('parses what the SDKs accept (endpoint=…;accesskey=…)', () => {
    expect(parseConnectionString(`endpoint=http://127.0.0.1:8080/;accesskey=${KEY}`)).toEqual({
      endpoint: 'http://127.0.0.1:8080/',
      accessKey: KEY,
    });
  });

  it('keys are case-insensitive, in any order, with surrounding whitespace and a trailing semicolon', () => {
    for (const text of [
      `Endpoint=https://tessera.example.com/;AccessKey=${KEY}`,
      `ENDPOINT=https://tessera.example.com;ACCESSKEY=${KEY}`,
      `accesskey=${KEY};endpoint=https://tessera.example.com/`,
      `  endpoint = https://tessera.example.com/ ; accesskey = ${KEY} ;  `,
    ]) {
      expect(parseConnectionString(text)).toEqual({ endpoint: 'https://tessera.example.com/', accessKey: KEY });
    }
  });

  it('keeps the base64 padding of the key (a value containing "=")', () => {
    expect(parseConnectionString(`endpoint=http://h:1/;accesskey=${KEY}`).accessKey.endsWith('=')).toBe(true);
  });

  it('round-trips with formatConnectionString, adding the trailing slash', () => {
    const text = formatConnectionString('http://localhost:18080', KEY);
    expect(text).toBe(`endpoint=http://localhost:18080/;accesskey=${KEY}`);
    expect(parseConnectionString(text)).toEqual({ endpoint: 'http://localhost:18080/', accessKey: KEY });
  });

  it.each([
    ['path prefix', `endpoint=https://example.com/tessera/;accesskey=${KEY}`, 'endpoint'],
    ['path prefix without slash', `endpoint=https://example.com/tessera;accesskey=${KEY}`, 'endpoint'],
    ['not a URL', `endpoint=example.com;accesskey=${KEY}`, 'endpoint'],
    ['ftp scheme', `endpoint=ftp://example.com/;accesskey=${KEY}`, 'endpoint'],
    ['no endpoint', `accesskey=${KEY}`, 'endpoint'],
    ['empty endpoint', `endpoint=;accesskey=${KEY}`, 'endpoint'],
    ['no accesskey', 'endpoint=https://example.com/', 'accesskey'],
    ['empty accesskey', 'endpoint=https://example.com/;accesskey=', 'accesskey'],
    ['empty string', '', 'endpoint'],
  ])('refuses %s with ERR_CONNECTION_STRING_INVALID naming the part', (_n, text, target) => {
    const error = catchTessera(() => parseConnectionString(text));
    expect(error.code).toBe('ERR_CONNECTION_STRING_INVALID');
    expect(error.target).toBe(target);
    expectNoSecret(error, [KEY]);
  });

  it.each([
    ['a stray !', `${KEY.slice(0, 12)}!${KEY.slice(12)}`],
    ['inner whitespace', `${KEY.slice(0, 12)} ${KEY.slice(12)}`],
    ['a quote', `"${KEY}"`],
    ['impossible length', `${KEY.replace(/=$/, '')}AB`],
    ['non-ASCII', `${KEY.slice(0, 12)}é${KEY.slice(13)}`],
  ])('refuses an access key that is not strict base64 (%s) — Buffer would silently use a different key', (_n, key) => {
    const error = catchTessera(() => parseConnectionString(`endpoint=https://example.com/;accesskey=${key}`));
    expect(error.code).toBe('ERR_CONNECTION_STRING_INVALID');
    expect(error.target).toBe('accesskey');
    expectNoSecret(error, [KEY, key]);
  });

  it('never puts the key in any error, wherever the key sits in a broken string', () => {
    const broken = [
      `endpoint=https://example.com/tessera;accesskey=${KEY}`, // bad endpoint, good key
      `endpoint=https://example.com/accesskey=${KEY}`, // missing ';' — the key lands inside the endpoint
      `endpoint=${KEY};accesskey=${KEY}`, // key pasted as endpoint
      `endpoint=https://example.com/;accesskey=${KEY}!`, // almost-valid key
      `${KEY}`, // key alone
      `endpoint=https://example.com/${KEY}/;accesskey=${KEY}`, // key pasted into the endpoint path
    ];
    for (const text of broken) {
      const error = catchTessera(() => parseConnectionString(text));
      expect(error.code).toBe('ERR_CONNECTION_STRING_INVALID');
      expectNoSecret(error, [KEY]);
    }
  });
});

describe('normalizeEndpoint', () => {
  it('reduces to origin + "/" and drops default ports like the SDK', () => {
    expect(normalizeEndpoint('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/');
    expect(normalizeEndpoint('https://tessera.example.com:443/')).toBe('https://tessera.example.com/');
    expect(normalizeEndpoint('http://tessera.local:80')).toBe('http://tessera.local/');
    expect(normalizeEndpoint('HTTP://Tessera.Example.COM/')).toBe('http://tessera.example.com/');
  });

  it('refuses a path prefix (the SDK says "Invalid endpoint url")', () => {
    expect(() => normalizeEndpoint('https://example.com/api/')).toThrow(
      expect.objectContaining({ code: 'ERR_CONNECTION_STRING_INVALID', target: 'endpoint' }),
    );
  });
});
