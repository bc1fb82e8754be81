// Generates the documentation tables that must stay in step with the code, from the code itself.
// `node scripts/docs-tables.mjs` prints them; `--write` rewrites docs/errors.md between the markers.
// test/docs.test.ts fails when docs/errors.md and this output disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES } from '@tessera/core';
import { WIRE_ERRORS } from '@tessera/server';
import { TOKEN_SERVICE_ERRORS } from '@tessera/token-service';

/** The HTTP status column: the identity server's, else the token service's, else raised client-side only. */
function statusOf(code) {
  const wire = WIRE_ERRORS[code];
  if (wire !== undefined) return String(wire.status);
  const tokenService = TOKEN_SERVICE_ERRORS[code];
  return tokenService === undefined ? 'client-side' : `${tokenService.status} (token service)`;
}

/** The error-code table: code, HTTP status, ACS `error.code`, meaning. */
export function errorCodesTable() {
  const rows = Object.entries(ERROR_CODES).map(([code, meaning]) => {
    const wire = WIRE_ERRORS[code];
    const status = statusOf(code);
    const acs = wire === undefined ? '–' : `\`${wire.acsCode}\``;
    return `| \`${code}\` | ${status} | ${acs} | ${meaning} |`;
  });
  return ['| `innererror.code` | HTTP | `error.code` | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceSection(text, name, content) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`the page has no ${name} markers`);
  return `${text.slice(0, i + start.length)}\n${content}\n${text.slice(j)}`;
}

/** docs/errors.md as it should be. */
export function expectedErrorsPage(current) {
  return replaceSection(current, 'error-codes', errorCodesTable());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const path = new URL('../docs/errors.md', import.meta.url);
  const current = readFileSync(path, 'utf8');
  if (process.argv.includes('--write')) writeFileSync(path, expectedErrorsPage(current));
  else process.stdout.write(`${errorCodesTable()}\n`);
}
