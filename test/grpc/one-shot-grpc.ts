/**
 * A one-shot script making gRPC calls through the mesh, for attempt-limit.test.ts: the service's
 * timeout is 30 s, so an attempt's time limit that outlived its call (or held the process after
 * close) would keep this process alive far past the parent's bound. It makes one call that
 * answers, one the caller cancels in flight, and one still in flight when it closes the client
 * (the server answers it later), then closes the mesh, prints what each call ended with and
 * ends by itself. argv[2]: the server's address.
 */
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { InventoryClient, settle, unary } from './inventory-server.ts';

const address = process.argv[2]!;
const mesh = await createMesh({ service: 'one-shot', config: { services: { inventory: { endpoints: [address], timeout: '30s' } } } });
const client = mesh.grpc('inventory', InventoryClient);
const answered = await settle(unary(client, 'GetItem', { id: 'fast' }));
// The server never answers 'stall': the caller gives up on it.
const stalled = client.Reserve({ id: 'stall' }, new grpc.Metadata(), (_error: unknown) => {});
const cancelled = new Promise<number>((resolve) => stalled.on('status', (status: grpc.StatusObject) => resolve(status.code)));
setTimeout(() => stalled.cancel(), 100);
const cancelledCode = await cancelled;
// The server answers 'late' after 300 ms; the client is closed while it is in flight.
const late = settle(unary(client, 'Reserve', { id: 'late' }));
setTimeout(() => client.close(), 50);
const lateResult = await late;
await mesh.close();
console.log(JSON.stringify({ answered: answered.ok, cancelled: cancelledCode, late: lateResult.ok ? 'ok' : lateResult.error.code }));
