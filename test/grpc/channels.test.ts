/**
 * gRPC calls on meshlet's diagnostics channels (telemetry/channels.ts) as HTTP calls are: one
 * `meshlet:call:start/end` per logical call with the mesh's id, one `meshlet:attempt:start/end`
 * per attempt (a retry is a second attempt of the same call), so the admin page's statistics
 * (admin/call-stats.ts) count them. Before, gRPC calls published nothing and the dashboard
 * showed a gRPC-only service as idle.
 */
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { CallStats } from '../../src/admin/call-stats.ts';
import { meshIdOf } from '../../src/telemetry/mesh-id.ts';
import { watchCall } from '../../src/transport/grpc/grpc-channels.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

function record(names: readonly string[]): { messages: Record<string, Any[]>; stop(): void } {
  const messages: Record<string, Any[]> = {};
  const subscribers = names.map((name) => {
    messages[name] = [];
    const subscriber = (message: unknown): void => {
      messages[name]!.push(message);
    };
    diagnosticsChannel.subscribe(name, subscriber);
    return () => diagnosticsChannel.unsubscribe(name, subscriber);
  });
  return {
    messages,
    stop: () => {
      for (const unsubscribe of subscribers) unsubscribe();
    },
  };
}

describe('grpc calls on the diagnostics channels', () => {
  it('builds nothing for a call while nobody subscribes', () => {
    assert.equal(watchCall(1, 'inventory', { now: () => 0 } as Any, 0), undefined);
    const subscriber = (): void => {};
    diagnosticsChannel.subscribe('meshlet:attempt:end', subscriber);
    try {
      assert.ok(watchCall(1, 'inventory', { now: () => 0 } as Any, 0) !== undefined, 'an attempt subscriber alone is someone');
    } finally {
      diagnosticsChannel.unsubscribe('meshlet:attempt:end', subscriber);
    }
  });

  it('publishes call and attempt start/end with the mesh id: a retried call is one call of two attempts, a server refusal an answer', async () => {
    let failFirst = 1;
    const server = await startInventoryServer('c', {
      GetItem: (call: Any, callback: Any) => (failFirst-- > 0 ? callback({ code: grpc.status.UNAVAILABLE, details: 'once' }) : callback(null, { id: call.request.id, server: 'c' })),
      Reserve: (_call: Any, callback: Any) => callback({ code: grpc.status.NOT_FOUND, details: 'no such item' }),
    });
    servers.push(server);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], retry: { attempts: 3, backoff: { base: '1ms', max: '2ms' } } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    const seen = record(['meshlet:call:start', 'meshlet:call:end', 'meshlet:attempt:start', 'meshlet:attempt:end']);
    try {
      assert.equal((await unary<Item>(client, 'GetItem', { id: 'g' })).server, 'c');
      assert.equal((await settle(unary(client, 'Reserve', { id: 'r' }))).ok, false);
      const id = meshIdOf(mesh);
      assert.ok(id > 0);
      const { messages } = seen;
      assert.equal(messages['meshlet:call:start']!.length, 2);
      const [getItem, reserve] = messages['meshlet:call:end']!;
      assert.deepEqual({ ...getItem, durationMs: 0, startedAt: 0 }, { mesh: id, service: 'inventory', route: undefined, method: 'POST', startedAt: 0, durationMs: 0, statusCode: 200, outcome: 'success', errorCode: undefined, attempts: 2 });
      assert.equal(reserve.outcome, 'success', 'NOT_FOUND is the server answering');
      assert.equal(reserve.attempts, 1);
      const ends = messages['meshlet:attempt:end']!;
      assert.equal(messages['meshlet:attempt:start']!.length, 3);
      assert.deepEqual(
        ends.map((end) => [end.mesh, end.attempt, end.endpoint, end.outcome, end.condition, end.errorType]),
        [
          [id, 1, server.address, 'failure', '503', 'UNAVAILABLE'],
          [id, 2, server.address, 'success', undefined, undefined],
          [id, 1, server.address, 'success', undefined, undefined],
        ],
      );
    } finally {
      seen.stop();
      client.close();
      await mesh.close();
    }
  });

  it('regression: a server INTERNAL ended the call as MESH_UPSTREAM_FAILED under the retry layer and INTERNAL without it; both say INTERNAL', async () => {
    const server = await startInventoryServer('i', { Reserve: (_call: Any, callback: Any) => callback({ code: grpc.status.INTERNAL, details: 'boom' }) });
    servers.push(server);
    const codes: unknown[] = [];
    for (const retry of [undefined, false] as const) {
      const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], ...(retry === false && { retry }) } } } });
      const client = mesh.grpc('inventory', InventoryClient);
      const seen = record(['meshlet:call:end']);
      try {
        const settled = await settle(unary(client, 'Reserve', { id: 'r' }));
        assert.equal(settled.ok, false);
        codes.push(seen.messages['meshlet:call:end']![0]!.errorCode);
      } finally {
        seen.stop();
        client.close();
        await mesh.close();
      }
    }
    assert.deepEqual(codes, ['INTERNAL', 'INTERNAL']);
  });

  it("the admin page's call statistics count gRPC calls of their mesh", async () => {
    const server = await startInventoryServer('s');
    servers.push(server);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    // The statistics read whole seconds that are over: the reading is taken a second later.
    let later = 0;
    const stats = new CallStats({ mesh: meshIdOf(mesh), now: () => Date.now() + later });
    try {
      for (let i = 0; i < 5; i++) await unary(client, 'GetItem', { id: `s${i}` });
      later = 1000;
      const inventory = stats.service('inventory');
      assert.ok(inventory !== undefined, 'no statistics for a gRPC-only service');
      assert.equal(inventory.successRate, 1);
      assert.ok(inventory.callsPerSecond > 0);
      assert.deepEqual(Object.keys(inventory.endpoints), [server.address]);
    } finally {
      stats.close();
      client.close();
      await mesh.close();
    }
  });
});
