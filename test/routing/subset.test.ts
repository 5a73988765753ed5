import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointAddress } from '../../src/core/endpoint.ts';
import { compileSubset, compileSubsets, selectEndpoints, type Subset, type SubsetSpec } from '../../src/routing/subset.ts';

function endpoint(port: number, tags: string[], meta: Record<string, string> = {}): EndpointAddress {
  return { id: `127.0.0.1:${port}`, protocol: 'http', host: '127.0.0.1', port, weight: 1, tags, meta };
}

const fleet = [endpoint(9001, ['v1']), endpoint(9002, ['v1', 'canary'], { version: '1' }), endpoint(9003, ['v2'], { version: '2' }), endpoint(9004, ['V2'], { version: '2', zone: 'b' })];

function subset(spec: SubsetSpec): Subset {
  const result = compileSubset('s', spec, 'services.api.subsets.s');
  assert.ok('subset' in result, JSON.stringify(result));
  return result.subset;
}

const ports = (s: Subset): number[] => selectEndpoints(s, fleet).map((e) => e.port);

test('{ tags }: every tag must be on the endpoint, case-sensitive', () => {
  assert.deepEqual(ports(subset({ tags: ['v1'] })), [9001, 9002]);
  assert.deepEqual(ports(subset({ tags: ['v1', 'canary'] })), [9002]);
  assert.deepEqual(ports(subset({ tags: ['v2'] })), [9003]);
});

test('{ meta }: every key must have exactly that value; tags and meta combine', () => {
  assert.deepEqual(ports(subset({ meta: { version: '2' } })), [9003, 9004]);
  assert.deepEqual(ports(subset({ meta: { version: '2', zone: 'b' } })), [9004]);
  assert.deepEqual(ports(subset({ tags: ['V2'], meta: { version: '2' } })), [9004]);
});

test('{ filter }: a Consul bexpr over the fields an endpoint keeps', () => {
  assert.deepEqual(ports(subset({ filter: 'Service.Meta.version == 2' })), [9003, 9004]);
  assert.deepEqual(ports(subset({ filter: 'Service.Tags contains canary or Service.Port == 9001' })), [9001, 9002]);
  assert.equal(subset({ filter: 'Service.Port == 9003', onlyPassing: true }).onlyPassing, true);
});

test('a filter naming a field endpoints do not keep, an empty selector, or bad syntax is refused with its path', () => {
  const nodeField = compileSubset('s', { filter: 'Node.Meta.zone == a' }, 'services.api.subsets.s');
  assert.ok('issue' in nodeField);
  assert.equal(nodeField.issue.path, 'services.api.subsets.s.filter');
  assert.match(nodeField.issue.message, /cannot be evaluated on endpoints: at offset 0: unknown selector Node\.Meta\.zone/);
  try {
    compileSubsets({ ok: { tags: ['v1'] }, empty: {}, broken: { filter: 'Service.Tags ==' } }, 'services.api.subsets');
    assert.fail('expected MESH_CONFIG_INVALID');
  } catch (error) {
    const e = error as { code: string; issues: { path: string }[] };
    assert.equal(e.code, 'MESH_CONFIG_INVALID');
    assert.deepEqual(
      e.issues.map((i) => i.path),
      ['services.api.subsets.empty', 'services.api.subsets.broken.filter'],
    );
  }
});
