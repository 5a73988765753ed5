/**
 * A service's breaker, rate limit and concurrency limit are the service's (DESIGN §2), whichever
 * protocol calls it: HTTP calls (mesh.fetch) and gRPC calls (mesh.grpc) to one service judge one
 * state, and mesh.state() shows it once. The HTTP calls here go to the gRPC servers' ports, where
 * they fail (an HTTP/1.1 request to an HTTP/2-only server): a failure streak of either protocol.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh, isMeshError, type Mesh } from '../../src/index.ts';
import type { MeshConfigInput } from '../../src/config/schema.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

type Policy = NonNullable<MeshConfigInput['services']>[string];

async function meshOver(policy: Policy, handlers = {}): Promise<{ mesh: Mesh; client: Any; server: InventoryServer }> {
  const server = await startInventoryServer('s0', handlers);
  servers.push(server);
  const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], retry: false, ...policy } } } });
  return { mesh, client: mesh.grpc('inventory', InventoryClient), server };
}

/** An HTTP call's failure: its MeshError code. */
async function httpFailure(mesh: Mesh): Promise<string> {
  const settled = await settle(mesh.fetch('http://inventory/items'));
  assert.equal(settled.ok, false, 'the HTTP call to a gRPC port was expected to fail');
  return (settled as { error: { code?: string } }).error.code ?? String((settled as { error: unknown }).error);
}

async function grpcFailure(pending: Promise<unknown>): Promise<grpc.ServiceError & { cause?: unknown }> {
  const settled = await settle(pending);
  assert.equal(settled.ok, false, 'the gRPC call was expected to fail');
  return (settled as { error: grpc.ServiceError }).error;
}

const failing = { GetItem: (_call: unknown, callback: (error: unknown) => void) => callback({ code: grpc.status.INTERNAL, details: 'failing on purpose' }) };

describe('grpc and http share the service-wide layers', () => {
  it('one breaker: gRPC failures open it and HTTP calls then fail fast; a mixed failure streak trips it too', async () => {
    const breaker = { errorRate: 0.5, minRequests: 4, window: '10s', openFor: '5s' };
    const { mesh, client, server } = await meshOver({ breaker }, failing);
    const mixed = await meshOver({ breaker }, failing);
    try {
      for (let i = 0; i < 4; i++) assert.equal((await grpcFailure(unary(client, 'GetItem', { id: `${i}` }))).code, grpc.status.INTERNAL);
      // Opened by gRPC failures: an HTTP call is refused without being sent.
      assert.equal(await httpFailure(mesh), 'MESH_CIRCUIT_OPEN');
      const open = await grpcFailure(unary(client, 'GetItem', { id: 'open' }));
      assert.ok(isMeshError(open.cause) && open.cause.code === 'MESH_CIRCUIT_OPEN');
      assert.equal(server.calls.GetItem, 4);
      // One breaker in mesh.state(), counting both protocols' calls.
      const state = (mesh.state() as Any).services.inventory.breaker;
      assert.equal(state.state, 'open');
      assert.equal(state.failures, 4);
      assert.equal(state.rejects, 2);

      // Two failures of each protocol make the streak.
      for (let i = 0; i < 2; i++) assert.notEqual(await httpFailure(mixed.mesh), 'MESH_CIRCUIT_OPEN');
      for (let i = 0; i < 2; i++) assert.equal((await grpcFailure(unary(mixed.client, 'GetItem', { id: `${i}` }))).code, grpc.status.INTERNAL);
      assert.equal((mixed.mesh.state() as Any).services.inventory.breaker.state, 'open');
      assert.equal(await httpFailure(mixed.mesh), 'MESH_CIRCUIT_OPEN');
    } finally {
      client.close();
      mixed.client.close();
      await mesh.close();
      await mixed.mesh.close();
    }
  });

  it("one rate limit: tokens HTTP calls spend are gone for gRPC calls and the other way round", async () => {
    const { mesh, client } = await meshOver({ breaker: false, rateLimit: { rps: 0.001, burst: 2 } });
    try {
      assert.equal((await unary<Item>(client, 'GetItem', { id: 'a' })).server, 's0');
      // Admitted (then failed at the gRPC port): the second token.
      assert.notEqual(await httpFailure(mesh), 'MESH_RATE_LIMITED');
      const limited = await grpcFailure(unary(client, 'GetItem', { id: 'b' }));
      assert.equal(limited.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.ok(isMeshError(limited.cause) && limited.cause.code === 'MESH_RATE_LIMITED');
      assert.equal(await httpFailure(mesh), 'MESH_RATE_LIMITED');
      const state = (mesh.state() as Any).services.inventory['rate-limit'];
      assert.equal(state.admitted, 2);
      assert.equal(state.shed, 2);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('one concurrency limit: a gRPC call holding the only slot refuses an HTTP call', async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { mesh, client } = await meshOver(
      { breaker: false, concurrency: { max: 1, queue: 0 } },
      { GetItem: (call: Any, callback: Any) => void held.then(() => callback(null, { id: call.request.id, server: 's0' })) },
    );
    try {
      const slow = unary<Item>(client, 'GetItem', { id: 'slow' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await httpFailure(mesh), 'MESH_CONCURRENCY_LIMIT');
      release!();
      assert.equal((await slow).id, 'slow');
    } finally {
      release!();
      client.close();
      await mesh.close();
    }
  });
});
