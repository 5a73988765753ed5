/**
 * What mesh.grpc() costs against a bare grpc-js client (issue 14). One tiny grpc-js server in
 * its own process; two callers, each in its own process: a bare grpc-js client and the
 * meshlet client (default policy: deadline, retry + budget, outlier ejection, p2c-ewma), both
 * calling unary GetItem; and the bare client with a 10 s deadline per call (`bare-deadline`), which
 * separates what grpc-js itself pays for the deadline meshlet always sends. Rounds alternate between the variants (the order flips each round)
 * so machine noise hits both alike. Figures: throughput with 32 concurrent callers, caller CPU
 * per call in those rounds, and p50 latency with 1 caller; medians over the rounds.
 * Goal: mesh >= 0.90x bare throughput and <= 15 us added p50. Never fails on timing.
 * Then meshlet's own JavaScript per call in memory, with no network (support/grpc-in-memory.ts).
 * Run: node bench/grpc-overhead.ts   (about 45 s; BENCH_ROUNDS, BENCH_ROUND_MS change the network
 * rounds, BENCH_MEMORY_ROUNDS / BENCH_MEMORY_ROUND_MS the in-memory ones, 0 skips them)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import type { GrpcCallerCommand, GrpcCallerReply } from './support/grpc-caller.ts';
import { formatRatio, median } from './support/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const CONCURRENCY = 32;
const LATENCY_CALLS = 2000;

function child(script: string, args: string[]): ChildProcess {
  return fork(new URL(script, import.meta.url).pathname, args, { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(process: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`child exited with ${code}`));
    process.once('exit', onExit);
    process.once('message', (message: T) => {
      process.off('exit', onExit);
      resolve(message);
    });
  });
}

async function ask(caller: ChildProcess, command: GrpcCallerCommand): Promise<GrpcCallerReply> {
  const answer = nextMessage<GrpcCallerReply>(caller);
  caller.send(command);
  return answer;
}

const server = child('./support/grpc-inventory.ts', []);
const { port } = await nextMessage<{ port: number }>(server);
const variants = ['bare', 'mesh', 'bare-deadline'].map((name) => ({ name, process: child('./support/grpc-caller.ts', [name, String(port)]), perSecond: [] as number[], cpu: [] as number[], p50: [] as number[] }));
for (const variant of variants) {
  const ready = await nextMessage<GrpcCallerReply>(variant.process);
  if (ready.kind !== 'ready') throw new Error(`${variant.name} caller answered ${ready.kind}`);
}

for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const variant of order) {
    const result = await ask(variant.process, { kind: 'throughput', concurrency: CONCURRENCY, ms: ROUND_MS });
    if (result.kind !== 'throughput') throw new Error(`unexpected ${result.kind}`);
    variant.perSecond.push(result.perSecond);
    variant.cpu.push(result.cpuPerCallUs);
  }
  for (const variant of order) {
    const result = await ask(variant.process, { kind: 'latency', calls: LATENCY_CALLS });
    if (result.kind !== 'latency') throw new Error(`unexpected ${result.kind}`);
    variant.p50.push(result.p50Us);
  }
}

const [bare, mesh] = variants as [(typeof variants)[number], (typeof variants)[number]];
console.log(`grpc-overhead: ${ROUNDS} rounds x ${ROUND_MS} ms, ${CONCURRENCY} concurrent; p50 over ${LATENCY_CALLS} calls from 1 caller; medians`);
console.log('variant | calls/s (32 conc) | ratio | caller CPU/call | p50 (1 caller) | added p50');
for (const variant of variants) {
  const p50 = median(variant.p50);
  console.log(
    `${variant.name.padEnd(7)} | ${median(variant.perSecond).toFixed(0).padStart(17)} | ${formatRatio(median(variant.perSecond), median(bare.perSecond)).padStart(5)} | ${median(variant.cpu).toFixed(1).padStart(12)} µs | ${p50.toFixed(1).padStart(11)} µs | ${(p50 - median(bare.p50)).toFixed(1).padStart(6)} µs`,
  );
}
const ratios = mesh.perSecond.map((value, i) => value / bare.perSecond[i]!);
console.log(`per-round throughput ratios: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
console.log(`per-round added p50 (µs): ${mesh.p50.map((value, i) => (value - bare.p50[i]!).toFixed(1)).join(' ')}`);
console.log(`goal: >= 0.90x throughput and <= 15 µs added p50`);
for (const variant of variants) variant.process.send({ kind: 'stop' });
server.disconnect();
// meshlet's own JavaScript per call, steadier than any loopback figure (support/grpc-in-memory.ts).
if (Number(process.env.BENCH_MEMORY_ROUNDS ?? 20) > 0) await once(child('./support/grpc-in-memory.ts', []), 'exit');
