import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TesseraError } from '@tessera/core';

/** How a setting is read: `bool` flags take no value (env: true/false/1/0/yes/no/on/off); `list` flags repeat (env: comma-separated). */
export type SettingKind = 'string' | 'int' | 'bool' | 'list';

/**
 * One row of a command's settings table — the one place a setting is described: `--help` and the flag tables of
 * docs/ are generated from it (settings-table.ts, scripts/docs-tables.mjs), option parsing reads `flag` and `kind`.
 */
export interface SettingSpec {
  /** The flag without `--`; the env var is derived from it by the command's `envName`. */
  readonly flag: string;
  readonly kind: SettingKind;
  /** One line: what the setting does (in `--help` and the docs table). */
  readonly help: string;
  /** The default as shown to users (Markdown: `code` in backticks); absent: none. */
  readonly default?: string;
  /** What a value must be, when more than its kind says (e.g. `0–65535`). */
  readonly validation?: string;
  /** More for the docs table only (Markdown, links), after `help`. */
  readonly more?: string;
}

/** Typed access to settings read from flags, then env vars; absent settings are `undefined` (lists: `[]`). */
export interface Settings {
  str(flag: string): string | undefined;
  int(flag: string): number | undefined;
  bool(flag: string): boolean | undefined;
  list(flag: string): string[];
  /** The `ERR_CONFIG_INVALID` error naming a setting and its env var. */
  invalid(flag: string, message: string): TesseraError;
}

/** The log levels every command accepts. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Parses `argv` strictly against `specs` (unknown flags and positionals are errors) and falls back to
 * `envName(flag)` in `env` for anything not given. Every error names the flag and its variable.
 */
export function readSettings(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  specs: readonly SettingSpec[],
  envName: (flag: string) => string,
): Settings {
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(
      specs.map((s) => [
        s.flag,
        s.kind === 'bool'
          ? { type: 'boolean' as const }
          : s.kind === 'list'
            ? { type: 'string' as const, multiple: true }
            : { type: 'string' as const },
      ]),
    ),
    strict: true,
    allowPositionals: false,
  });
  const given = values as Record<string, string | boolean | string[] | undefined>;
  const invalid = (flag: string, message: string) =>
    new TesseraError('ERR_CONFIG_INVALID', `Invalid --${flag} (${envName(flag)}): ${message}`, { target: flag });
  const raw = (flag: string) => given[flag] ?? env[envName(flag)];
  const str = (flag: string): string | undefined => {
    const v = raw(flag);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  return {
    str,
    invalid,
    int(flag) {
      const v = str(flag);
      if (v === undefined) return undefined;
      if (!/^\d{1,9}$/.test(v)) throw invalid(flag, 'must be a whole number.');
      return Number(v);
    },
    bool(flag) {
      const v = raw(flag);
      if (v === undefined || typeof v === 'boolean') return v;
      if (Array.isArray(v)) throw invalid(flag, 'takes no value.');
      if (/^(1|true|yes|on)$/i.test(v.trim())) return true;
      if (/^(0|false|no|off|)$/i.test(v.trim())) return v.trim() === '' ? undefined : false;
      throw invalid(flag, 'must be true or false.');
    },
    list(flag) {
      const v = raw(flag);
      const parts = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
      return parts
        .flatMap((p) => p.split(','))
        .map((p) => p.trim())
        .filter((p) => p !== '');
    },
  };
}

/**
 * A secret setting given inline (`--<flag>`, its variable) or as a file (`--<flag>-file`, its variable): the file's
 * trimmed contents, so the secret stays out of `ps` and shell history. Both at once is an error; the file's contents
 * never reach an error message. The `<flag>-file` setting must be in the command's table.
 */
export function secretSetting(settings: Settings, flag: string): string | undefined {
  const inline = settings.str(flag);
  const path = settings.str(`${flag}-file`);
  if (path === undefined) return inline;
  if (inline !== undefined) throw settings.invalid(`${flag}-file`, `cannot be combined with --${flag}.`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw settings.invalid(`${flag}-file`, `cannot read '${path}'.`);
  }
  if (text === '') throw settings.invalid(`${flag}-file`, `'${path}' is empty.`);
  return text;
}

/** Reads `log-level` and checks it is one of {@link LOG_LEVELS}. */
export function readLogLevel(settings: Settings): LogLevel | undefined {
  const level = settings.str('log-level');
  if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw settings.invalid('log-level', `must be one of ${LOG_LEVELS.join(', ')}.`);
  }
  return level as LogLevel | undefined;
}
