/**
 * gRPC attempts' time limits, which meshlet enforces itself (attempt-transport.ts: an entry in
 * the stack's ExpiryQueue, where a grpc-js deadline would arm and clear a Node timer per call),
 * sending the time left as `grpc-timeout`: a call past its deadline ends DEADLINE_EXCEEDED at
 * its deadline with MESH_TIMEOUT as the cause and is cancelled on the wire; a per-try timeout
 * ends its attempt and an idempotent method is retried, another is not; the limit never holds
 * a process after its call or the client's close().
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh, isMeshError } from '../../src/index.ts';
import { runScriptToExit, lastJsonLine } from '../support/child-script.ts';
import { eventually } from '../support/waits.ts';
import { type Any, deadlineLeft, type InventoryServer, type Item, InventoryClient, readAll, settle, startInventoryServer, unary } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

async function server(handlers = {}): Promise<InventoryServer> {
  const started = await startInventoryServer('s', handlers);
  servers.push(started);
  return started;
}

/** A channel (grpc-js's channelOverride) whose calls never answer: only meshlet's own limit can end them. */
function silentChannel(): { channel: Any; deadlines: unknown[]; cancels: { code: number; details: string }[] } {
  const deadlines: unknown[] = [];
  const cancels: { code: number; details: string }[] = [];
  const channel = {
    createCall(_method: string, deadline: unknown) {
      deadlines.push(deadline);
      let listener: Any;
      return {
        start: (_metadata: unknown, heard: Any) => {
          listener = heard;
        },
        sendMessageWithContext: (context: { callback?: () => void }) => context.callback?.(),
        startRead() {},
        halfClose() {},
        // As grpc-js's calls do: a cancel ends the call with that status.
        cancelWithStatus(code: number, details: string) {
          cancels.push({ code, details });
          listener.onReceiveStatus({ code, details, metadata: new grpc.Metadata() });
        },
        getPeer: () => 'silent',
        setCredentials() {},
        getCallNumber: () => 0,
        getAuthContext: () => null,
      };
    },
    close() {},
    getTarget: () => 'silent',
    getConnectivityState: () => grpc.connectivityState.READY,
    watchConnectivityState() {},
    getChannelzRef: () => ({}),
  };
  return { channel, deadlines, cancels };
}

