// Generates the documentation tables that must stay in step with the code, from the code itself: the error codes
// (docs/errors.md) and each command's settings table (docs/configuration.md, docs/token-service.md, docs/chat.md).
// `node scripts/docs-tables.mjs` prints them; `--write` rewrites every page between its `<!-- name:start -->` and
// `<!-- name:end -->` markers. test/docs.test.ts fails when a page and this output disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  CHAT_SERVICE_SETTINGS,
  chatServiceEnvName,
  envName,
  SERVE_SETTINGS,
  settingsMarkdown,
  TOKEN_SERVICE_SETTINGS,
  tokenServiceEnvName,
} from '@tessera/cli';
import { CHAT_ERRORS, ROOMS_ERRORS } from '@tessera/chat';
import { CLIENT_ERRORS } from '@tessera/client';
import { ERROR_CODES } from '@tessera/core';
import { WIRE_ERRORS } from '@tessera/server';
import { TOKEN_SERVICE_ERRORS } from '@tessera/token-service';

/** The HTTP status column: the identity server's, else the token service's, else never sent (raised locally). */
function statusOf(code) {
  const wire = WIRE_ERRORS[code];
  if (wire !== undefined) return String(wire.status);
  const tokenService = TOKEN_SERVICE_ERRORS[code];
  return tokenService === undefined ? 'not sent' : `${tokenService.status} (token service)`;
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

/** A package's own error table (code → status, ACS `error.code`, its one sentence): code, HTTP, `error.code`, message. */
export function packageErrorsTable(table) {
  const rows = Object.entries(table).map(
    ([code, row]) => `| \`${code}\` | ${row.status} | \`${row.acsCode}\` | ${row.message} |`,
  );
  return ['| `innererror.code` | HTTP | `error.code` | message |', '|---|---|---|---|', ...rows].join('\n');
}

/** The token service's own codes (the rows of `TOKEN_SERVICE_ERRORS` with a meaning): code, HTTP, meaning. */
export function tokenServiceErrorsTable() {
  const rows = Object.entries(TOKEN_SERVICE_ERRORS)
    .filter(([, row]) => 'meaning' in row)
    .map(([code, row]) => `| \`${code}\` | ${row.status} | ${row.meaning} |`);
  return ['| `error.code` | HTTP | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** The codes `@tessera/client` raises itself (`CLIENT_ERRORS`): code, meaning. */
export function clientErrorsTable() {
  const rows = Object.entries(CLIENT_ERRORS).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return ['| `code` | meaning |', '|---|---|', ...rows].join('\n');
}

/** Every generated page (path from the repository root) and its sections: marker name → generated Markdown. */
export const GENERATED_PAGES = {
  'docs/errors.md': {
    'error-codes': errorCodesTable,
    'token-service-errors': tokenServiceErrorsTable,
    'client-errors': clientErrorsTable,
    'chat-errors': () => packageErrorsTable(CHAT_ERRORS),
    'rooms-errors': () => packageErrorsTable(ROOMS_ERRORS),
  },
  'docs/configuration.md': { 'serve-settings': () => settingsMarkdown(SERVE_SETTINGS, envName) },
  'docs/token-service.md': {
    'token-service-settings': () => settingsMarkdown(TOKEN_SERVICE_SETTINGS, tokenServiceEnvName),
  },
  'docs/chat.md': { 'chat-service-settings': () => settingsMarkdown(CHAT_SERVICE_SETTINGS, chatServiceEnvName) },
};

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceSection(text, name, content) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`the page has no ${name} markers`);
  return `${text.slice(0, i + start.length)}\n${content}\n${text.slice(j)}`;
}

/** The page at `path` as it should be, given its `current` text. */
export function expectedPage(path, current) {
  const sections = GENERATED_PAGES[path];
  if (sections === undefined) throw new Error(`${path} is not a generated page`);
  return Object.entries(sections).reduce((text, [name, table]) => replaceSection(text, name, table()), current);
}

/** docs/errors.md as it should be. */
export function expectedErrorsPage(current) {
  return expectedPage('docs/errors.md', current);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [path, sections] of Object.entries(GENERATED_PAGES)) {
    const url = new URL(`../${path}`, import.meta.url);
    if (process.argv.includes('--write')) writeFileSync(url, expectedPage(path, readFileSync(url, 'utf8')));
    else
      for (const [name, table] of Object.entries(sections))
        process.stdout.write(`<!-- ${path} ${name} -->\n${table()}\n\n`);
  }
}
