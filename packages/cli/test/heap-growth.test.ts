// `tessera serve` bounds V8's old-generation growth (memory at 1M identities, issue 7): without it, V8 let the heap
// swing from 20 MB live to 80 MB between full collections under load, and RSS after load read 141–172 MB.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boundHeapGrowth } from '../src/serve-command.js';

const dist = fileURLToPath(new URL('../dist/serve-command.js', import.meta.url));

/** Full collections in a fixed allocation pattern (a slowly growing live set plus garbage), with or without the bound. */
function fullCollections(bound: boolean): number {
  const script = `
    const { boundHeapGrowth } = await import(${JSON.stringify(dist)});
    if (${bound}) boundHeapGrowth([]);
    const kept = [];
    let garbage = [];
    for (let i = 0; i < 3_000_000; i++) {
      garbage.push({ s: 'x'.repeat(40) + i, n: [i] });
      if (garbage.length === 50_000) { kept.push(garbage.slice(0, 200)); garbage = []; }
    }
    console.log(kept.length);`;
  const out = execFileSync(process.execPath, ['--trace-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes('Mark-Compact')).length;
}

describe('serve bounds V8 heap growth', () => {
  it('collects the old generation more often with the bound (so garbage stays small)', () => {
    const unbounded = fullCollections(false);
    const bounded = fullCollections(true);
    expect(bounded).toBeGreaterThan(unbounded * 1.5);
  }, 60_000);

  it('leaves a --heap-growing-percent given to node alone', () => {
    expect(boundHeapGrowth(['--max-semi-space-size=4', '--heap-growing-percent=20'])).toBe(false);
    expect(boundHeapGrowth(['--max-semi-space-size=4'])).toBe(true);
  });
});
