import type { SettingKind, SettingSpec } from './settings.js';

/** The type column of each kind. */
const TYPE_OF: Readonly<Record<SettingKind, string>> = {
  string: 'text',
  int: 'integer',
  bool: 'switch',
  list: 'list',
};

/** `value` in Markdown code backticks, for a `default` or `validation` cell. */
export function code(value: string | number): string {
  return `\`${value}\``;
}

/** `min–max` of an inclusive integer range, for a `validation` cell. */
export function range([min, max]: readonly [number, number]): string {
  return `${min}–${max}`;
}

function plain(markdown: string): string {
  return markdown.replace(/`/g, '');
}

/** Terminal text as Markdown: `<path>` would read as an HTML tag. */
function escapeText(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cell(markdown: string): string {
  return markdown.replace(/\|/g, '\\|');
}

/** The `--help` lines of a command's settings: `--flag  help (default …) [ENV]`, one a line. */
export function settingsUsage(specs: readonly SettingSpec[], envName: (flag: string) => string): string {
  return specs
    .map((s) => {
      const fallback =
        s.default === undefined
          ? ''
          : s.default.startsWith('required')
            ? ` (${plain(s.default)})`
            : ` (default ${plain(s.default)})`;
      return `    --${s.flag.padEnd(26)} ${s.help}${fallback} [${envName(s.flag)}]`;
    })
    .join('\n');
}

/** The Markdown flag table of a command's settings (flag, env, type, default, validation, meaning). */
export function settingsMarkdown(specs: readonly SettingSpec[], envName: (flag: string) => string): string {
  const rows = specs.map((s) => {
    const cells = [
      code(`--${s.flag}`),
      code(envName(s.flag)),
      s.kind === 'list' ? 'list (repeat the flag; the variable takes commas)' : TYPE_OF[s.kind],
      s.default ?? '–',
      s.validation ?? '–',
      s.more === undefined ? escapeText(s.help) : `${escapeText(s.help)}; ${s.more}`,
    ];
    return `| ${cells.map(cell).join(' | ')} |`;
  });
  return ['| flag | env | type | default | validation | meaning |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
