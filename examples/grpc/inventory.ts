/**
 * The example's gRPC service, shop.Inventory (the same .proto the tests use), loaded with
 * @grpc/proto-loader: the client constructor and the service definition.
 */
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../test/fixtures/grpc/inventory.proto', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: proto-loader definitions are untyped
export type Any = any;

export const shop = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as Any).shop;
export const InventoryClient: new (address: string, credentials: grpc.ChannelCredentials, options?: Record<string, unknown>) => Any = shop.Inventory;
