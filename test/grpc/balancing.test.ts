/**
 * gRPC through the mesh: discovery and balancing. Real grpc-js servers on loopback, a real
 * mesh.grpc() client: calls spread over instances as the service's picker says, a killed
 * instance is skipped without failing an idempotent call, and Consul membership changes reach
 * a live client.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { type ControlListener, createMesh } from '../../src/index.ts';
import { consulForTests } from '../support/consul.ts';
import { eventually, sleep } from '../support/waits.ts';
import { type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';

const servers: InventoryServer[] = [];
after(async () => {
  for (const server of servers) server.kill();
});

async function fleet(count: number): Promise<InventoryServer[]> {
  const started = await Promise.all(Array.from({ length: count }, (_, i) => startInventoryServer(`s${i}`)));
  servers.push(...started);
  return started;
}

function countsOf(items: Item[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.server] = (counts[item.server] ?? 0) + 1;
  return counts;
}

describe('grpc balancing', () => {
  for (const balancer of ['p2c-ewma', 'p2c-least-request', 'round-robin', 'random'] as const) {
    it(`spreads unary calls over every instance (${balancer})`, async () => {
      const instances = await fleet(3);
      const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: instances.map((s) => s.address), balancer } } } });
      const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
      try {
        const items: Item[] = [];
        // Eight callers at a time: the load-aware pickers see in-flight calls.
        for (let round = 0; round < 12; round++) {
          items.push(...(await Promise.all(Array.from({ length: 8 }, (_, i) => unary<Item>(client, 'GetItem', { id: `${round}-${i}` })))));
        }
        const counts = countsOf(items);
        assert.deepEqual(Object.keys(counts).sort(), ['s0', 's1', 's2'], `every instance answered: ${JSON.stringify(counts)}`);
        for (const [server, count] of Object.entries(counts)) assert.ok(count >= 10, `${server} took ${count} of 96`);
        if (balancer === 'round-robin') for (const count of Object.values(counts)) assert.ok(Math.abs(count - 32) <= 2, JSON.stringify(counts));
        // The endpoints' load statistics are meshlet's (state shows them): each saw its calls.
        const endpoints = (mesh.state() as { services: Record<string, { endpoints: { requests: number }[] }> }).services.inventory!.endpoints;
        assert.equal(endpoints.reduce((sum, e) => sum + e.requests, 0), 96);
      } finally {
        client.close();
        await mesh.close();
      }
    });
  }

  it('tells apart two endpoints on one port of two hosts (the picker finds a subchannel by port, then host)', async () => {
    const first = await startInventoryServer('a');
    servers.push(first);
    // 127.0.0.2 is loopback too (Linux routes all of 127/8 to lo).
    const second = await startInventoryServer('b', {}, undefined, `127.0.0.2:${first.port}`);
    servers.push(second);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: [first.address, second.address], balancer: 'round-robin' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const items: Item[] = [];
      for (let i = 0; i < 20; i++) items.push(await unary<Item>(client, 'GetItem', { id: `${i}` }));
      assert.deepEqual(countsOf(items), { a: 10, b: 10 });
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('keeps each key on one instance with ring-hash on a metadata entry (hashOn: header:x-user-id)', async () => {
    const instances = await fleet(3);
    const mesh = await createMesh({
      service: 't',
      config: { services: { inventory: { endpoints: instances.map((s) => s.address), balancer: { policy: 'ring-hash', hashOn: 'header:x-user-id' } } } },
    });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      const homes = new Map<string, Set<string>>();
      for (let user = 0; user < 12; user++) {
        const metadata = new grpc.Metadata();
        metadata.set('x-user-id', `user-${user}`);
        for (let i = 0; i < 4; i++) {
          const item = await unary<Item>(client, 'GetItem', { id: `${user}-${i}` }, {}, metadata);
          homes.set(`user-${user}`, (homes.get(`user-${user}`) ?? new Set()).add(item.server));
        }
      }
      for (const [user, servers] of homes) assert.equal(servers.size, 1, `${user} went to ${[...servers].join(', ')}`);
      assert.ok(new Set([...homes.values()].map((servers) => [...servers][0])).size >= 2, 'keys spread over instances');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('skips an instance killed mid-traffic with no failed idempotent call', async () => {
    const instances = await fleet(3);
    const mesh = await createMesh({ service: 't', config: { services: { inventory: { endpoints: instances.map((s) => s.address), timeout: '2s' } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const victim = instances[0]!;
      // Slow answers, so calls are in flight on the victim when it dies.
      const outcomes: Awaited<ReturnType<typeof settle<Item>>>[] = [];
      let killedAt = -1;
      const callers = Array.from({ length: 6 }, async (_, caller) => {
        for (let i = 0; i < 40; i++) {
          outcomes.push(await settle(unary<Item>(client, 'GetItem', { id: `${caller}-${i}` })));
          if (outcomes.length === 60 && killedAt < 0) {
            killedAt = outcomes.length;
            victim.kill();
          }
        }
      });
      await Promise.all(callers);
      const failed = outcomes.filter((o) => !o.ok);
      assert.equal(failed.length, 0, `failed: ${failed.map((o) => (o.ok ? '' : o.error.message)).join('; ')}`);
      const after = outcomes.slice(killedAt + 12).map((o) => (o.ok ? o.value.server : 'failed'));
      assert.ok(after.length > 100);
      assert.ok(!after.includes(victim.name), 'no call answered by the killed instance');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('moves a call queued on an endpoint that never finishes connecting to the endpoints a push brings (regression: it waited out its deadline)', async (t) => {
    // Accepts TCP and never speaks HTTP/2: grpc-js's subchannel stays CONNECTING, the call queued on it.
    const sockets: net.Socket[] = [];
    const hung = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      hung.close();
    });
    const [good] = await fleet(1);
    let listener: ControlListener | undefined;
    const store = {
      source: 'test:push',
      watch: async (l: ControlListener) => {
        listener = l;
        l.snapshot({});
      },
      close: async () => {},
    };
    const hungAddress = `127.0.0.1:${(hung.address() as net.AddressInfo).port}`;
    const mesh = await createMesh({ service: 't', control: store, config: { services: { inventory: { endpoints: [hungAddress], timeout: '3s' } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const started = performance.now();
      const pending = unary<Item>(client, 'GetItem', { id: 'q' });
      await eventually(() => sockets.length > 0, 'the client connecting to the hung endpoint');
      listener!.snapshot({ services: { inventory: { endpoints: [good!.address] } } });
      const item = await pending;
      assert.equal(item.server, good!.name);
      // Before: the attempt stayed queued on the removed endpoint until the 3 s deadline.
      assert.ok(performance.now() - started < 1500, `answered after ${Math.round(performance.now() - started)} ms`);
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('follows instances added and removed through Consul discovery, on a live client', async (t) => {
    const consul = await consulForTests();
    t.after(() => consul.close());
    const instances = await fleet(3);
    const register = (server: InventoryServer) =>
      consul.catalog.register({ Name: 'inventory', ID: `inventory-${server.name}`, Address: '127.0.0.1', Port: server.port });
    await register(instances[0]!);
    await register(instances[1]!);
    const mesh = await createMesh({ service: 't', consul: { url: consul.url }, config: { services: { inventory: { discovery: { type: 'consul' } } } } });
    const client = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
    try {
      const answeredBy = async (calls: number): Promise<Record<string, number>> =>
        countsOf(await Promise.all(Array.from({ length: calls }, (_, i) => unary<Item>(client, 'GetItem', { id: `c${i}` }))));
      assert.deepEqual(Object.keys(await answeredBy(30)).sort(), ['s0', 's1']);
      await register(instances[2]!);
      await eventually(async () => (await answeredBy(20)).s2 !== undefined, 'the instance registered later answering');
      await consul.catalog.deregister('inventory-s0');
      await eventually(async () => (await answeredBy(20)).s0 === undefined, 'the deregistered instance getting no calls');
      await sleep(50);
      const counts = await answeredBy(40);
      assert.equal(counts.s0, undefined, JSON.stringify(counts));
      assert.ok(counts.s1! > 0 && counts.s2! > 0, JSON.stringify(counts));
    } finally {
      client.close();
      await mesh.close();
    }
  });
});
