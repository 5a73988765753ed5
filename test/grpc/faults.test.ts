/**
 * The service's `fault` config on gRPC calls (grpc-fault.ts), as on HTTP: unary calls get
 * injected delays and aborts (the abort's HTTP status through gRPC's HTTP-to-gRPC mapping, never
 * sent to the server, retried like a real UNAVAILABLE), streams the delay only. Before, gRPC
 * calls ignored `fault` entirely.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { grpcStatusOfHttp } from '../../src/transport/grpc/grpc-fault.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, readAll, settle, startInventoryServer, unary } from './inventory-server.ts';
import { pushableStore } from '../support/pushable-store.ts';

describe('grpc fault injection', () => {
  let server: InventoryServer;
  before(async () => {
    server = await startInventoryServer('f');
  });
  after(() => server.kill());

  async function clientWith(fault: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ client: Any; close(): Promise<void> }> {
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], fault, ...extra } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    return {
      client,
      close: async () => {
        client.close();
        await mesh.close();
      },
    };
  }

  it("an abort answers the mapped status with meshlet's account, and never reaches the server", async () => {
    for (const [http, code] of [
      [503, grpc.status.UNAVAILABLE],
      [404, grpc.status.UNIMPLEMENTED],
      [500, grpc.status.UNKNOWN],
    ] as const) {
      const { client, close } = await clientWith({ abort: { percent: 100, status: http } }, { retry: false });
      try {
        const before = server.calls.GetItem;
        const result = await settle(unary<Item>(client, 'GetItem', { id: 'a' }));
        assert.equal(result.ok, false);
        assert.equal(!result.ok && result.error.code, code, `abort ${http}`);
        assert.match(!result.ok ? result.error.details : '', /meshlet fault injection/);
        assert.equal(server.calls.GetItem, before, 'an injected abort is not sent');
      } finally {
        await close();
      }
    }
    assert.equal(grpcStatusOfHttp(401), grpc.status.UNAUTHENTICATED);
    assert.equal(grpcStatusOfHttp(403), grpc.status.PERMISSION_DENIED);
    assert.equal(grpcStatusOfHttp(400), grpc.status.INTERNAL);
  });

  it('an injected UNAVAILABLE is retried, even for a method not marked idempotent (it was never sent)', async () => {
    const mesh = await createMesh({
      service: 't',
      config: { services: { inventory: { endpoints: [server.address], fault: { abort: { percent: 30, status: 503 } }, retry: { attempts: 10, backoff: { base: '1ms', max: '1ms' }, budget: { ratio: 1, minPerSecond: 1000 } } } } },
    });
    const client = mesh.grpc('inventory', InventoryClient);
    let aborts = 0;
    mesh.on('fault', () => aborts++);
    try {
      const before = server.calls.Reserve!;
      for (let i = 0; i < 30; i++) assert.equal((await unary<Item>(client, 'Reserve', { id: `r${i}` })).server, 'f');
      assert.equal(server.calls.Reserve! - before, 30, 'each call reached the server once');
      assert.ok(aborts > 0, 'some tries were aborted (and retried)');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('a delay holds a unary call and a stream back; a delay past the deadline is DEADLINE_EXCEEDED', async () => {
    const { client, close } = await clientWith({ delay: { percent: 100, duration: '80ms' } });
    try {
      let started = performance.now();
      await unary<Item>(client, 'GetItem', { id: 'd' });
      assert.ok(performance.now() - started >= 75, 'unary call delayed');
      started = performance.now();
      const streamed = await readAll(client.ListItems({ id: 's', count: 2 }));
      assert.equal(streamed.error, undefined);
      assert.equal(streamed.items.length, 2);
      assert.ok(performance.now() - started >= 75, 'stream delayed');
      const late = await settle(unary<Item>(client, 'GetItem', { id: 'late' }, { deadline: Date.now() + 30 }));
      assert.equal(!late.ok && late.error.code, grpc.status.DEADLINE_EXCEEDED);
    } finally {
      await close();
    }
  });

  it("a client stream's writes made during the injected delay reach the server in order once it starts", async () => {
    const { client, close } = await clientWith({ delay: { percent: 100, duration: '60ms' } });
    try {
      const before = server.calls.Upload!;
      const answer = await new Promise<Any>((resolve, reject) => {
        const stream = client.Upload((error: unknown, reply: unknown) => (error ? reject(error) : resolve(reply)));
        for (let i = 0; i < 3; i++) stream.write({ id: `u${i}` });
        stream.end();
      });
      assert.equal(answer.count, 3);
      assert.equal(server.calls.Upload! - before, 1);
    } finally {
      await close();
    }
  });

  it('a caller that cancels during an injected delay hears CANCELLED at once, and the call is never sent', async () => {
    const { client, close } = await clientWith({ delay: { percent: 100, duration: '300ms' } });
    try {
      const before = server.calls.GetItem!;
      const started = performance.now();
      const cancelled = await new Promise<Any>((resolve) => {
        const call = client.GetItem({ id: 'c' }, (error: unknown) => resolve(error));
        setTimeout(() => call.cancel(), 20);
      });
      assert.equal(cancelled?.code, grpc.status.CANCELLED);
      assert.ok(performance.now() - started < 250, 'not held for the rest of the delay');
      await new Promise((resolve) => setTimeout(resolve, 350));
      assert.equal(server.calls.GetItem, before, 'the delayed attempt was not sent after the cancel');
    } finally {
      await close();
    }
  });

  it('a unary call and a stream cancelled during a long injected delay end its timer: mesh.close() does not wait out the delay', async () => {
    const { client, close } = await clientWith({ delay: { percent: 100, duration: '5s' } }, { timeout: '20s' });
    let closed = false;
    try {
      const before = { unary: server.calls.GetItem!, stream: server.calls.ListItems! };
      const unaryCancelled = await new Promise<Any>((resolve) => {
        const call = client.GetItem({ id: 'c' }, (error: unknown) => resolve(error));
        setTimeout(() => call.cancel(), 20);
      });
      assert.equal(unaryCancelled?.code, grpc.status.CANCELLED);
      const stream = client.ListItems({ id: 's', count: 2 });
      setTimeout(() => stream.cancel(), 20);
      const streamed = await readAll(stream);
      assert.equal(streamed.error?.code, grpc.status.CANCELLED);
      const started = performance.now();
      await close();
      closed = true;
      assert.ok(performance.now() - started < 1000, `mesh.close() took ${Math.round(performance.now() - started)} ms: it waited for the cancelled calls' delays`);
      assert.equal(server.calls.GetItem, before.unary, 'the cancelled unary call was never sent');
      assert.equal(server.calls.ListItems, before.stream, 'the cancelled stream was never sent');
    } finally {
      if (!closed) await close();
    }
  });

  it('streams get no abort: an abort-only fault leaves them alone', async () => {
    const { client, close } = await clientWith({ abort: { percent: 100, status: 503 } });
    try {
      const streamed = await readAll(client.ListItems({ id: 's', count: 3 }));
      assert.equal(streamed.error, undefined);
      assert.equal(streamed.items.length, 3);
    } finally {
      await close();
    }
  });
});

describe('grpc fault injection in mesh.state()', () => {
  it("a client whose service a push routes to another service keeps the service's own faults (a route target's policy is the service's, merged: its faults too)", async () => {
    const server = await startInventoryServer('s');
    const other = await startInventoryServer('o');
    const store = pushableStore({ services: {} });
    const mesh = await createMesh({
      service: 't',
      control: store,
      config: { services: { inventory: { endpoints: [server.address], fault: { abort: { percent: 100, status: 503 } }, retry: false }, other: { endpoints: [other.address], retry: false } } },
    });
    const client = mesh.grpc('inventory', InventoryClient);
    const warned = new Promise((resolve) => process.once('warning', resolve));
    try {
      assert.equal(((await settle(unary<Item>(client, 'GetItem', { id: 'before' }))) as Any).error?.code, grpc.status.UNAVAILABLE);
      const pushed = new Promise<void>((resolve) => {
        const off = mesh.on('config', () => {
          off();
          resolve();
        });
      });
      // Routed to another service, which injects nothing: its stack's fault layer is a no-op.
      store.push({ services: { inventory: { routes: [{ name: 'all', to: [{ service: 'other' }] }] } } });
      await pushed;
      const after = await settle(unary<Item>(client, 'GetItem', { id: 'after' }));
      assert.equal(after.ok, false, 'the service\'s own abort still applies to its gRPC calls');
      assert.equal(!after.ok && after.error.code, grpc.status.UNAVAILABLE);
      assert.match(!after.ok ? after.error.details : '', /meshlet fault injection/);
      assert.equal(server.calls.GetItem, 0);
      assert.equal(other.calls.GetItem, 0);
      await warned;
    } finally {
      client.close();
      await mesh.close();
      server.kill();
      other.kill();
    }
  });

  it("counts unary gRPC calls in the service's fault state, beside its HTTP calls (regression: gRPC calls were not counted)", async () => {
    const server = await startInventoryServer('s');
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address], fault: { abort: { percent: 100, status: 503 } }, retry: false } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await settle(unary<Item>(client, 'GetItem', { id: `${i}` }))).ok, false);
      // One HTTP call to the same service: the same layer counts it (injected, so never sent to the gRPC server).
      const response = await mesh.fetch('http://inventory/x');
      assert.equal(response.status, 503);
      await response.arrayBuffer();
      const fault = (mesh.state() as { services: Record<string, { fault?: { calls: number; aborts: number } }> }).services.inventory!.fault;
      assert.equal(fault?.calls, 4);
      assert.equal(fault?.aborts, 4);
      assert.equal(server.calls.GetItem, 0);
    } finally {
      client.close();
      await mesh.close();
      server.kill();
    }
  });
});
