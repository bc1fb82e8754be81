import { inspect } from 'node:util';
import { expect } from 'vitest';
import { TesseraError } from '../../src/index.js';

/** Runs `fn`, which must throw a TesseraError, and returns it. */
export function catchTessera(fn: () => unknown): TesseraError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TesseraError);
    return error as TesseraError;
  }
  throw new Error('expected a TesseraError, nothing was thrown');
}

/**
 * Asserts that none of `secrets` (nor their base64/base64url/hex twins) appears anywhere in the error:
 * message, target, details, stack, cause chain — everything `util.inspect` would print to a log.
 */
export function expectNoSecret(error: unknown, secrets: readonly string[]): void {
  const rendered = `${inspect(error, { depth: 10, showHidden: true })}\n${JSON.stringify(error)}\n${String(error)}`;
  for (const secret of secrets) {
    const forms = new Set([secret, secret.replace(/=+$/, '')]);
    const bytes = Buffer.from(secret, 'base64');
    if (bytes.length >= 8) {
      forms.add(bytes.toString('base64url'));
      forms.add(bytes.toString('hex'));
    }
    for (const form of forms) {
      if (form.length >= 6) expect(rendered).not.toContain(form);
    }
  }
}
