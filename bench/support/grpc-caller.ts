/**
 * One variant of the grpc-overhead benchmark in a process of its own (so neither variant's
 * garbage, JIT state or event-loop backlog lands on the other's rounds): `bare` is a plain
 * grpc-js client on `127.0.0.1:port` (`bare-aa`: the same again, the A/A control;
 * `bare-deadline`: with a 10 s deadline per call; `bare-header`: with grpc-timeout 10 s in its
 * metadata and no grpc-js deadline, as meshlet sends it); `mesh` is `mesh.grpc('inventory', …)` over a static
 * endpoint with the default policy (deadline, retry + budget, outlier ejection, p2c-ewma).
 * Driven over IPC: each command runs one round and answers with its figures. A latency round
 * also times the synchronous part of each call (from the method call until it returns: what the
 * caller's thread does before the request can leave), so a gap in p50 can be read as work on the
 * caller's thread or as time elsewhere (the wire, the server, an event-loop turn).
 *
 * Before it says it is ready it warms up until its CPU per call has settled: a fresh process's
 * grpc-js path costs several times its steady figure at first and falls for seconds (JIT tiers,
 * deoptimisations, page faults), so a short fixed warm-up left each variant's first rounds on a
 * slope of its own. Windows of 400 ms at 32 concurrent plus 50 sequential calls run for at least
 * BENCH_WARMUP_MS (default 8000), then until the median CPU per call of the last three windows is
 * no lower than 0.97x that of the three before (it stopped falling), at most BENCH_WARMUP_MAX_MS
 * (default 20000). The ready message carries the windows' figures, for the bench to print.
 */
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { throughput } from './driver.ts';
import { type Any, InventoryClient } from './grpc-inventory.ts';
import { median } from './stats.ts';

export type GrpcCallerCommand = { kind: 'throughput'; concurrency: number; ms: number } | { kind: 'latency'; calls: number } | { kind: 'stop' };
export type GrpcCallerReply = { kind: 'ready'; warmUpMs: number; warmUpCpuUs: number[] } | { kind: 'throughput'; perSecond: number; cpuPerCallUs: number; calls: number } | { kind: 'latency'; samplesUs: number[]; issueUs: number[] };

const [variant, port] = process.argv.slice(2);
const address = `127.0.0.1:${port}`;
let client: Any;
let close = async (): Promise<void> => {};
if (variant === 'mesh') {
  const mesh = await createMesh({ service: 'bench', config: { services: { inventory: { endpoints: [address] } } } });
  client = mesh.grpc('inventory', InventoryClient);
  close = () => mesh.close();
} else {
  client = new InventoryClient(address, grpc.credentials.createInsecure());
}
const request = { id: 'item' };
// `bare-deadline`: the bare client with the 10 s deadline meshlet's default timeout sends, so the
// cost grpc-js itself pays for a deadline (its timer, the grpc-timeout header) shows apart.
const withDeadline = variant === 'bare-deadline';
// `bare-header`: the header alone (grpc-js passes a grpc-timeout set in metadata through, and arms no timer),
// so the part of the deadline meshlet still pays per call (the header, the server's timer) shows apart.
const withHeader = variant === 'bare-header';
const call = (): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const done = (error: unknown, answer: unknown) => (error ? reject(error) : resolve(answer));
    if (withDeadline) client.GetItem(request, { deadline: Date.now() + 10_000 }, done);
    else if (withHeader) {
      const metadata = new grpc.Metadata();
      metadata.set('grpc-timeout', '10000m');
      client.GetItem(request, metadata, done);
    }
    else client.GetItem(request, done);
  });

/** `calls` sequential calls (at most 10 s): each call's whole time and its synchronous part, in µs. */
async function latencyRound(calls: number): Promise<{ samplesUs: number[]; issueUs: number[] }> {
  const total: number[] = [];
  const issue: number[] = [];
  const end = performance.now() + 10_000;
  while (total.length < calls && performance.now() < end) {
    const start = performance.now();
    const answered = call();
    issue.push((performance.now() - start) * 1000);
    await answered;
    total.push((performance.now() - start) * 1000);
  }
  return { samplesUs: total, issueUs: issue };
}

const reply = (message: GrpcCallerReply): void => {
  process.send?.(message);
};

process.on('message', async (command: GrpcCallerCommand) => {
  if (command.kind === 'throughput') {
    const result = await throughput(call, command.concurrency, command.ms);
    reply({ kind: 'throughput', perSecond: result.perSecond, cpuPerCallUs: result.cpuPerCallUs, calls: result.calls });
  } else if (command.kind === 'latency') {
    reply({ kind: 'latency', ...(await latencyRound(command.calls)) });
  } else {
    client.close();
    await close();
    process.exit(0);
  }
});
const WARM_UP_MIN_MS = Number(process.env.BENCH_WARMUP_MS ?? 8000);
const WARM_UP_MAX_MS = Math.max(WARM_UP_MIN_MS, Number(process.env.BENCH_WARMUP_MAX_MS ?? 20_000));

/** Whether CPU per call stopped falling: the last three windows' median no lower than 0.97x the three before. */
function settled(cpu: readonly number[]): boolean {
  if (cpu.length < 6) return false;
  return median(cpu.slice(-3)) >= 0.97 * median(cpu.slice(-6, -3));
}

async function warmUp(): Promise<{ warmUpMs: number; warmUpCpuUs: number[] }> {
  const started = performance.now();
  const cpu: number[] = [];
  for (;;) {
    // Both shapes of the rounds to come, so both paths are compiled and warm.
    cpu.push((await throughput(call, 32, 400)).cpuPerCallUs);
    await latencyRound(50);
    const elapsed = performance.now() - started;
    if (elapsed >= WARM_UP_MAX_MS || (elapsed >= WARM_UP_MIN_MS && settled(cpu))) return { warmUpMs: elapsed, warmUpCpuUs: cpu };
  }
}

reply({ kind: 'ready', ...(await warmUp()) });
