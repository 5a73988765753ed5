/**
 * gRPC through the mesh: deadlines and config. The server reads the deadline grpc-js parsed
 * from the `grpc-timeout` header the client sent, so each test sees what went on the wire: the
 * service's timeout, the inbound request's deadline (runWithInbound, as the HTTP adapters set
 * it), the caller's own grpc-js deadline, and a config push changing a live client's timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import express from 'express';
import { request } from 'undici';
import { meshlet } from '../../adapters/express/index.ts';
import '../../src/transport/grpc/index.ts';
import { createMesh, isMeshError, runWithInbound } from '../../src/index.ts';
import { eventually, sleep } from '../support/waits.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';
import { pushableStore } from '../support/pushable-store.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

async function server(handlers = {}): Promise<InventoryServer> {
  const started = await startInventoryServer('s', handlers);
  servers.push(started);
  return started;
}

describe('grpc deadlines and config', () => {
  it('sends the service timeout, clipped to the inbound deadline, or the caller\'s own deadline in its place, as grpc-timeout', async () => {
    const backend = await server();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address], timeout: '2s' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      await unary<Item>(client, 'GetItem', { id: 'warm-up' }); // the connection, before anything is timed
      const plain = await unary<Item>(client, 'GetItem', { id: 'a' });
      // Upper bounds are the point; lower bounds leave room for a loaded machine.
      assert.ok(plain.deadline_ms > 1000 && plain.deadline_ms <= 2000, `service timeout: ${plain.deadline_ms}`);
      const inbound = await runWithInbound({ timeout: '300ms' }, () => unary<Item>(client, 'GetItem', { id: 'b' }));
      assert.ok(inbound.deadline_ms > 100 && inbound.deadline_ms <= 300, `inbound deadline: ${inbound.deadline_ms}`);
      const own = await unary<Item>(client, 'GetItem', { id: 'c' }, { deadline: Date.now() + 500 });
      assert.ok(own.deadline_ms > 200 && own.deadline_ms <= 500, `caller's deadline: ${own.deadline_ms}`);
      // A per-call option replaces the service's value, a longer deadline too (as `timeout` on HTTP calls).
      const longer = await unary<Item>(client, 'GetItem', { id: 'd' }, { deadline: Date.now() + 5000 });
      assert.ok(longer.deadline_ms > 3000 && longer.deadline_ms <= 5000, `caller's longer deadline: ${longer.deadline_ms}`);
      const inboundWins = await runWithInbound({ timeout: '300ms' }, () => unary<Item>(client, 'GetItem', { id: 'e' }, { deadline: Date.now() + 5000 }));
      assert.ok(inboundWins.deadline_ms <= 300, `the inbound deadline still clips it: ${inboundWins.deadline_ms}`);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('does not start a call whose inbound request is past its deadline, and cancels one whose inbound request goes away', async () => {
    let cancelled = 0;
    const backend = await server({
      GetItem: (call: Any) => call.on('cancelled', () => cancelled++),
    });
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const late = await settle(runWithInbound({ timeout: 0 }, () => unary<Item>(client, 'GetItem', { id: 'late' })));
      assert.ok(!late.ok && late.error.code === grpc.status.DEADLINE_EXCEEDED && isMeshError(late.error.cause) && late.error.cause.code === 'MESH_TIMEOUT');
      assert.equal(backend.calls.GetItem, 0);
      const inbound = new AbortController();
      const pending = settle(runWithInbound({ signal: inbound.signal }, () => unary<Item>(client, 'GetItem', { id: 'gone' })));
      await eventually(() => backend.calls.GetItem === 1, 'the call reaching the server');
      inbound.abort(new Error('client went away'));
      const gone = await pending;
      assert.ok(!gone.ok);
      assert.equal(gone.error.code, grpc.status.CANCELLED);
      assert.ok(isMeshError(gone.error.cause) && gone.error.cause.code === 'MESH_ABORTED', String(gone.error.cause));
      await eventually(() => cancelled === 1, 'the server seeing the cancellation');
      assert.equal(backend.calls.GetItem, 1, 'a cancelled call is not retried');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('calls back after the client method returned, even for a call refused at once', async () => {
    const backend = await server();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      // A refusal comes back synchronously from the stack; the callback must still see its call.
      const callSeen = await runWithInbound({ timeout: 0 }, () =>
        new Promise<boolean>((resolve) => {
          const call: unknown = client.GetItem({ id: 'x' }, () => {
            try {
              resolve(call !== undefined);
            } catch {
              resolve(false); // still in its temporal dead zone: called back from inside GetItem()
            }
          });
        }),
      );
      assert.equal(callSeen, true);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  /** A GetItem call kept as grpc-js returns it (to cancel), with its settled result. */
  function cancellableGetItem(client: Any): { call: Any; pending: ReturnType<typeof settle> } {
    let call: Any;
    const pending = settle(
      new Promise((resolve, reject) => {
        call = client.GetItem({ id: 'x' }, (error: unknown, answer: unknown) => (error ? reject(error) : resolve(answer)));
      }),
    );
    return { call, pending };
  }

  it('a call the caller cancels ends CANCELLED and is not retried', async () => {
    const backend = await server({ GetItem: () => {} });
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const { call, pending } = cancellableGetItem(client);
      await eventually(() => backend.calls.GetItem === 1, 'the call reaching the server');
      call.cancel();
      const settled = await pending;
      assert.ok(!settled.ok && settled.error.code === grpc.status.CANCELLED);
      assert.equal(backend.calls.GetItem, 1);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('a cancel while the call waits to retry ends it at once (regression: it waited out the pause first)', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('grpc-retry-pushback-ms', '2000');
    const backend = await server({ GetItem: (_call: Any, callback: Any) => callback({ code: grpc.status.UNAVAILABLE, details: 'later', metadata }) });
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address], retry: { attempts: 2, maxRetryAfter: '3s' } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const { call, pending } = cancellableGetItem(client);
      await eventually(() => backend.calls.GetItem === 1, 'the first attempt');
      await sleep(100); // its status is in: the call now waits out the server's 2 s pushback
      const cancelledAt = performance.now();
      call.cancel();
      const settled = await pending;
      assert.ok(!settled.ok && settled.error.code === grpc.status.CANCELLED);
      assert.ok(performance.now() - cancelledAt < 500, `the caller heard ${Math.round(performance.now() - cancelledAt)} ms after cancelling`);
      await sleep(50);
      assert.equal(backend.calls.GetItem, 1);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('a config push changes the timeout of a live client without recreating it', async () => {
    const backend = await server();
    const store = pushableStore({ services: { inventory: { timeout: '5s' } } });
    const mesh = await createMesh({ service: 't', control: store, config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      await unary<Item>(client, 'GetItem', { id: 'warm-up' });
      const before = await unary<Item>(client, 'GetItem', { id: 'a' });
      assert.ok(before.deadline_ms > 2500 && before.deadline_ms <= 5000, `before the push: ${before.deadline_ms}`);
      const applied = new Promise<void>((resolve) => mesh.on('config', () => resolve()));
      store.push({ services: { inventory: { timeout: '800ms' } } });
      await applied;
      const afterPush = await unary<Item>(client, 'GetItem', { id: 'b' });
      assert.ok(afterPush.deadline_ms > 300 && afterPush.deadline_ms <= 800, `after the push: ${afterPush.deadline_ms}`);
    } finally {
      client.close();
      await mesh.close();
    }
  });
});

describe('grpc deadline through an HTTP adapter', () => {
  it('clips the gRPC call an Express handler makes to the deadline its inbound request carried (x-meshlet-timeout-ms, grpc-timeout)', async () => {
    const backend = await server();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    const app = express();
    app.use(meshlet(mesh));
    app.get('/item', async (_req, res) => {
      res.json(await unary<Item>(client, 'GetItem', { id: 'via-http' }));
    });
    const http = app.listen(0, '127.0.0.1');
    await once(http, 'listening');
    try {
      await unary<Item>(client, 'GetItem', { id: 'warm-up' });
      const port = (http.address() as AddressInfo).port;
      for (const header of [{ 'x-meshlet-timeout-ms': '300' }, { 'grpc-timeout': '300m' }]) {
        const res = await request(`http://127.0.0.1:${port}/item`, { headers: header });
        const item = (await res.body.json()) as Item;
        assert.equal(res.statusCode, 200);
        assert.ok(item.deadline_ms > 100 && item.deadline_ms <= 300, `${JSON.stringify(header)}: the gRPC server had ${item.deadline_ms} ms (default timeout 10 s)`);
      }
    } finally {
      http.close();
      client.close();
      await mesh.close();
    }
  });
});
