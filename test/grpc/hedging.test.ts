/**
 * Hedging gRPC unary calls: with the service's `hedge` policy on, a call to a method marked
 * idempotent that has not answered after the hedge delay races a second attempt on another
 * instance (the same hedge layer and budget as HTTP calls); the first good answer wins and the
 * loser is cancelled on the wire. A method not marked idempotent is never sent twice, and a
 * caller's cancel ends the whole race.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

/** 'slow' answers after 400 ms (and counts the calls cancelled on it); 'fast' at once. */
async function slowAndFast(): Promise<{ mesh: Mesh; client: Any; slow: InventoryServer; fast: InventoryServer; cancelled: { count: number } }> {
  const cancelled = { count: 0 };
  const stall = (call: Any, callback: Any) => {
    const timer = setTimeout(() => callback(null, { id: call.request.id, server: 'slow' }), 400);
    call.on('cancelled', () => {
      cancelled.count++;
      clearTimeout(timer);
    });
  };
  const slow = await startInventoryServer('slow', { GetItem: stall, Reserve: stall });
  const fast = await startInventoryServer('fast');
  servers.push(slow, fast);
  const mesh = await createMesh({
    service: 't',
    config: {
      services: {
        inventory: {
          endpoints: [slow.address, fast.address],
          balancer: 'round-robin',
          retry: false,
          hedge: { after: '30ms', maxExtraLoad: 1 },
        },
      },
    },
  });
  return { mesh, client: mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] }), slow, fast, cancelled };
}

describe('grpc hedging', () => {
  it('hedges an idempotent unary call stuck on a slow instance: the fast answer wins, the loser is cancelled on the wire', async () => {
    const { mesh, client, slow, cancelled } = await slowAndFast();
    try {
      const startedAt = performance.now();
      const items = await Promise.all(Array.from({ length: 4 }, (_, i) => unary<Item>(client, 'GetItem', { id: `h${i}` })));
      const took = performance.now() - startedAt;
      assert.ok(items.every((item) => item.server === 'fast'), JSON.stringify(items));
      assert.ok(took < 300, `hedged calls took ${Math.round(took)} ms (the slow instance answers after 400 ms)`);
      assert.ok(slow.calls.GetItem! >= 1, 'some first attempts went to the slow instance');
      for (let i = 0; i < 50 && cancelled.count < slow.calls.GetItem!; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(cancelled.count, slow.calls.GetItem, 'every losing attempt was cancelled on the slow instance');
      const state = (mesh.state() as Any).services.inventory;
      assert.equal(state.budget.hedges, slow.calls.GetItem, 'each hedge drew on the service budget');
      assert.ok(state.endpoints.every((endpoint: { inFlight: number }) => endpoint.inFlight === 0));
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('never hedges a method not marked idempotent', async () => {
    const { mesh, client, slow, fast } = await slowAndFast();
    try {
      const answers = await Promise.all(Array.from({ length: 2 }, (_, i) => unary<Item>(client, 'Reserve', { id: `r${i}` })));
      assert.deepEqual(answers.map((item) => item.server).sort(), ['fast', 'slow']);
      assert.equal(slow.calls.Reserve! + fast.calls.Reserve!, 2, 'each reservation was sent once');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it("a caller's cancel ends a hedged call and every attempt of it", async () => {
    const { mesh, client, slow, cancelled } = await slowAndFast();
    // Both instances stall now: the race has two attempts in flight when the caller cancels.
    const fastStall = await startInventoryServer('fast2', {
      GetItem: (call: Any, callback: Any) => {
        const timer = setTimeout(() => callback(null, { id: call.request.id, server: 'fast2' }), 400);
        call.on('cancelled', () => {
          cancelled.count++;
          clearTimeout(timer);
        });
      },
    });
    servers.push(fastStall);
    await mesh.close();
    const stalled = await createMesh({
      service: 't',
      config: { services: { inventory: { endpoints: [slow.address, fastStall.address], retry: false, hedge: { after: '20ms', maxExtraLoad: 1 } } } },
    });
    const hedged = stalled.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const settled = new Promise<{ error: Any }>((resolve) => {
        const call = hedged.GetItem({ id: 'c' }, (error: unknown) => resolve({ error }));
        setTimeout(() => call.cancel(), 100);
      });
      const { error } = await settled;
      assert.equal(error?.code, grpc.status.CANCELLED);
      for (let i = 0; i < 50 && cancelled.count < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(cancelled.count, 2, 'both racing attempts were cancelled on their servers');
      assert.equal(slow.calls.GetItem! + fastStall.calls.GetItem!, 2);
      await settle(Promise.resolve());
      const endpoints = (stalled.state() as Any).services.inventory.endpoints as { inFlight: number }[];
      assert.ok(endpoints.every((endpoint) => endpoint.inFlight === 0));
    } finally {
      client.close();
      hedged.close();
      await stalled.close();
    }
  });
});
