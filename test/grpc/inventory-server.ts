/**
 * Real grpc-js servers for the gRPC tests: the shop.Inventory service from
 * test/fixtures/grpc/inventory.proto on 127.0.0.1, port 0. Each answer names its instance and
 * the time it had left (from the grpc-timeout the client sent); handlers can be replaced per
 * test to fail, stall or count.
 */
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../fixtures/grpc/inventory.proto', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: proto-loader definitions are untyped
export type Any = any;

const definition = protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true });
const shop = (grpc.loadPackageDefinition(definition) as Any).shop;

/** The generated-style client constructor for shop.Inventory. */
export const InventoryClient: new (address: string, credentials: grpc.ChannelCredentials, options?: Record<string, unknown>) => Any = shop.Inventory;

export interface Item {
  id: string;
  server: string;
  deadline_ms: number;
}

export type Handlers = Partial<Record<'GetItem' | 'Reserve' | 'ListItems' | 'Upload' | 'Chat', (call: Any, callback: Any) => void>>;

export interface InventoryServer {
  readonly name: string;
  readonly port: number;
  /** `127.0.0.1:port`, as meshlet's static endpoints name it. */
  readonly address: string;
  /** Calls received, by method. */
  readonly calls: Record<string, number>;
  /** Graceful shutdown. */
  stop(): Promise<void>;
  /** Drops every connection and call at once, as a crashed instance would. */
  kill(): void;
}

export function deadlineLeft(call: Any): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : -1;
}

/** `credentials`: the server's (default insecure); TLS tests pass `grpc.ServerCredentials.createSsl(...)`. `bind`: host:port (port 0: any). */
export async function startInventoryServer(name: string, handlers: Handlers = {}, credentials = grpc.ServerCredentials.createInsecure(), bind = '127.0.0.1:0'): Promise<InventoryServer> {
  const server = new grpc.Server();
  const calls: Record<string, number> = { GetItem: 0, Reserve: 0, ListItems: 0, Upload: 0, Chat: 0 };
  const item = (call: Any): Item => ({ id: call.request.id, server: name, deadline_ms: deadlineLeft(call) });
  const counted =
    (method: keyof typeof calls, fallback: (call: Any, callback: Any) => void) =>
    (call: Any, callback: Any): void => {
      calls[method]!++;
      (handlers[method as keyof Handlers] ?? fallback)(call, callback);
    };
  server.addService(shop.Inventory.service, {
    GetItem: counted('GetItem', (call, callback) => callback(null, item(call))),
    Reserve: counted('Reserve', (call, callback) => callback(null, item(call))),
    ListItems: counted('ListItems', (call) => {
      const count = call.request.count || 3;
      for (let i = 0; i < count; i++) call.write({ id: `${call.request.id}-${i}`, server: name, deadline_ms: deadlineLeft(call) });
      call.end();
    }),
    Upload: counted('Upload', (call, callback) => {
      let count = 0;
      call.on('data', () => count++);
      call.on('end', () => callback(null, { count, server: name }));
    }),
    Chat: counted('Chat', (call) => {
      call.on('data', (request: { id: string }) => call.write({ id: request.id, server: name, deadline_ms: deadlineLeft(call) }));
      call.on('end', () => call.end());
    }),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(bind, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    name,
    port,
    address: `${bind.slice(0, bind.lastIndexOf(':'))}:${port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    kill: () => server.forceShutdown(),
  };
}

/** A unary call as a promise: the answer, or the ServiceError. */
export function unary<T>(client: Any, method: string, request: unknown, options: Record<string, unknown> = {}, metadata?: grpc.Metadata): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, metadata ?? new grpc.Metadata(), options, (error: unknown, answer: T) => (error ? reject(error) : resolve(answer)));
  });
}

/** Settles a unary call into `{ ok, value | error }`, for traffic loops. */
export function settle<T>(pending: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Any }> {
  return pending.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Reads a server stream to its end: the items, and the ServiceError it ended with (undefined: it ended cleanly). */
export async function readAll(stream: Any): Promise<{ items: Item[]; error: grpc.ServiceError | undefined }> {
  const items: Item[] = [];
  return new Promise((resolve) => {
    stream.on('data', (item: Item) => items.push(item));
    stream.on('error', (error: grpc.ServiceError) => resolve({ items, error }));
    stream.on('end', () => resolve({ items, error: undefined }));
  });
}
