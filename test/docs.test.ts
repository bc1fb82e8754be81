import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  CHAT_SERVICE_SETTINGS,
  chatServiceEnvName,
  envName,
  SERVE_SETTINGS,
  TOKEN_SERVICE_SETTINGS,
  tokenServiceEnvName,
  usage,
} from '@tessera/cli';
import { ERROR_CODES } from '@tessera/core';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { expectedErrorsPage, expectedPage, GENERATED_PAGES } from '../scripts/docs-tables.mjs';

const root = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const readme = read('README.md');

/** Every Markdown file the repository tracks (no dependencies, no build output). */
function trackedMarkdown(): string[] {
  return execFileSync('git', ['ls-files', '*.md'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((p) => p !== '' && existsSync(join(root, p)));
}

describe('README: the front door', () => {
  it('starts with the install, start and test commands', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = firstBlock
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm install', 'npm start', 'npm test']);
    expect(readme.indexOf('```sh')).toBeLessThan(200);
  });

  it('stays short: 15 KB at most, everything else in docs/', () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15 * 1024);
  });
});

describe('docs stay in step with the code', () => {
  it('docs/configuration.md documents every tessera serve flag and its environment variable', () => {
    const page = read('docs/configuration.md');
    for (const setting of SERVE_SETTINGS) {
      const row = new RegExp(`\\|\\s*\`--${setting.flag}\`\\s*\\|\\s*\`${envName(setting.flag)}\`\\s*\\|`);
      expect(page, `--${setting.flag}`).toMatch(row);
    }
  });

  it.each(Object.keys(GENERATED_PAGES))(
    '%s equals its generated tables (node scripts/docs-tables.mjs --write)',
    (path) => {
      const page = read(path);
      expect(page).toBe(expectedPage(path, page));
    },
  );

  it('the generated settings tables show each default once, as --help does', () => {
    const help = usage();
    for (const [settings, env] of [
      [SERVE_SETTINGS, envName],
      [TOKEN_SERVICE_SETTINGS, tokenServiceEnvName],
      [CHAT_SERVICE_SETTINGS, chatServiceEnvName],
    ] as const) {
      for (const s of settings) {
        const shown = s.default === undefined ? '' : s.default.replace(/`/g, '');
        expect(help, `--${s.flag}`).toContain(`${shown}${shown === '' ? '' : ')'} [${env(s.flag)}]`);
      }
    }
  });

  it('docs/errors.md lists every error code, as generated from the code (node scripts/docs-tables.mjs --write)', () => {
    const page = read('docs/errors.md');
    for (const code of Object.keys(ERROR_CODES)) expect(page).toContain(`\`${code}\``);
    expect(page).toBe(expectedErrorsPage(page));
  });
});

describe('documentation stands alone', () => {
  it('no tracked file cites a reference outside the repository (../shared, acs-wire.md, …)', () => {
    const patterns = ['\\.\\./shared/', 'acs-wire', 'performance-anchors', 'landscape\\.md'];
    const args = ['grep', '-l', '-I', ...patterns.flatMap((p) => ['-e', p]), '--', '.', ':!test/docs.test.ts'];
    const grep = spawnSync('git', args, {
      cwd: root,
      encoding: 'utf8',
    });
    expect(grep.status, grep.stderr).toBe(1); // git grep: 1 = no match
    expect(grep.stdout).toBe('');
  });

  it('every relative link in a tracked Markdown file points at a file that exists', () => {
    const broken: string[] = [];
    for (const file of trackedMarkdown()) {
      const text = read(file);
      for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/i.test(target)) continue;
        if (!existsSync(resolve(dirname(join(root, file)), target))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
