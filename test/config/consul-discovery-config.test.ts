/**
 * `discovery: { type: 'consul' }` in the schema and in resolution: its defaults (the service's
 * own name, passing instances only), strict keys reported against the Consul kind (not DNS's),
 * and a switch between discovery kinds starting from the new kind's defaults.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigIssue, isMeshError } from '../../src/core/errors.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';

const resolveOne = (bootstrap: unknown, control?: unknown) =>
  resolveConfig({ bootstrap: validateMeshConfig(bootstrap), control: control === undefined ? undefined : validateMeshConfig(control) }).services.get('payments')!;

function issuesOf(document: unknown): readonly ConfigIssue[] {
  try {
    validateMeshConfig(document);
  } catch (error) {
    assert.ok(isMeshError(error) && error.code === 'MESH_CONFIG_INVALID', String(error));
    return error.issues ?? [];
  }
  assert.fail('expected the config to be rejected');
}

const consul = (discovery: Record<string, unknown>) => ({ services: { payments: { discovery: { type: 'consul', ...discovery } } } });

test('consul discovery defaults: the service name, no tags, passing instances only, the agent datacenter', () => {
  assert.deepEqual(resolveOne(consul({})).discovery, { type: 'consul', service: 'payments', tags: [], passingOnly: true, datacenter: undefined });
});

test('consul discovery keeps what the author wrote', () => {
  const policy = resolveOne(consul({ service: 'payments-v2', tags: ['prod', 'eu'], passingOnly: false, datacenter: 'dc2' }));
  assert.deepEqual(policy.discovery, { type: 'consul', service: 'payments-v2', tags: ['prod', 'eu'], passingOnly: false, datacenter: 'dc2' });
});

test('a control level switching dns to consul starts from consul defaults, with no DNS keys left over', () => {
  const policy = resolveOne({ services: { payments: { discovery: { type: 'dns', name: 'payments.internal' } } } }, consul({ tags: ['prod'] }));
  assert.deepEqual(policy.discovery, { type: 'consul', service: 'payments', tags: ['prod'], passingOnly: true, datacenter: undefined });
});

test('a control level over consul discovery merges into it (tags replace)', () => {
  const policy = resolveOne(consul({ service: 'pay', tags: ['a'] }), consul({ tags: ['b'] }));
  assert.deepEqual(policy.discovery, { type: 'consul', service: 'pay', tags: ['b'], passingOnly: true, datacenter: undefined });
});

const rejected: [name: string, discovery: Record<string, unknown>, path: string, fragment: string][] = [
  ['a DNS key on consul discovery', { name: 'payments.internal' }, 'discovery.name', 'unknown key; allowed here: type, service, tags, passingOnly, datacenter'],
  ['a misspelt key', { passingOnyl: true }, 'discovery.passingOnyl', 'did you mean "passingOnly"'],
  ['passingOnly not a boolean', { passingOnly: 'yes' }, 'discovery.passingOnly', 'expected true or false'],
  ['an empty tag', { tags: [''] }, 'discovery.tags.0', 'a tag'],
  ['tags not an array', { tags: 'prod' }, 'discovery.tags', 'expected an array'],
  ['a service name with a slash', { service: 'pay/ments' }, 'discovery.service', 'a Consul service name'],
  ['a datacenter with a space', { datacenter: 'dc 1' }, 'discovery.datacenter', 'a Consul datacenter name'],
];
for (const [name, discovery, path, fragment] of rejected) {
  test(`consul discovery rejects ${name}`, () => {
    const issues = issuesOf(consul(discovery));
    const match = issues.find((issue) => issue.path === `services.payments.${path}` && issue.message.includes(fragment));
    assert.ok(match, `no issue at ${path} containing "${fragment}" in ${JSON.stringify(issues)}`);
  });
}

test('discovery that is not an object says so', () => {
  const issues = issuesOf({ services: { payments: { discovery: 'consul' } } });
  assert.ok(issues.some((i) => i.path === 'services.payments.discovery' && i.message.includes('expected an object')), JSON.stringify(issues));
});

test('dns discovery still reports its own keys', () => {
  const issues = issuesOf({ services: { payments: { discovery: { type: 'dns', name: 'x.internal', tags: ['a'] } } } });
  assert.ok(issues.some((i) => i.path === 'services.payments.discovery.tags' && i.message.includes('unknown key')), JSON.stringify(issues));
});
