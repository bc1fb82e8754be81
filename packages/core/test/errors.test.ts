import { describe, expect, it } from 'vitest';
import { ERROR_CODES, TesseraError, isTesseraError } from '../src/index.js';

describe('TesseraError', () => {
  it('carries a stable code, message, target, details and cause', () => {
    const cause = new Error('low level');
    const error = new TesseraError('ERR_VALIDATION', 'Bad.', { target: 'scopes', details: { max: 5 }, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TesseraError');
    expect(error.code).toBe('ERR_VALIDATION');
    expect(error.message).toBe('Bad.');
    expect(error.target).toBe('scopes');
    expect(error.details).toEqual({ max: 5 });
    expect(error.cause).toBe(cause);
  });

  it('leaves target, details and cause unset when not given', () => {
    const error = new TesseraError('ERR_INTERNAL', 'x');
    expect(error.target).toBeUndefined();
    expect(error.details).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('isTesseraError narrows by class and optionally by code', () => {
    const error = new TesseraError('ERR_TOKEN_EXPIRED', 'Token has expired.');
    expect(isTesseraError(error)).toBe(true);
    expect(isTesseraError(error, 'ERR_TOKEN_EXPIRED')).toBe(true);
    expect(isTesseraError(error, 'ERR_TOKEN_REVOKED')).toBe(false);
    expect(isTesseraError(new Error('x'))).toBe(false);
    expect(isTesseraError({ code: 'ERR_TOKEN_EXPIRED', name: 'TesseraError' })).toBe(false);
  });

  it("without a message says the code's one sentence (ERR_TOKEN_WRONG_ISSUER had three wordings, #15)", () => {
    const error = new TesseraError('ERR_TOKEN_WRONG_ISSUER');
    expect(error.message).toBe(ERROR_CODES.ERR_TOKEN_WRONG_ISSUER);
    expect(error.message).toBe("The token's issuer is not trusted.");
  });

  it('every code has one sentence ending with a full stop', () => {
    for (const [code, sentence] of Object.entries(ERROR_CODES)) expect(sentence, code).toMatch(/^[A-Z`'].*\.$/);
  });
});
