// No import cycle in packages/server/src (issue #15: app.ts <-> routes/access-routes.ts was one). Walks the relative
// imports of every source file, type-only ones included (a cycle of types still ties two modules together).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT =
  /\b(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** The graph of relative imports: file -> files it imports (`.js` specifiers name the `.ts` source). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2];
      if (specifier !== undefined) targets.push(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by depth-first search, each as the list of files around it. */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (state.get(file) === undefined) visit(file);
  return cycles;
}

describe('packages/server/src imports', () => {
  it('finds a cycle when there is one (the checker itself can fail)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(findCycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('reads static, re-export, side-effect and dynamic relative imports', () => {
    const files = sourceFiles(SRC);
    const graph = importGraph(files);
    const app = graph.get(join(SRC, 'app.ts')) ?? [];
    expect(app).toContain(join(SRC, 'http/route.ts'));
    const openStore = graph.get(join(SRC, 'start/open-store.ts')) ?? [];
    expect(openStore).toContain(join(SRC, 'store/postgres-store.ts'));
    const route = graph.get(join(SRC, 'http/route.ts')) ?? [];
    expect(route).toContain(join(SRC, 'http/request-fields.ts'));
  });

  it('has no import cycle', () => {
    const cycles = findCycles(importGraph(sourceFiles(SRC)));
    expect(cycles.map((cycle) => cycle.map((file) => relative(SRC, file)).join(' -> '))).toEqual([]);
  });
});
