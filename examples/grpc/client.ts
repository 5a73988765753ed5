/**
 * gRPC through the mesh, runnable: `node examples/grpc/client.ts`. It starts two instances of
 * the inventory service (examples/grpc/server.ts) as processes of their own, then calls them
 * through `mesh.grpc()`: unary calls spread over both, a server stream, and calls that go on
 * without a failure after one instance is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createMesh } from '../../src/index.ts';
import '../../src/transport/grpc/index.ts'; // in an application: import 'meshlet/grpc'
import { type Any, InventoryClient } from './inventory.ts';

async function startInstance(name: string): Promise<{ process: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [new URL('./server.ts', import.meta.url).pathname, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { process: child, port: Number(/listening (\d+)/.exec(line.toString())![1]) };
}

const getItem = (client: Any, id: string): Promise<{ id: string; server: string }> =>
  new Promise((resolve, reject) => client.GetItem({ id }, (error: unknown, item: { id: string; server: string }) => (error ? reject(error) : resolve(item))));

const [a, b] = await Promise.all([startInstance('a'), startInstance('b')]);

// --- grpc ---
const mesh = await createMesh({
  service: 'checkout',
  config: { services: { inventory: { endpoints: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], timeout: '2s' } } },
});
const inventory = mesh.grpc('inventory', InventoryClient, { idempotent: ['GetItem'] });

const first = await Promise.all(Array.from({ length: 8 }, (_, i) => getItem(inventory, `sku-${i}`)));
console.log('answered by', first.map((item) => item.server).join(' '));

const streamed: string[] = [];
for await (const item of inventory.ListItems({ id: 'shelf', count: 3 })) streamed.push(`${item.id}@${item.server}`);
console.log('streamed', streamed.join(' '));

a.process.kill('SIGKILL'); // an instance dies; idempotent calls go on
const after = await Promise.all(Array.from({ length: 8 }, (_, i) => getItem(inventory, `after-${i}`)));
console.log('after killing a:', after.map((item) => item.server).join(' '));

inventory.close();
await mesh.close();
// --- end grpc ---
b.process.kill();
