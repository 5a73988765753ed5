/**
 * What a mesh.grpc() client costs against a bare grpc-js client when both go through grpc-js's
 * own client code — the method call, argument checks, serialisation, the interceptor chain
 * (InterceptingCall objects around meshlet's interceptor), the listener bindings — but not the
 * network: both clients get one in-memory channel (grpc-js's `channelOverride` option) whose
 * calls answer a serialised Item in the next `setImmediate` batch. grpc-in-memory.ts measures
 * meshlet's layers alone; this adds the grpc-js machinery the interceptor brings with it, the
 * part that file leaves out. Not here: the real channel's resolving, picking and deadline timer
 * (a channel override bypasses them), which the loopback rounds include.
 * Caller CPU per call, 32 callers, alternating rounds; median and 10th..90th of paired deltas.
 * Run alone: node bench/support/grpc-client-in-memory.ts (grpc-overhead.ts runs it at the end).
 */
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { throughput } from './driver.ts';
import { type Any, InventoryClient } from './grpc-inventory.ts';
import { pairedDeltas, spreadOf } from './grpc-rounds.ts';
import { median } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 20);
const ROUND_MS = Number(process.env.BENCH_MEMORY_ROUND_MS ?? 300);
const OK = { code: grpc.status.OK, details: 'OK', metadata: new grpc.Metadata() };
const HEADERS = new grpc.Metadata();
/** An Item { id: 'item' } as protobuf bytes (field 1, length 4). */
const ITEM = Buffer.from([10, 4, 105, 116, 101, 109]);

/** A channel-level call (grpc-js's Call interface): it answers after half-close. */
class MemoryChannelCall {
  #listener: Any;
  start(_metadata: unknown, listener: Any): void {
    this.#listener = listener;
  }
  sendMessageWithContext(context: { callback?: () => void }): void {
    context.callback?.();
  }
  startRead(): void {}
  halfClose(): void {
    setImmediate(() => {
      this.#listener.onReceiveMetadata(HEADERS);
      this.#listener.onReceiveMessage(ITEM);
      this.#listener.onReceiveStatus(OK);
    });
  }
  cancelWithStatus(): void {}
  getPeer(): string {
    return 'memory';
  }
  setCredentials(): void {}
  getCallNumber(): number {
    return 0;
  }
  getAuthContext(): null {
    return null;
  }
}

const channel = {
  createCall: () => new MemoryChannelCall(),
  close() {},
  getTarget: () => 'memory',
  getConnectivityState: () => grpc.connectivityState.READY,
  watchConnectivityState() {},
  getChannelzRef: () => ({}),
};
const bare: Any = new InventoryClient('memory:1', grpc.credentials.createInsecure(), { channelOverride: channel });
const mesh = await createMesh({ service: 'bench', config: { services: { inventory: { endpoints: ['127.0.0.1:9'] } } } });
const meshClient: Any = mesh.grpc('inventory', InventoryClient, { channelOptions: { channelOverride: channel } as Any });
const request = { id: 'item' };
const callOf =
  (client: Any) =>
  (): Promise<unknown> =>
    new Promise((resolve, reject) => client.GetItem(request, (error: unknown, answer: unknown) => (error ? reject(error) : resolve(answer))));
const variants = { bare: callOf(bare), mesh: callOf(meshClient) };

await throughput(variants.mesh, 32, 300); // warm-up
await throughput(variants.bare, 32, 300);
const cpu: Record<keyof typeof variants, number[]> = { bare: [], mesh: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = (round % 2 === 0 ? ['bare', 'mesh'] : ['mesh', 'bare']) as (keyof typeof variants)[];
  for (const name of order) cpu[name].push((await throughput(variants[name], 32, ROUND_MS)).cpuPerCallUs);
}
const added = spreadOf(pairedDeltas(cpu.mesh, cpu.bare));
const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
console.log(`grpc-js clients on an in-memory channel (${ROUNDS} rounds x ${ROUND_MS} ms, 32 callers): caller CPU per call, median ${median(cpu.bare).toFixed(2)} µs bare client, ${median(cpu.mesh).toFixed(2)} µs mesh.grpc() client`);
console.log(`mesh.grpc() over the bare client, grpc-js's interceptor machinery included (paired rounds): median ${signed(added.median)} µs [${signed(added.p10)} .. ${signed(added.p90)}]`);
bare.close();
meshClient.close();
await mesh.close();
