/**
 * `import 'meshlet'` loads no adapter and no framework (issue 13: framework packages are
 * optional peers). Follows every static and dynamic import from src/index.ts through the
 * tree and fails naming the chain that reaches adapters/, the shared inbound gate, or a
 * framework package.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
const FORBIDDEN_PACKAGES = /^(express|fastify|fastify-plugin|@nestjs\/|reflect-metadata|rxjs)/;

it("import 'meshlet' reaches no adapter, no inbound gate and no framework package", () => {
  const seen = new Map<string, string[]>();
  const queue: [string, string[]][] = [[resolve(ROOT, 'src/index.ts'), ['src/index.ts']]];
  while (queue.length > 0 && seen.size < 2000) {
    const [file, chain] = queue.shift()!;
    if (seen.has(file)) continue;
    seen.set(file, chain);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      const path = [...chain, specifier];
      assert.doesNotMatch(specifier, FORBIDDEN_PACKAGES, `a framework package is loaded: ${path.join(' → ')}`);
      if (!specifier.startsWith('.')) continue;
      const target = resolve(dirname(file), specifier);
      const relative = target.slice(ROOT.length + 1);
      assert.ok(!relative.startsWith('adapters/') && !relative.startsWith('src/inbound/'), `an adapter is loaded: ${path.join(' → ')}`);
      if (target.endsWith('.ts')) queue.push([target, path]);
    }
  }
  assert.ok(seen.size > 50, `followed ${seen.size} files`);
});
