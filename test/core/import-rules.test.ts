/**
 * The import rules of DESIGN §2 and issue 8, checked on the source itself: every `import`,
 * `export … from` and `import()` in src/ is read (type-only imports included: a type loop
 * is still a loop for a reader), resolved to a file, and the graph is checked for
 * - no import cycle anywhere in src/ (Tarjan's strongly connected components);
 * - nothing in src/core, src/resilience or src/balance importing from src/transport (the
 *   stack file alone names the transport it assembles);
 * - no layer (src/core, src/resilience, src/balance, src/transport) importing back from src/stack;
 * - src/core importing nothing from the rest of src/ and nothing from undici.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const SRC = resolve(import.meta.dirname, '../../src');
const IMPORT = /^\s*(?:import|export)\s[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Each file (relative to src/) and what it imports: files relative to src/, packages by name. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const imports: string[] = [];
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (match[1] ?? match[2] ?? match[3])!;
      imports.push(spec.startsWith('.') ? relative(SRC, resolve(dirname(file), spec)) : spec);
    }
    graph.set(relative(SRC, file), imports);
  }
  return graph;
}

/** The import cycles: strongly connected components of more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)!.includes(file)) found.push(component);
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

function violations(graph: Map<string, string[]>, from: RegExp, forbidden: (target: string) => boolean): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    if (!from.test(file)) continue;
    for (const target of imports) if (forbidden(target)) found.push(`${file} imports ${target}`);
  }
  return found;
}

describe('import rules', () => {
  const graph = importGraph();

  it('reads the source tree (the check is not vacuous)', () => {
    assert.ok(graph.size > 50, `only ${graph.size} files found under ${SRC}`);
    assert.ok(graph.get('stack/client-stack.ts')?.includes('transport/http/transport.ts'));
  });

  it('has no import cycle in src/', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('src/core, src/resilience and src/balance import nothing from src/transport', () => {
    assert.deepEqual(violations(graph, /^(core|resilience|balance)\//, (target) => target.startsWith('transport/')), []);
  });

  it('no layer imports back from src/stack', () => {
    assert.deepEqual(violations(graph, /^(core|resilience|balance|transport)\//, (target) => target.startsWith('stack/')), []);
  });

  it('src/core imports nothing from the rest of src/ nor from undici', () => {
    const outside = (target: string): boolean => target === 'undici' || target.startsWith('undici/') || (!target.includes(':') && !target.startsWith('core/') && target.endsWith('.ts'));
    assert.deepEqual(violations(graph, /^core\//, outside), []);
  });
});
