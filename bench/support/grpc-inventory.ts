/**
 * The grpc-overhead benchmark's service: shop.Inventory from test/fixtures/grpc/inventory.proto,
 * loaded once per process, and a tiny server process answering GetItem at once.
 * Run as a script it is that server: it binds 127.0.0.1:0 and sends its port over IPC, then
 * answers any IPC message with its CPU time so far.
 */
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../test/fixtures/grpc/inventory.proto', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: proto-loader definitions are untyped
export type Any = any;

const shop = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as Any).shop;

export const InventoryClient: new (address: string, credentials: grpc.ChannelCredentials, options?: Record<string, unknown>) => Any = shop.Inventory;

export function startServer(): Promise<number> {
  const server = new grpc.Server();
  const answer = { id: 'item', server: 'bench', deadline_ms: 0 };
  server.addService(shop.Inventory.service, {
    GetItem: (_call: Any, callback: Any) => callback(null, answer),
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = await startServer();
  process.send?.({ port });
  // The bench asks for this process's CPU time around each throughput round (server CPU per call).
  process.on('message', () => {
    const used = process.cpuUsage();
    process.send?.({ cpuUs: used.user + used.system });
  });
  process.on('disconnect', () => process.exit(0));
}
