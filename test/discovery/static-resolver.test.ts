/** Static discovery reports the configured list once; createResolver picks by policy type. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServicePolicy, StaticEndpointSpec } from '../../src/config/policy.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { EndpointAddress } from '../../src/core/endpoint.ts';
import { isMeshError } from '../../src/core/errors.ts';
import { createResolver } from '../../src/discovery/create-resolver.ts';
import { DnsResolver } from '../../src/discovery/dns-resolver.ts';
import { StaticResolver } from '../../src/discovery/static-resolver.ts';

function spec(address: string, weight = 1, tags: string[] = [], meta: Record<string, string> = {}): StaticEndpointSpec {
  return { address, weight, tags, meta };
}

describe('StaticResolver', () => {
  it('reports the parsed list once, labels kept, duplicates collapsed', async () => {
    const resolver = new StaticResolver([spec('127.0.0.1:9001', 2, ['v1']), spec('https://10.0.0.7:8443', 1, [], { zone: 'b' }), spec('http://127.0.0.1:9001')]);
    const updates: (readonly EndpointAddress[])[] = [];
    await resolver.start({ update: (list) => updates.push(list), error: () => assert.fail('no errors expected') });
    assert.equal(updates.length, 1);
    assert.deepEqual(
      updates[0]!.map((a) => [a.id, a.weight, a.tags, a.meta]),
      [
        ['127.0.0.1:9001', 2, ['v1'], {}],
        ['https://10.0.0.7:8443', 1, [], { zone: 'b' }],
      ],
    );
    await resolver.close();
  });

  it('fails at construction on a bad address, not on the first call', () => {
    assert.throws(() => new StaticResolver([spec('127.0.0.1')]), (error: unknown) => isMeshError(error) && error.code === 'MESH_CONFIG_INVALID');
  });
});

describe('createResolver', () => {
  it('builds the resolver the discovery policy names', () => {
    const context = { clock: new ManualClock(), consul: { options: () => ({ url: 'http://127.0.0.1:8500' }) } };
    const staticPolicy = { discovery: { type: 'static', endpoints: [spec('127.0.0.1:1')] } } as unknown as ServicePolicy;
    assert.ok(createResolver(staticPolicy, context) instanceof StaticResolver);
    const dnsPolicy = {
      discovery: { type: 'dns', name: 'localhost', port: 80, record: 'a', interval: 1000, protocol: 'http' },
    } as unknown as ServicePolicy;
    assert.ok(createResolver(dnsPolicy, context) instanceof DnsResolver);
  });
});
