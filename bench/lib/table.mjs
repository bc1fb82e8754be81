// Plain-text tables for the terminal.

/** Renders rows (arrays of cells) under headers, columns padded; numbers right-aligned. */
export function table(headers, rows) {
  const cells = [headers, ...rows].map((r) =>
    r.map((c) => (c === undefined || c === null ? '–' : typeof c === 'number' ? c.toLocaleString('en-US') : String(c))),
  );
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) =>
    rows.every((r) => typeof r[i] === 'number' || r[i] === undefined || r[i] === null),
  );
  const line = (r) =>
    r.map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Markdown version of {@link table} (for pasting into the README). */
export function markdownTable(headers, rows) {
  const fmt = (c) =>
    c === undefined || c === null ? '–' : typeof c === 'number' ? c.toLocaleString('en-US') : String(c);
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}
