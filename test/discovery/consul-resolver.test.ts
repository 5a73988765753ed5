/**
 * The Consul resolver against the emulator, below the mesh: what a health answer becomes
 * (address fallback, weights, tags and meta, bad registrations skipped and named), that
 * resolvers asking the same question share one blocking query, and that the last subscriber
 * leaving stops it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openBlockingQueries } from '../../src/consul/blocking-watch.ts';
import type { EndpointAddress } from '../../src/core/endpoint.ts';
import { ConsulResolver, type ConsulDiscoveryPolicy } from '../../src/discovery/consul-resolver.ts';
import { sharedHealthWatches } from '../../src/discovery/consul-health-watch.ts';
import type { ResolverListener } from '../../src/discovery/resolver.ts';
import { type ConsulEmulator, startConsulEmulator } from '../support/consul-emulator/index.ts';
import { eventually } from '../support/waits.ts';

interface Recorded extends ResolverListener {
  readonly updates: (readonly EndpointAddress[])[];
  readonly errors: Error[];
  readonly warnings: Error[];
}

function recorder(): Recorded {
  const updates: (readonly EndpointAddress[])[] = [];
  const errors: Error[] = [];
  const warnings: Error[] = [];
  return { updates, errors, warnings, update: (e) => updates.push(e), error: (e) => errors.push(e), warning: (e) => warnings.push(e) };
}

const policy = (over: Partial<ConsulDiscoveryPolicy> = {}): ConsulDiscoveryPolicy => ({
  type: 'consul',
  service: 'api',
  tags: [],
  passingOnly: true,
  datacenter: undefined,
  ...over,
});

describe('ConsulResolver', () => {
  let consul: ConsulEmulator;
  before(async () => {
    consul = await startConsulEmulator();
  });
  after(() => consul.close());

  const resolver = (discovery: ConsulDiscoveryPolicy, protocol: 'http' | 'https' = 'http') =>
    new ConsulResolver({ name: discovery.service, discovery, protocol, agent: () => ({ url: consul.url }) });

  it('turns each instance into an endpoint: service address, else the node address; weights; tags and meta', async () => {
    await consul.catalog.register({ Name: 'shape', ID: 'a', Address: '10.0.0.1', Port: 8080, Tags: ['v1'], Meta: { zone: 'eu' }, Weights: { Passing: 7, Warning: 1 } });
    await consul.catalog.register({ Name: 'shape', ID: 'b', Port: 8081 });
    const listener = recorder();
    const r = resolver(policy({ service: 'shape' }), 'https');
    try {
      await r.start(listener);
      const last = listener.updates.at(-1)!;
      assert.deepEqual(
        last.map((e) => [e.id, e.weight, e.tags, e.meta]),
        [
          ['https://10.0.0.1:8080', 7, ['v1'], { zone: 'eu' }],
          // No Service.Address: the emulator's node address (Consul's "use the node's").
          ['https://127.0.0.1:8081', 1, [], {}],
        ],
      );
      assert.deepEqual(r.state().endpointsFrom, 'consul');
    } finally {
      await r.close();
    }
  });

  it('skips an instance it cannot use and names it, using the others', async () => {
    await consul.catalog.register({ Name: 'bad', ID: 'good', Address: '127.0.0.1', Port: 9000 });
    await consul.catalog.register({ Name: 'bad', ID: 'slash', Address: 'host/with/path', Port: 9001 });
    const listener = recorder();
    const r = resolver(policy({ service: 'bad' }));
    try {
      await r.start(listener);
      assert.deepEqual(listener.updates.at(-1)!.map((e) => e.id), ['127.0.0.1:9000']);
      assert.deepEqual((r.state().skipped as { id: string }[]).map((s) => s.id), ['slash']);
      assert.match(listener.warnings[0]?.message ?? '', /slash: address "host\/with\/path" is not an IP address or host name/);
    } finally {
      await r.close();
    }
  });

  it('with passingOnly false, a warning instance stays at its warning weight; a critical one leaves', async () => {
    const check = (id: string) => ({ CheckID: `service:${id}`, TTL: '10m', Status: 'passing' });
    await consul.catalog.register({ Name: 'warn', ID: 'w1', Address: '127.0.0.1', Port: 9101, Weights: { Passing: 10, Warning: 2 }, Check: check('w1') });
    await consul.catalog.register({ Name: 'warn', ID: 'w2', Address: '127.0.0.1', Port: 9102, Check: check('w2') });
    const listener = recorder();
    const r = resolver(policy({ service: 'warn', passingOnly: false }));
    try {
      await r.start(listener);
      await consul.catalog.setCheck('service:w1', 'warning');
      await eventually(() => listener.updates.at(-1)?.find((e) => e.port === 9101)?.weight === 2, 'w1 at its warning weight');
      await consul.catalog.setCheck('service:w2', 'critical');
      await eventually(() => listener.updates.at(-1)?.length === 1, 'w2 gone');
      assert.deepEqual(listener.updates.at(-1)!.map((e) => e.port), [9101]);
    } finally {
      await r.close();
    }
  });

  it('asks the datacenter the policy names, and reports Consul refusing an unknown one', async () => {
    await consul.catalog.register({ Name: 'dc', ID: 'dc-1', Address: '127.0.0.1', Port: 9301 });
    const known = resolver(policy({ service: 'dc', datacenter: 'dc1' }));
    const unknown = resolver(policy({ service: 'dc', datacenter: 'dc9' }));
    const listener = recorder();
    const refused = recorder();
    try {
      await known.start(listener);
      assert.deepEqual(listener.updates.at(-1)!.map((e) => e.port), [9301]);
      assert.ok(consul.requests.some((r) => r.path === '/v1/health/service/dc' && new URLSearchParams(r.query).get('dc') === 'dc1'));
      await unknown.start(refused);
      assert.equal(refused.updates.length, 0);
      assert.match(refused.errors[0]?.message ?? '', /Consul discovery of dc failed: .*500.*no endpoints yet/);
      assert.equal(unknown.state().status, 'unavailable');
    } finally {
      await known.close();
      await unknown.close();
    }
  });

  it('follows changes after a snapshot restore (the index goes backwards) and while every answer says index 0', async () => {
    await consul.catalog.register({ Name: 'restored', ID: 'r1', Address: '127.0.0.1', Port: 9401 });
    const listener = recorder();
    const r = resolver(policy({ service: 'restored' }));
    try {
      await r.start(listener);
      // Restored under a parked query, which wakes with the lower index: the watch must start over at 0.
      // (A query sent after the restore with the old, higher index waits out its `wait`, in Consul too.)
      await eventually(() => consul.openBlockingQueries === 1, 'the watch parked');
      consul.faults.restoreSnapshot();
      await consul.catalog.register({ Name: 'restored', ID: 'r2', Address: '127.0.0.1', Port: 9402 });
      await eventually(() => listener.updates.at(-1)?.length === 2, 'r2 after the restore');
      consul.faults.zeroIndex(true);
      await eventually(() => consul.openBlockingQueries === 1, 'the watch parked again');
      await consul.catalog.register({ Name: 'restored', ID: 'r3', Address: '127.0.0.1', Port: 9403 });
      await eventually(() => listener.updates.at(-1)?.length === 3, 'r3 under index 0');
      assert.deepEqual(listener.errors, []);
    } finally {
      consul.faults.zeroIndex(false);
      await r.close();
    }
  });

  it('resolvers asking the same question share one blocking query; the last to close stops it', async () => {
    await consul.catalog.register({ Name: 'shared', ID: 's1', Address: '127.0.0.1', Port: 9201 });
    const before = openBlockingQueries();
    const resolvers = [resolver(policy({ service: 'shared' })), resolver(policy({ service: 'shared' })), resolver(policy({ service: 'shared' }))];
    const listeners = resolvers.map(() => recorder());
    try {
      await Promise.all(resolvers.map((r, i) => r.start(listeners[i]!)));
      assert.equal(openBlockingQueries() - before, 1);
      await eventually(() => consul.openBlockingQueries === 1, 'one query parked in the emulator');
      for (const l of listeners) assert.deepEqual(l.updates.at(-1)!.map((e) => e.port), [9201]);
      // Another tag is another question.
      const tagged = resolver(policy({ service: 'shared', tags: ['x'] }));
      await tagged.start(recorder());
      assert.equal(openBlockingQueries() - before, 2);
      await tagged.close();
      assert.equal(openBlockingQueries() - before, 1);
      await resolvers[0]!.close();
      await resolvers[1]!.close();
      assert.equal(openBlockingQueries() - before, 1, 'one subscriber left keeps the watch');
      await consul.catalog.register({ Name: 'shared', ID: 's2', Address: '127.0.0.1', Port: 9202 });
      await eventually(() => listeners[2]!.updates.at(-1)?.length === 2, 'the remaining subscriber still hears changes');
    } finally {
      for (const r of resolvers) await r.close();
    }
    assert.equal(openBlockingQueries(), before);
    assert.equal(sharedHealthWatches(), 0);
  });
});
