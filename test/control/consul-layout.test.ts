import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { documentFromEntries, entriesFromDocument, formatOfValue, locateIssues, serviceKey } from '../../src/control/consul-layout.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';
import { configIssuesOfRejection } from '../support/mesh-error.ts';

const entry = (key: string, value: string | null) => ({ key, value: value === null ? null : Buffer.from(value) });

test('defaults and services keys, in JSON and YAML, make one document', async () => {
  const { document } = await documentFromEntries('/meshlet/', [
    entry('meshlet/', null),
    entry('meshlet/services/', null),
    entry('meshlet/defaults', '{"timeout": "2s"}'),
    entry('meshlet/services/payments', 'timeout: 1s\nretry:\n  attempts: 3\n'),
    entry('meshlet/services/pay.v2', '  {"endpoints": ["127.0.0.1:1"]}'),
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(document)), {
    defaults: { timeout: '2s' },
    services: { 'pay.v2': { endpoints: ['127.0.0.1:1'] }, payments: { timeout: '1s', retry: { attempts: 3 } } },
  });
});

test('no keys under the prefix is an empty document (the bootstrap config alone)', async () => {
  assert.deepEqual((await documentFromEntries('meshlet', [])).document, {});
});

test('a value starting with { is JSON, anything else YAML', () => {
  assert.equal(formatOfValue(' \n{"a":1}'), 'json');
  assert.equal(formatOfValue('a: 1'), 'yaml');
  assert.equal(formatOfValue('- 1'), 'yaml');
});

test('unknown keys, empty values and parse errors each name their key', async () => {
  const issues = await configIssuesOfRejection(
    documentFromEntries('meshlet', [
      entry('meshlet/service/payments', '{}'),
      entry('meshlet/services/payments/extra', '{}'),
      entry('meshlet/services/empty', ''),
      entry('meshlet/services/badjson', '{"timeout": "1s"'),
      entry('meshlet/services/badyaml', 'timeout: [1s\n'),
      entry('meshlet/services/fine', 'timeout: 1s'),
    ]),
  );
  const byKey = new Map(issues.map((issue) => [issue.path, issue.message]));
  assert.match(byKey.get('meshlet/service/payments') ?? '', /not part of meshlet's KV layout/);
  assert.match(byKey.get('meshlet/services/payments/extra') ?? '', /not part of meshlet's KV layout/);
  assert.match(byKey.get('meshlet/services/empty') ?? '', /is empty/);
  assert.match(byKey.get('meshlet/services/badjson') ?? '', /not valid JSON/);
  assert.match(byKey.get('meshlet/services/badyaml') ?? '', /YAML/);
  assert.equal(byKey.has('meshlet/services/fine'), false);
});

test('validation issues are located at their key and the path inside it', async () => {
  const { document, keyOf } = await documentFromEntries('meshlet', [
    entry('meshlet/defaults', '{"retry": {"attempts": 99}}'),
    entry('meshlet/services/pay.v2', 'retry:\n  attempts: 0\n'),
  ]);
  let rejected: unknown;
  try {
    validateMeshConfig(document);
  } catch (error) {
    rejected = error;
  }
  assert.ok(isMeshError(rejected));
  const located = locateIssues(rejected, keyOf);
  const paths = (located.issues ?? []).map((issue) => issue.path).sort();
  assert.deepEqual(paths, ['meshlet/defaults: retry.attempts', 'meshlet/services/pay.v2: retry.attempts']);
  assert.match(located.message, /meshlet\/services\/pay\.v2: retry\.attempts: /);
  assert.equal(keyOf('services'), 'meshlet/services/');
  assert.equal(keyOf(''), 'meshlet/');
});

test('a document becomes one JSON value per key, and reads back the same', async () => {
  const document = { defaults: { timeout: '2s' }, services: { payments: { retry: { attempts: 3 } } } };
  const entries = entriesFromDocument('meshlet', document);
  assert.deepEqual([...entries.keys()], ['meshlet/defaults', serviceKey('meshlet', 'payments')]);
  const back = await documentFromEntries('meshlet', [...entries].map(([key, value]) => entry(key, value)));
  assert.deepEqual(JSON.parse(JSON.stringify(back.document)), document);
  assert.throws(() => entriesFromDocument('meshlet', { servces: {} }), /servces: has no place in Consul KV/);
});
