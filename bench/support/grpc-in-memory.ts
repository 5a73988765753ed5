/**
 * meshlet's own JavaScript per gRPC call, without grpc-js's network, parser or server: the
 * interceptor's unary call (unary-call.ts) driven as grpc-js drives it, down the default stack
 * (deadline, retry + budget, balancer with p2c-ewma and outlier ejection, the attempt
 * transport), onto an in-memory `nextCall` that answers in the next `setImmediate` batch. The
 * baseline drives that same in-memory call directly. Caller CPU per call over many short
 * rounds, alternating, 32 callers; median and 10th percentile of the paired per-round deltas.
 * Not measured here: grpc-js's own InterceptingCall around an interceptor's call (one object).
 * Run alone: node bench/support/grpc-in-memory.ts (grpc-overhead.ts runs it after its rounds).
 */
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { bind } from '../../src/transport/grpc/binding.ts';
import { ClientStacks } from '../../src/transport/grpc/logical-call.ts';
import { UnaryCall } from '../../src/transport/grpc/unary-call.ts';
import { throughput } from './driver.ts';
import type { Any } from './grpc-inventory.ts';
import { median, percentile } from './stats.ts';

const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 20);
const ROUND_MS = Number(process.env.BENCH_MEMORY_ROUND_MS ?? 300);
const ANSWER = { id: 'item', server: 'memory', deadline_ms: 0 };
const OK = { code: grpc.status.OK, details: 'OK', metadata: new grpc.Metadata() };
const HEADERS = new grpc.Metadata();

/** An in-memory call with the InterceptingCallInterface surface: it answers after half-close. */
class MemoryCall {
  #listener: Any;
  start(_metadata: unknown, listener: Any): void {
    this.#listener = listener;
  }
  sendMessage(): void {}
  sendMessageWithContext(): void {}
  startRead(): void {}
  cancelWithStatus(): void {}
  getPeer(): string {
    return 'memory';
  }
  getAuthContext(): null {
    return null;
  }
  halfClose(): void {
    setImmediate(() => {
      this.#listener.onReceiveMetadata(HEADERS);
      this.#listener.onReceiveMessage(ANSWER);
      this.#listener.onReceiveStatus(OK);
    });
  }
}

const nextCall = (): MemoryCall => new MemoryCall();
const mesh = await createMesh({ service: 'bench', config: { services: { inventory: { endpoints: ['127.0.0.1:9'] } } } });
const stacks = new ClientStacks(bind(mesh, 'inventory', new Set()));
const options = { method_definition: { path: '/shop.Inventory/GetItem', requestStream: false, responseStream: false } } as Any;
const request = { id: 'item' };

const drive = (call: Any): Promise<unknown> =>
  new Promise((resolve, reject) => {
    call.start(new grpc.Metadata(), { onReceiveMetadata() {}, onReceiveMessage() {}, onReceiveStatus: (status: Any) => (status.code === 0 ? resolve(status) : reject(new Error(status.details))) });
    call.sendMessage(request);
    call.halfClose();
  });
const variants = {
  memory: () => drive(new MemoryCall()),
  mesh: () => drive(new UnaryCall(stacks, options, nextCall as Any)),
};

await throughput(variants.mesh, 32, 300); // warm-up
await throughput(variants.memory, 32, 300);
const cpu: Record<keyof typeof variants, number[]> = { memory: [], mesh: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = (round % 2 === 0 ? ['memory', 'mesh'] : ['mesh', 'memory']) as (keyof typeof variants)[];
  for (const name of order) cpu[name].push((await throughput(variants[name], 32, ROUND_MS)).cpuPerCallUs);
}
const deltas = cpu.mesh.map((value, i) => value - cpu.memory[i]!);
console.log(`in memory (${ROUNDS} rounds x ${ROUND_MS} ms, 32 callers): caller CPU per call, median ${median(cpu.memory).toFixed(2)} µs bare in-memory call, ${median(cpu.mesh).toFixed(2)} µs through meshlet`);
const signed = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(2)} µs`;
console.log(`meshlet's own cost per call (paired rounds): median ${signed(median(deltas))}, 10th percentile ${signed(percentile(deltas, 10))}, 90th ${signed(percentile(deltas, 90))}`);
await mesh.close();
