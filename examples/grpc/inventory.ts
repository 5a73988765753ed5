/**
 * The example's gRPC service, shop.Inventory (the same .proto the tests use), loaded with
 * @grpc/proto-loader: the client constructor, the service definition, and the handlers one
 * instance serves (server.ts runs them as a process; the demo's gRPC leg in-process).
 */
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../test/fixtures/grpc/inventory.proto', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: proto-loader definitions are untyped
export type Any = any;

export const shop = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as Any).shop;
export const InventoryClient: new (address: string, credentials: grpc.ChannelCredentials, options?: Record<string, unknown>) => Any = shop.Inventory;

/** What the instance `name` answers: every answer names it, so a client shows where its calls went. */
export function inventoryHandlers(name: string): grpc.UntypedServiceImplementation {
  return {
    GetItem: (call: Any, callback: Any) => callback(null, { id: call.request.id, server: name }),
    Reserve: (call: Any, callback: Any) => callback(null, { id: call.request.id, server: name }),
    ListItems: (call: Any) => {
      for (let i = 0; i < Math.min(call.request.count || 3, 1000); i++) call.write({ id: `${call.request.id}-${i}`, server: name });
      call.end();
    },
    Upload: (call: Any, callback: Any) => {
      let count = 0;
      call.on('data', () => count++);
      call.on('end', () => callback(null, { count, server: name }));
    },
    Chat: (call: Any) => {
      call.on('data', (request: Any) => call.write({ id: request.id, server: name }));
      call.on('end', () => call.end());
    },
  };
}
