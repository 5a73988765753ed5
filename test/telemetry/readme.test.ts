/**
 * The README's Observability set-up is examples/observability.ts, verbatim (the example is
 * type-checked, so the snippet cannot rot), and the section names every channel and
 * instrument meshlet publishes.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

it('README Observability snippet is examples/observability.ts, verbatim', async () => {
  const example = await readFile(new URL('../../examples/observability.ts', import.meta.url), 'utf8');
  const snippet = /\/\/ --- observability ---\n([\s\S]*?)\/\/ --- end observability ---/.exec(example)?.[1];
  assert.ok(snippet, 'examples/observability.ts has the observability markers');
  assert.ok(readme.includes(`\`\`\`ts\n${snippet}\`\`\``), 'README.md contains the observability snippet verbatim');
});

it('README Observability names every channel and every instrument', async () => {
  const channels = await readFile(new URL('../../src/telemetry/channels.ts', import.meta.url), 'utf8');
  const metrics = await readFile(new URL('../../src/telemetry/otel-metrics.ts', import.meta.url), 'utf8');
  const names = [...channels.matchAll(/channel\('(meshlet:[a-z:]+)'\)/g), ...metrics.matchAll(/create(?:Histogram|Counter|ObservableGauge|ObservableCounter)\('([\w.]+)'/g)].map((match) => match[1]!);
  assert.ok(names.length >= 20, `found ${names.length} names`);
  for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README does not name ${name}`);
});
