/**
 * A large YAML text from a store is parsed on a worker thread (the yaml package needs 100 to
 * 200 ms for a config at the endpoint limits). What comes back must be what parsing in place
 * gives: the same document, the same refusals with the same issues, `__proto__` still plain
 * data; and the loop stays free meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { parseConfigText, parseConfigTextOffThread } from '../../src/config/parse.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';

/** A YAML config of `services` services of 1,000 endpoints each (about 21 KB a service). */
function largeYaml(services: number, extra = ''): string {
  const lines = ['services:'];
  for (let s = 0; s < services; s++) {
    lines.push(`  svc-${s}:`, '    endpoints:');
    for (let i = 0; i < 1000; i++) lines.push(`      - 10.${s}.${i >> 8}.${i & 255}:80`);
  }
  return `${lines.join('\n')}\n${extra}`;
}

async function outcome(parse: () => unknown): Promise<unknown> {
  try {
    return { document: await parse() };
  } catch (error) {
    assert.ok(isMeshError(error), String(error));
    return { code: error.code, message: error.message, issues: error.issues };
  }
}

async function assertSameAsInPlace(text: string): Promise<unknown> {
  const inPlace = await outcome(() => parseConfigText(text, 'yaml', 'file:mesh.yaml'));
  const offThread = await outcome(() => parseConfigTextOffThread(text, 'yaml', 'file:mesh.yaml'));
  assert.deepEqual(offThread, inPlace);
  return offThread;
}

function threadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

test('a YAML config at the endpoint limits parses off the loop, to the document parsing in place gives', async (t) => {
  const text = largeYaml(10);
  let last = threadCpuMs();
  let busiest = 0;
  const ticker = setInterval(() => {
    const now = threadCpuMs();
    busiest = Math.max(busiest, now - last);
    last = now;
  }, 1);
  try {
    await new Promise((resolve) => setTimeout(resolve, 5));
    last = threadCpuMs();
    const document = (await parseConfigTextOffThread(text, 'yaml')) as { services: Record<string, { endpoints: string[] }> };
    assert.equal(document.services['svc-9']!.endpoints.length, 1000);
    t.diagnostic(`${text.length} characters of YAML parsed on a worker; the busiest tick of this thread took ${busiest.toFixed(1)} ms of CPU`);
    assert.ok(busiest < 50, `this thread was busy for ${busiest.toFixed(1)} ms between two ticks`);
  } finally {
    clearInterval(ticker);
  }
  await assertSameAsInPlace(text);
});

test('refusals off the thread carry the same message and issues: syntax, duplicate keys, alias expansion', async () => {
  const syntax = (await assertSameAsInPlace(largeYaml(1, '  broken: [\n'))) as { issues: { message: string }[] };
  assert.match(syntax.issues[0]!.message, /YAML error at line \d+, column \d+/);
  const duplicate = (await assertSameAsInPlace(largeYaml(1, '  svc-0: {}\n'))) as { issues: { message: string }[] };
  assert.match(duplicate.issues[0]!.message, /unique/);
  const aliased = `${largeYaml(1).replace('    endpoints:\n', '    endpoints: &all\n')}${Array.from({ length: 20 }, (_, i) => `  copy-${i}: { endpoints: *all }`).join('\n')}\n`;
  const expanded = (await assertSameAsInPlace(aliased)) as { issues: { message: string }[] };
  assert.match(expanded.issues[0]!.message, /expand to 20000 more values/);
});

test('a __proto__ key parsed off the thread is still plain data, and still refused', async () => {
  const text = largeYaml(1, '  __proto__:\n    endpoints: ["127.0.0.1:1"]\n');
  const document = (await parseConfigTextOffThread(text, 'yaml')) as { services: object };
  assert.ok(Object.hasOwn(document.services, '__proto__'));
  assert.equal(Object.getPrototypeOf(document.services), Object.prototype);
  assert.throws(
    () => validateMeshConfig(document),
    (error: unknown) => isMeshError(error) && error.issues?.some((issue) => issue.path === 'services.__proto__') === true,
  );
});
