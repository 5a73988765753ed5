/**
 * What Consul's entries ask for that meshlet cannot do as asked, against the emulator with
 * real loopback backends: a route target naming a service meshlet is not configured for fails
 * its calls with MESH_UNKNOWN_SERVICE saying what to add (Consul may name any catalog service;
 * it used to be MESH_CLOSED "endpoints closed"), and is reported in state() and config-rejected
 * when the entries are read; a resolver's ConnectTimeout equal to the
 * service's pool.connectTimeout is honoured (no report), another one reported; OnlyPassing is
 * honoured under discovery's default passingOnly and reported under `passingOnly: false`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMesh, type Mesh, type MeshConfig } from '../../src/index.ts';
import { consulForTests } from '../support/consul.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { eventually } from '../support/waits.ts';
import { registrationOf } from './consul-discovery-harness.ts';

interface ServiceState {
  routing: string | null;
  consulEntries?: { unsupported: { path: string }[] };
}

describe("routing by Consul's entries: what meshlet cannot do as asked", () => {
  const suite = consulSuite(consulForTests);
  const putEntry = async (entry: Record<string, unknown>): Promise<void> => {
    const res = await call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
    assert.equal(res.status, 200, res.body);
  };
  const unsupported = (mesh: Mesh, name: string): string[] => ((mesh.state().services as Record<string, ServiceState>)[name]!.consulEntries?.unsupported ?? []).map((u) => u.path);
  const routing = (mesh: Mesh, name: string): string | null => (mesh.state().services as Record<string, ServiceState>)[name]!.routing;
  async function meshOver(name: string, service: NonNullable<MeshConfig['services']>[string]): Promise<Mesh> {
    const backend = await suite.backend();
    await suite.consul.catalog.register(registrationOf(backend, name, `${name}-1`, { Meta: { version: '1' } }));
    return suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: { [name]: service } } }));
  }

  it('regression: a split to a service meshlet is not configured for fails with MESH_UNKNOWN_SERVICE saying what to add, not MESH_CLOSED', async () => {
    await putEntry({ Kind: 'service-splitter', Name: 'front', Splits: [{ Weight: 100, Service: 'ghost' }] });
    const mesh = await meshOver('front', { discovery: { type: 'consul' } });
    assert.equal(routing(mesh, 'front'), 'consul');
    const error = await expectMeshError(mesh.client('front').request({ path: '/' }), 'MESH_UNKNOWN_SERVICE');
    assert.match(error.message, /routed to 'ghost', which names no service in meshlet's config.*add services\.ghost with discovery \{ type: 'consul' \}/);
    assert.deepEqual(unsupported(mesh, 'front'), ['targets/ghost'], 'reported before any call fails');
  });

  it("a resolver's ConnectTimeout equal to the pool's is honoured; another is reported", async () => {
    await putEntry({ Kind: 'service-resolver', Name: 'conn', ConnectTimeout: '3s', DefaultSubset: 'one', Subsets: { one: { Filter: 'Service.Meta.version == 1' } } });
    const same = await meshOver('conn', { discovery: { type: 'consul' }, pool: { connectTimeout: '3s' } });
    assert.equal(routing(same, 'conn'), 'consul');
    assert.deepEqual(unsupported(same, 'conn'), []);
    const other = suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: { conn: { discovery: { type: 'consul' } } } } }));
    assert.deepEqual(unsupported(other, 'conn'), ['service-resolver/conn.ConnectTimeout']);
  });

  it('OnlyPassing is honoured over passing-only discovery, and reported when discovery keeps warning instances', async () => {
    await putEntry({ Kind: 'service-resolver', Name: 'strict', DefaultSubset: 'one', Subsets: { one: { Filter: 'Service.Meta.version == 1', OnlyPassing: true } } });
    const passing = await meshOver('strict', { discovery: { type: 'consul' } });
    assert.deepEqual(unsupported(passing, 'strict'), []);
    const warning = suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: { strict: { discovery: { type: 'consul', passingOnly: false } } } } }));
    await eventually(() => routing(warning, 'strict') === 'consul', 'the resolver to apply');
    assert.deepEqual(unsupported(warning, 'strict'), ['service-resolver/strict.Subsets.one.OnlyPassing']);
  });
});