describe('grpc attempt time limits (meshlet enforces them, not a grpc-js deadline)', () => {
  it('ends a call past its deadline DEADLINE_EXCEEDED at the deadline and cancels it on the wire; the server had the time left as grpc-timeout', async () => {
    let seen = -1;
    let cancelled = 0;
    const backend = await server({
      GetItem: (call: Any) => {
        seen = deadlineLeft(call);
        call.on('cancelled', () => cancelled++);
      },
    });
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address], timeout: '400ms' } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      await unary<Item>(client, 'Reserve', { id: 'warm-up' }); // the connection, before anything is timed
      const started = performance.now();
      const late = await settle(unary<Item>(client, 'GetItem', { id: 'stalls' }));
      const elapsed = performance.now() - started;
      assert.ok(!late.ok);
      assert.equal(late.error.code, grpc.status.DEADLINE_EXCEEDED);
      assert.ok(isMeshError(late.error.cause) && late.error.cause.code === 'MESH_TIMEOUT', String(late.error.cause));
      // Not before the deadline; the upper bound leaves room for a loaded machine.
      assert.ok(elapsed >= 395 && elapsed < 1500, `ended after ${elapsed.toFixed(0)} ms`);
      assert.ok(seen > 200 && seen <= 400, `the server had ${seen} ms`);
      await eventually(() => cancelled === 1, 'the server seeing the call end');
      assert.equal(backend.calls.GetItem, 1, 'a call past its deadline is not retried');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('ends a call that nothing answers at its deadline by itself: grpc-js is given no deadline, the call is cancelled DEADLINE_EXCEEDED', async () => {
    const silent = silentChannel();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: ['127.0.0.1:9'], timeout: '200ms' } } } });
    const client = mesh.grpc('inventory', InventoryClient, { channelOptions: { channelOverride: silent.channel } as Any });
    try {
      const started = performance.now();
      const own = await settle(unary<Item>(client, 'GetItem', { id: 'a' }, { deadline: Date.now() + 300 }));
      const ownElapsed = performance.now() - started;
      const plain = await settle(unary<Item>(client, 'GetItem', { id: 'b' }));
      const elapsed = performance.now() - started - ownElapsed;
      for (const result of [own, plain]) {
        assert.ok(!result.ok);
        assert.equal(result.error.code, grpc.status.DEADLINE_EXCEEDED);
        assert.ok(isMeshError(result.error.cause) && result.error.cause.code === 'MESH_TIMEOUT', String(result.error.cause));
      }
      assert.ok(ownElapsed >= 295 && ownElapsed < 1300, `the caller's deadline: ended after ${ownElapsed.toFixed(0)} ms`);
      assert.ok(elapsed >= 195 && elapsed < 1200, `the service timeout: ended after ${elapsed.toFixed(0)} ms`);
      // grpc-js arms no timer of its own: the channel's calls were made with no deadline, the caller's one included.
      assert.deepEqual(silent.deadlines, [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
      assert.equal(silent.cancels.length, 2);
      for (const cancel of silent.cancels) {
        assert.equal(cancel.code, grpc.status.DEADLINE_EXCEEDED);
        assert.match(cancel.details, /^Deadline exceeded after 0\.\d{3}s/);
      }
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('ends an attempt at the per-try timeout: an idempotent method is retried on it, another is not', async () => {
    const left: number[] = [];
    let first = true;
    const backend = await server({
      GetItem: (call: Any, callback: Any) => {
        left.push(deadlineLeft(call));
        if (first) first = false;
        else callback(null, { id: call.request.id, server: 's', deadline_ms: 0 });
      },
      Reserve: () => {},
    });
    const mesh = await createMesh({
      service: 't',
      config: { services: { inventory: { endpoints: [backend.address], timeout: '3s', perTryTimeout: '150ms', retry: { attempts: 2, backoff: { base: '1ms', max: '1ms' } } } } },
    });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      await unary<Item>(client, 'GetItem', { id: 'warm-up' }).catch(() => undefined);
      left.length = 0;
      first = true;
      const started = performance.now();
      const retried = await unary<Item>(client, 'GetItem', { id: 'g' });
      const elapsed = performance.now() - started;
      assert.equal(retried.id, 'g');
      assert.ok(elapsed >= 145 && elapsed < 1500, `answered after ${elapsed.toFixed(0)} ms`);
      assert.equal(left.length, 2, 'the timed-out attempt was retried once');
      for (const ms of left) assert.ok(ms > 50 && ms <= 150, `each attempt sent its own limit: ${left.join(', ')} ms`);
      const before = backend.calls.Reserve!;
      const notRetried = await settle(unary<Item>(client, 'Reserve', { id: 'r' }));
      assert.ok(!notRetried.ok);
      assert.equal(notRetried.error.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(backend.calls.Reserve! - before, 1, 'a method not marked idempotent is not retried after its per-try timeout');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it("never holds a process after its call, nor after the client's close()", async () => {
    const backend = await server({
      Reserve: (call: Any, callback: Any) => {
        if (call.request.id === 'late') setTimeout(() => callback(null, { id: 'late', server: 's', deadline_ms: 0 }), 300);
      },
    });
    // The child's calls have a 30 s limit: one left armed would keep it alive past this bound.
    const killAfterMs = 15_000;
    const { stdout } = await runScriptToExit(new URL('./one-shot-grpc.ts', import.meta.url).pathname, [backend.address], { killAfterMs, heldBy: "a gRPC attempt's time limit" });
    assert.deepEqual(lastJsonLine(stdout), { answered: true, cancelled: grpc.status.CANCELLED, late: 'ok' });
  });
});

describe('grpc-timeout is what is left when the call goes on the wire', () => {
  it('a call that waited for its connection sends the time left then, not its whole timeout', async () => {
    const backend = await server();
    // A proxy that holds each new connection 600 ms before passing bytes on: the subchannel is still connecting, and the call waits.
    const sockets: Socket[] = [];
    const proxy = createServer((inbound) => {
      sockets.push(inbound);
      inbound.pause();
      setTimeout(() => {
        const outbound = connect(backend.port, '127.0.0.1');
        sockets.push(outbound);
        inbound.pipe(outbound).pipe(inbound);
        inbound.resume();
        outbound.on('error', () => inbound.destroy());
        inbound.on('error', () => outbound.destroy());
      }, 600);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as AddressInfo;
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [`127.0.0.1:${port}`], timeout: '2s' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const item = await unary<Item>(client, 'GetItem', { id: 'first' });
      assert.ok(item.deadline_ms > 0 && item.deadline_ms <= 1450, `the server had ${item.deadline_ms} ms of the 2000 after a ~600 ms wait for the connection`);
    } finally {
      client.close();
      await mesh.close();
      for (const socket of sockets) socket.destroy();
      proxy.close();
    }
  });
});

describe('a deadline option that is no time', () => {
  it('is refused INVALID_ARGUMENT with MESH_BAD_REQUEST, never sent: it would be no limit at all', async () => {
    const backend = await server();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      for (const deadline of [new Date(Number.NaN), Number.NaN, 'soon']) {
        const refused = await settle(unary<Item>(client, 'GetItem', { id: 'x' }, { deadline }));
        assert.ok(!refused.ok);
        assert.equal(refused.error.code, grpc.status.INVALID_ARGUMENT);
        assert.ok(isMeshError(refused.error.cause) && refused.error.cause.code === 'MESH_BAD_REQUEST', String(refused.error.cause));
        assert.match(refused.error.details, /deadline option must be a valid Date/);
      }
      const stream = client.ListItems({ id: 's' }, new grpc.Metadata(), { deadline: Number.NaN });
      const streamError = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
      assert.equal(streamError.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(backend.calls.GetItem, 0);
      assert.equal(backend.calls.ListItems, 0);
      // Infinity is no deadline, as grpc-js reads it: the call goes.
      assert.equal((await unary<Item>(client, 'GetItem', { id: 'y' }, { deadline: Number.POSITIVE_INFINITY })).id, 'y');
    } finally {
      client.close();
      await mesh.close();
    }
  });
});

describe("a server call's child (grpc-js's parent option)", () => {
  it('sends the sooner of its own limit and the parent call deadline', async () => {
    const inner = await server();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [inner.address], timeout: '1s' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    // The outer server's handler calls on through the mesh as the parent call's child.
    const outer = await server({
      GetItem: (call: Any, callback: Any) => client.GetItem({ id: call.request.id }, new grpc.Metadata(), { parent: call }, callback),
    });
    const direct = new InventoryClient(outer.address, grpc.credentials.createInsecure());
    try {
      const longParent = await unary<Item>(direct, 'GetItem', { id: 'long' }, { deadline: Date.now() + 30_000 });
      assert.ok(longParent.deadline_ms > 0 && longParent.deadline_ms <= 1000, `own 1 s limit under a 30 s parent: the inner server had ${longParent.deadline_ms} ms`);
      const shortParent = await unary<Item>(direct, 'GetItem', { id: 'short' }, { deadline: Date.now() + 400 });
      assert.ok(shortParent.deadline_ms > 0 && shortParent.deadline_ms <= 400, `a 400 ms parent under the 1 s limit: the inner server had ${shortParent.deadline_ms} ms`);
    } finally {
      direct.close();
      client.close();
      await mesh.close();
    }
  });
});

describe('a deadline too far off for a timer', () => {
  it('is still sent as grpc-timeout, capped at ~24.8 days (a grpc-js server wraps a longer one), and no TimeoutOverflowWarning is raised', async () => {
    const overflows: string[] = [];
    const onWarning = (warning: Error): void => {
      if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning.message);
    };
    process.on('warning', onWarning);
    const backend = await server();
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const days40 = 40 * 24 * 3600 * 1000;
      const item = await unary<Item>(client, 'GetItem', { id: 'far' }, { deadline: Date.now() + days40 });
      // grpc-js's server parses grpc-timeout with `| 0`: 40 days sent as such reached it as a deadline already past.
      assert.ok(item.deadline_ms > 2_147_483_000 - 3_600_000 && item.deadline_ms <= 2_147_483_000, `the server had ${item.deadline_ms} ms`);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(overflows, []);
    } finally {
      process.off('warning', onWarning);
      client.close();
      await mesh.close();
    }
  });
});

describe('a stream past its deadline', () => {
  it('ends DEADLINE_EXCEEDED at the deadline after what arrived before it, and the server sees it end', async () => {
    let ended = 0;
    const backend = await server({
      ListItems: (call: Any) => {
        call.write({ id: 'first', server: 's', deadline_ms: deadlineLeft(call) });
        call.on('cancelled', () => ended++);
      },
    });
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [backend.address], timeout: '300ms' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      await unary<Item>(client, 'GetItem', { id: 'warm-up' });
      const started = performance.now();
      const { items, error } = await readAll(client.ListItems({ id: 's' }));
      const elapsed = performance.now() - started;
      assert.deepEqual(
        items.map((item) => item.id),
        ['first'],
      );
      assert.ok(items[0]!.deadline_ms > 100 && items[0]!.deadline_ms <= 300, `the server had ${items[0]!.deadline_ms} ms`);
      assert.equal(error?.code, grpc.status.DEADLINE_EXCEEDED);
      assert.ok(elapsed >= 295 && elapsed < 1300, `ended after ${elapsed.toFixed(0)} ms`);
      await eventually(() => ended === 1, 'the server seeing the stream end');
    } finally {
      client.close();
      await mesh.close();
    }
  });
});
