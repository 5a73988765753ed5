/**
 * A service routed by Consul's config entries (a service-resolver with subsets and a splitter
 * over them) is refused by mesh.grpc() as one with `routes` is (routing-refusal.ts), the error
 * naming Consul's entries as where the routing comes from: gRPC calls would not apply the split.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/transport/grpc/index.ts';
import { createMesh, isMeshError } from '../../src/index.ts';
import { consulForTests } from '../support/consul.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { InventoryClient, startInventoryServer } from './inventory-server.ts';

describe("grpc and Consul's routing entries", () => {
  const suite = consulSuite(consulForTests);

  it("mesh.grpc() refuses a service Consul's config entries route, naming them", async () => {
    const server = await startInventoryServer('v1');
    try {
      await suite.consul.catalog.register({ Name: 'inventory', ID: 'inventory-1', Address: '127.0.0.1', Port: server.port, Meta: { version: '1' } });
      for (const entry of [
        { Kind: 'service-resolver', Name: 'inventory', DefaultSubset: 'v1', Subsets: { v1: { Filter: 'Service.Meta.version == 1' }, v2: { Filter: 'Service.Meta.version == 2' } } },
        { Kind: 'service-splitter', Name: 'inventory', Splits: [{ Weight: 90, ServiceSubset: 'v1' }, { Weight: 10, ServiceSubset: 'v2' }] },
      ]) {
        const res = await call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
        assert.equal(res.status, 200, res.body);
      }
      const mesh = suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: { inventory: { discovery: { type: 'consul' } } } } }));
      assert.equal((mesh.state().services as Record<string, { routing: string | null }>).inventory!.routing, 'consul');
      assert.throws(
        () => mesh.grpc('inventory', InventoryClient),
        (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && /Consul's config entries/.test(error.message),
      );
    } finally {
      server.kill();
    }
  });
});
