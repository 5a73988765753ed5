/**
 * README snippets come from examples/, which are type-checked: this keeps the README's quick
 * start identical to the example, so the docs cannot rot.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';

it('README quick start is the example, verbatim', async () => {
  const example = await readFile(new URL('../../examples/quickstart.ts', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const snippet = /\/\/ --- quick start ---\n([\s\S]*?)\/\/ --- end quick start ---/.exec(example)?.[1];
  assert.ok(snippet, 'examples/quickstart.ts has the quick start markers');
  assert.ok(readme.includes(`\`\`\`ts\n${snippet}\`\`\``), 'README.md contains the quick start verbatim');
});

for (const [framework, file] of [
  ['express', 'examples/express/main.ts'],
  ['fastify', 'examples/fastify/main.ts'],
  ['nestjs', 'examples/nestjs/main.ts'],
] as const) {
  it(`README ${framework} adapter snippet is the example, verbatim`, async () => {
    const example = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const snippet = new RegExp(`// --- ${framework} ---\\n([\\s\\S]*?)// --- end ${framework} ---`).exec(example)?.[1];
    assert.ok(snippet, `${file} has the ${framework} markers`);
    assert.ok(readme.includes(`\`\`\`ts\n${snippet}\`\`\``), `README.md contains the ${framework} snippet verbatim`);
  });
}
