/**
 * One instance of the example's inventory service: `node examples/grpc/server.ts a` listens on
 * 127.0.0.1 (a free port) and prints `listening <port>`. Every answer names the instance, so
 * the client shows where its calls went.
 */
import grpc from '@grpc/grpc-js';
import { inventoryHandlers, shop } from './inventory.ts';

const name = process.argv[2] ?? 'a';
const server = new grpc.Server();
server.addService(shop.Inventory.service, inventoryHandlers(name));
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(`listening ${port}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
