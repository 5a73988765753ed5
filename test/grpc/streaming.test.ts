/**
 * gRPC streams through the mesh: discovery and balancing apply, one attempt and no replay
 * (a stream that breaks off reaches the caller as its error, after the messages it had), and
 * client and bidi streams write through the queue the entry keeps until the real call exists. Also
 * the seam: importing 'meshlet' alone never loads grpc-js, and mesh.grpc() says what to import.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { runScript } from '../support/child-script.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, readAll, startInventoryServer } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(() => {
  for (const server of servers) server.kill();
});

describe('grpc streams', () => {
  it('runs server streams through discovery and balancing, over every instance', async () => {
    const instances = await Promise.all(['a', 'b'].map((name) => startInventoryServer(name)));
    servers.push(...instances);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: instances.map((s) => s.address), balancer: 'round-robin' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => readAll(client.ListItems({ id: `l${i}`, count: 4 }))));
      for (const run of runs) {
        assert.equal(run.error, undefined);
        assert.deepEqual(run.items.map((item) => item.id.split('-')[1]), ['0', '1', '2', '3']);
        assert.equal(new Set(run.items.map((item) => item.server)).size, 1, 'one stream, one instance');
      }
      assert.deepEqual(new Set(runs.map((run) => run.items[0]!.server)), new Set(['a', 'b']));
      // The stream had a deadline too (the default 10 s timeout), sent as grpc-timeout.
      assert.ok(runs[0]!.items[0]!.deadline_ms > 5000 && runs[0]!.items[0]!.deadline_ms <= 10_000);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('never replays a stream that breaks off, even for a method marked idempotent', async () => {
    const broken = await startInventoryServer('broken', {
      ListItems: (call: Any) => {
        call.write({ id: 'first', server: 'broken' });
        call.write({ id: 'second', server: 'broken' });
        call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'instance going away' });
      },
    });
    servers.push(broken);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [broken.address], retry: { attempts: 3 } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['ListItems'] });
    try {
      const run = await readAll(client.ListItems({ id: 'x' }));
      assert.deepEqual(run.items.map((item) => item.id), ['first', 'second']);
      assert.equal(run.error?.code, grpc.status.UNAVAILABLE);
      assert.equal(broken.calls.ListItems, 1, 'one attempt: the stream was not sent again');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('sends a client stream written before the real call exists, in order, and answers with its summary', async () => {
    const seen: string[] = [];
    const server = await startInventoryServer('upload', {
      Upload: (call: Any, callback: Any) => {
        call.on('data', (item: Item) => seen.push(item.id));
        call.on('end', () => callback(null, { count: seen.length, server: 'upload' }));
      },
    });
    servers.push(server);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [server.address] } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const summary = await new Promise<{ count: number; server: string }>((resolve, reject) => {
        const call = client.Upload((error: unknown, answer: { count: number; server: string }) => (error ? reject(error) : resolve(answer)));
        // Written synchronously: before the stream stack has made the attempt.
        for (let i = 0; i < 5; i++) call.write({ id: `u${i}` });
        call.end();
      });
      assert.deepEqual(summary, { count: 5, server: 'upload' });
      assert.deepEqual(seen, ['u0', 'u1', 'u2', 'u3', 'u4']);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('runs bidi streams through discovery and balancing: each answer comes back before the next request is written', async () => {
    const instances = await Promise.all(['a', 'b'].map((name) => startInventoryServer(name)));
    servers.push(...instances);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: instances.map((s) => s.address), balancer: 'round-robin' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const chat = async (name: string): Promise<Item[]> => {
        const call = client.Chat();
        const answers: Item[] = [];
        const ended = new Promise<void>((resolve, reject) => {
          call.on('end', resolve);
          call.on('error', reject);
        });
        const next = () => new Promise<Item>((resolve) => call.once('data', resolve));
        // Ping-pong: a buffered (not really bidi) call would never answer before the end.
        for (let i = 0; i < 3; i++) {
          const answer = next();
          call.write({ id: `${name}-${i}` });
          answers.push(await answer);
        }
        call.end();
        await ended;
        return answers;
      };
      const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => chat(`c${i}`)));
      runs.forEach((answers, i) => {
        assert.deepEqual(answers.map((item) => item.id), [0, 1, 2].map((n) => `c${i}-${n}`));
        assert.equal(new Set(answers.map((item) => item.server)).size, 1, 'one bidi stream, one instance');
      });
      assert.deepEqual(new Set(runs.map((answers) => answers[0]!.server)), new Set(['a', 'b']));
      assert.ok(runs[0]![0]!.deadline_ms > 5000, 'the bidi stream carried a deadline');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('never replays a bidi stream that breaks off, even for a method marked idempotent', async () => {
    const broken = await startInventoryServer('broken', {
      Chat: (call: Any) => {
        call.once('data', (request: { id: string }) => {
          call.write({ id: request.id, server: 'broken' });
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'instance going away' });
        });
      },
    });
    servers.push(broken);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [broken.address], retry: { attempts: 3 } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['Chat'] });
    try {
      const call = client.Chat();
      call.write({ id: 'only' });
      const run = await readAll(call);
      assert.deepEqual(run.items.map((item) => item.id), ['only']);
      assert.equal(run.error?.code, grpc.status.UNAVAILABLE);
      assert.equal(broken.calls.Chat, 1, 'one attempt: the stream was not sent again');
      // A bidi stream cancelled by its caller mid-flight ends CANCELLED and leaves nothing in flight.
      const cancelled = client.Chat();
      const cancelledRun = readAll(cancelled);
      cancelled.cancel();
      assert.equal((await cancelledRun).error?.code, grpc.status.CANCELLED);
      const endpoints = (mesh.state() as Any).services.inventory.endpoints as { inFlight: number }[];
      assert.equal(endpoints[0]!.inFlight, 0);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it("importing 'meshlet' alone does not load grpc-js, and mesh.grpc() then says to import 'meshlet/grpc'", async () => {
    const script = fileURLToPath(new URL('../fixtures/grpc/core-only.ts', import.meta.url));
    const run = await runScript(script, [], { killAfterMs: 8000 });
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout.trim().split('\n').pop()!) as { code: string; grpcLoaded: boolean };
    assert.equal(printed.grpcLoaded, false);
    assert.match(printed.code, /^MESH_BAD_REQUEST: .*import 'meshlet\/grpc'/);
  });
});
