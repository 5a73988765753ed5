/**
 * Routes and subsets are not applied to gRPC calls (routing-refusal.ts), and meshlet says so
 * rather than ignoring them: mesh.grpc() refuses a service routed now; a client made before its
 * service became routed keeps calling every endpoint of the service (a routing push is no gRPC
 * outage) and the first call on the routed config reports it (a control-error event, a process
 * warning). Its calls still meet the service's one breaker, the one its route targets' HTTP
 * calls meet (stack/shared-layer.ts).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh, isMeshError } from '../../src/index.ts';
import { type Any, type InventoryServer, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';
import { pushableStore } from '../support/pushable-store.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

const ROUTES = [{ name: 'all', to: [{ service: 'inventory' }] }];

describe('grpc and routed services', () => {
  it('mesh.grpc() refuses a service with routes, saying where the routing comes from', async () => {
    const server = await startInventoryServer('r');
    servers.push(server);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], routes: ROUTES } } } });
    try {
      assert.throws(
        () => mesh.grpc('inventory', InventoryClient),
        (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && /routed by its `routes`/.test(error.message) && /do not apply routes/.test(error.message),
      );
    } finally {
      await mesh.close();
    }
  });

  it('a live client whose service becomes routed goes on, reports it once, and meets the breaker its route targets meet', async () => {
    const server = await startInventoryServer('r', { GetItem: (_call: Any, callback: Any) => callback({ code: grpc.status.INTERNAL, details: 'failing on purpose' }) });
    servers.push(server);
    const store = pushableStore({ services: { inventory: {} } });
    const mesh = await createMesh({ service: 't', control: store, config: { services: { inventory: { endpoints: [server.address], retry: false } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    const reports: Any[] = [];
    mesh.on('control-error', (event) => reports.push(event));
    const warned = once(process, 'warning');
    try {
      assert.equal((await settle(unary(client, 'Reserve', { id: 'before' }))).ok, true);
      const pushed = new Promise<void>((resolve) => {
        const off = mesh.on('config', () => {
          off();
          resolve();
        });
      });
      store.push({ services: { inventory: { routes: ROUTES, breaker: { errorRate: 0.5, minRequests: 3, window: '10s', openFor: '5s' } } } });
      await pushed;
      assert.equal((await settle(unary(client, 'Reserve', { id: 'after' }))).ok, true, 'calls go on over the service');
      // With the call above, three calls of which two failed: the breaker opens.
      for (let i = 0; i < 2; i++) assert.equal(((await settle(unary(client, 'GetItem', { id: `${i}` }))) as Any).error.code, grpc.status.INTERNAL);
      assert.equal((mesh.state() as Any).services.inventory.breaker.state, 'open');
      const http = await settle(mesh.fetch('http://inventory/items'));
      assert.equal(!http.ok && (http.error as Any).code, 'MESH_CIRCUIT_OPEN');
      assert.equal(reports.length, 1, 'reported once for the routed config');
      assert.equal(reports[0].source, 'grpc:inventory');
      assert.match(reports[0].error.message, /do not apply its `routes`/);
      const [warning] = (await warned) as [Error & { code?: string }];
      assert.equal(warning.code, 'MESHLET_GRPC_ROUTES_NOT_APPLIED');
    } finally {
      client.close();
      await mesh.close();
    }
  });
});
