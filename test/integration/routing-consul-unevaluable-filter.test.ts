/**
 * Regression (issue 11 review): a service-resolver subset whose Filter is valid bexpr but
 * selects on a field endpoints do not keep (`Node.Meta.rack == a`) is reported as not honoured
 * ("the rest of the routing applies"), yet the route runtime then compiled the same filter
 * again and threw MESH_CONFIG_INVALID while building the service: createMesh failed outright
 * when the entry was there at start, and an entry written later left the service unrouted
 * (its DefaultSubset and splits ignored). Now such a subset selects no endpoint (its calls
 * fail over, or find no endpoint) and the rest of the entries apply.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { consulForTests } from '../support/consul.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { registrationOf } from './consul-discovery-harness.ts';

interface ServiceState {
  routing: string | null;
  consulEntries?: { unsupported: { path: string }[] };
}

describe("routing by Consul's entries: a subset Filter on a field endpoints do not keep", () => {
  const suite = consulSuite(consulForTests);
  const putEntry = async (entry: Record<string, unknown>): Promise<void> => {
    const res = await call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
    assert.equal(res.status, 200, res.body);
  };
  const stateOf = (mesh: Mesh, name: string) => (mesh.state().services as Record<string, ServiceState>)[name]!;

  async function versions(name: string): Promise<{ v1: Backend; v2: Backend }> {
    const v1 = await suite.backend(() => startBackend());
    const v2 = await suite.backend(() => startBackend());
    await suite.consul.catalog.register(registrationOf(v1, name, `${name}-v1`, { Meta: { version: '1' } }));
    await suite.consul.catalog.register(registrationOf(v2, name, `${name}-v2`, { Meta: { version: '2' } }));
    return { v1, v2 };
  }
  const resolverOf = (name: string) => ({
    Kind: 'service-resolver',
    Name: name,
    DefaultSubset: 'v1',
    Subsets: { v1: { Filter: 'Service.Meta.version == 1' }, rack: { Filter: 'Node.Meta.rack == a' } },
  });
  const meshFor = async (name: string): Promise<Mesh> =>
    suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: { [name]: { discovery: { type: 'consul' } } } } }));
  async function callsTo(mesh: Mesh, name: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const res = await mesh.client(name).request({ path: '/' });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
  }

  it('read at start: the mesh starts, the filter is reported, and the DefaultSubset applies', async () => {
    const { v1, v2 } = await versions('rackstart');
    await putEntry(resolverOf('rackstart'));
    const mesh = await meshFor('rackstart');
    assert.equal(stateOf(mesh, 'rackstart').routing, 'consul');
    assert.deepEqual(stateOf(mesh, 'rackstart').consulEntries!.unsupported.map((u) => u.path), ['service-resolver/rackstart.Subsets.rack.Filter']);
    await callsTo(mesh, 'rackstart', 20);
    assert.deepEqual([v1.received.length, v2.received.length], [20, 0]);
  });

  it('written while the mesh runs: the DefaultSubset applies', async () => {
    const { v1, v2 } = await versions('racklater');
    const mesh = await meshFor('racklater');
    await putEntry(resolverOf('racklater'));
    await eventually(() => stateOf(mesh, 'racklater').routing === 'consul', 'the resolver to apply');
    await callsTo(mesh, 'racklater', 20);
    assert.deepEqual([v1.received.length, v2.received.length], [20, 0]);
  });

  it('a split to the unevaluable subset finds no endpoint there: its calls fail over to the resolver\'s Failover', async () => {
    const { v1, v2 } = await versions('racksplit');
    await putEntry({ ...resolverOf('racksplit'), Failover: { rack: { ServiceSubset: 'v1' } } });
    await putEntry({ Kind: 'service-splitter', Name: 'racksplit', Splits: [{ Weight: 100, ServiceSubset: 'rack' }] });
    const mesh = await meshFor('racksplit');
    await callsTo(mesh, 'racksplit', 20);
    assert.deepEqual([v1.received.length, v2.received.length], [20, 0], 'never an endpoint the filter may not select');
  });
});
