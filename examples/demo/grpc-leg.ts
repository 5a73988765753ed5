/**
 * The demo's gRPC leg: two grpc-js instances of 'inventory' on loopback, in the same mesh
 * (and the same config file) as 'catalog', called through `mesh.grpc()` after the HTTP
 * traffic: unary calls balanced over both (p2c-ewma, as HTTP), one server stream and one bidi
 * stream through discovery and balancing. What a gRPC call gets is the HTTP call's stack:
 * deadline, retries under the service's budget, its breaker and limits.
 */
import grpc from '@grpc/grpc-js';
import type { Mesh } from '../../src/index.ts';
import '../../src/transport/grpc/index.ts'; // in an application: import 'meshlet/grpc'
import { type Any, InventoryClient, inventoryHandlers, shop } from '../grpc/inventory.ts';

export interface GrpcLeg {
  /** The policy of 'inventory', for the demo's config. */
  readonly policy: Record<string, unknown>;
  run(mesh: Mesh, calls: number, concurrency: number): Promise<void>;
  close(): Promise<void>;
}

async function startInstance(name: string): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  server.addService(shop.Inventory.service, inventoryHandlers(name));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, address: `127.0.0.1:${port}` };
}

const getItem = (client: Any, id: string): Promise<{ server: string }> =>
  new Promise((resolve, reject) => client.GetItem({ id }, (error: unknown, item: { server: string }) => (error ? reject(error) : resolve(item))));

async function chat(client: Any, ids: readonly string[]): Promise<string[]> {
  const call = client.Chat();
  const answers: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (item: { id: string; server: string }) => answers.push(`${item.id}@${item.server}`));
    call.on('end', resolve);
    call.on('error', reject);
  });
  for (const id of ids) call.write({ id });
  call.end();
  await done;
  return answers;
}

export async function startGrpcLeg(): Promise<GrpcLeg> {
  const instances = await Promise.all(['grpc-a', 'grpc-b'].map(startInstance));
  return {
    policy: { endpoints: instances.map((i) => i.address), timeout: '1s', retry: { attempts: 3 } },
    async run(mesh, calls, concurrency) {
      const inventory = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });
      try {
        const byServer = new Map<string, number>();
        let failed = 0;
        let issued = 0;
        const started = performance.now();
        const worker = async (): Promise<void> => {
          while (issued < calls) {
            issued++;
            try {
              const { server } = await getItem(inventory, `sku-${issued}`);
              byServer.set(server, (byServer.get(server) ?? 0) + 1);
            } catch {
              failed++;
            }
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        const ms = performance.now() - started;
        const spread = [...byServer].sort().map(([server, count]) => `${server} ${count}`).join(', ');
        console.log(`\ngRPC leg: ${calls} unary calls to 'inventory' through mesh.grpc() in ${Math.round(ms)} ms: answered by ${spread}; failed ${failed}`);
        const streamed: string[] = [];
        for await (const item of inventory.ListItems({ id: 'shelf', count: 3 })) streamed.push(`${item.id}@${item.server}`);
        console.log(`  server stream: ${streamed.join(' ')}`);
        console.log(`  bidi stream: ${(await chat(inventory, ['ping-1', 'ping-2', 'ping-3'])).join(' ')}`);
        const breaker = (mesh.state() as Any).services.inventory.breaker;
        if (breaker !== undefined) console.log(`  inventory breaker (shared with its HTTP calls): ${breaker.state}, ${breaker.fires} calls`);
      } finally {
        inventory.close();
      }
    },
    close: () => Promise.all(instances.map((i) => new Promise<void>((resolve) => i.server.tryShutdown(() => resolve())))).then(() => undefined),
  };
}
