/**
 * What mesh.grpc() costs against a bare grpc-js client (issue 14). One tiny grpc-js server in
 * its own process, pinned to one CPU; the callers, each in its own process, pinned together to
 * the other (support/cpu-pin.ts): a bare grpc-js client, a second identical one (`bare-aa`, the
 * A/A control whose spread is the bench's noise floor), the meshlet client (default policy:
 * deadline, retry + budget, outlier ejection, p2c-ewma) and the bare client with a 10 s deadline
 * per call (`bare-deadline`: what grpc-js itself pays for a deadline: its per-call timer, the
 * grpc-timeout header and the server's timer for it), and the bare client sending only the
 * header (`bare-header`: grpc-timeout in its metadata, no grpc-js deadline: what meshlet's
 * always-on deadline costs since meshlet enforces the limit itself, in one shared timer queue).
 *
 * Several draws of fresh caller processes (a process can be slower than its twin for its whole
 * life: no one process decides a figure), each many short rounds; a round runs every variant
 * once, in an order that rotates, first a throughput burst (32 concurrent callers) and then a
 * latency burst (1 caller, in slices the variants take turns at). Every figure is paired with bare's from the same round: throughput
 * ratio, caller CPU per call, server CPU per call, added p50, and the added synchronous part of
 * a call (the method call until it returns, on the caller's thread: work, not waiting). Printed:
 * medians with 10th..90th percentiles of the paired figures pooled over the draws, and each
 * draw's own medians for mesh and the A/A control, so a draw unlike the others shows.
 * Goal: mesh >= 0.90x bare throughput and <= 15 us added p50. Each goal line judges the median of
 * the paired per-round figures by its 90% interval (support/stats.ts medianInterval: the draws
 * resampled, then the rounds within each), as bench/overhead.ts does: met / NOT met only when
 * the interval lies wholly on one side of the goal, with at least 4 draws, else undecided; the
 * A/A control's median and interval are printed beside it, and an A/A interval that leaves out
 * 1x (or +0 µs) says the bench itself is biased. NOTE: the per-round 10th..90th spreads in the
 * table are how far one round's pair can land, not how well the median is known: judging the
 * median by them (as this bench did) called a 0.926x and +12 µs run "cannot tell" with 36 rounds.
 * Never fails on timing.
 * Then, with no network: meshlet's own JavaScript per call (support/grpc-in-memory.ts), and a
 * bare vs a mesh.grpc() client through grpc-js's client code on an in-memory channel
 * (support/grpc-client-in-memory.ts: the interceptor machinery included).
 * Each caller process warms up alone before the rounds, until its CPU per call has settled
 * (support/grpc-caller.ts: at least BENCH_WARMUP_MS, 8 s by default, at most BENCH_WARMUP_MAX_MS, 20 s).
 * Run: node bench/grpc-overhead.ts   (about 6 min; BENCH_DRAWS, BENCH_ROUNDS (per draw), BENCH_ROUND_MS,
 * BENCH_LATENCY_CALLS, BENCH_LATENCY_SLICES change the network rounds, BENCH_MEMORY_ROUNDS / BENCH_MEMORY_ROUND_MS the in-memory ones, 0 skips them)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { pinnedForkOptions, pinning, type PinRole } from './support/cpu-pin.ts';
import type { GrpcCallerCommand, GrpcCallerReply } from './support/grpc-caller.ts';
import { formatSpread, pairedDeltas, pairedRatios, spreadOf } from './support/grpc-rounds.ts';
import { controlBias, goalVerdict, median, medianInterval } from './support/stats.ts';

const DRAWS = Math.max(1, Number(process.env.BENCH_DRAWS ?? 4));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);
const LATENCY_CALLS = Number(process.env.BENCH_LATENCY_CALLS ?? 200);
/**
 * A round's latency calls come in this many slices per variant, the variants taking turns slice
 * by slice: a variant's p50 for the round is over all its slices, and its paired partner's calls
 * ran within a few ms of its own rather than a whole burst (~0.2-1 s) apart, so a machine whose
 * speed drifts between bursts moves both alike.
 */
const LATENCY_SLICES = Math.max(1, Number(process.env.BENCH_LATENCY_SLICES ?? 10));
const CONCURRENCY = 32;
const NAMES = ['bare', 'bare-aa', 'mesh', 'bare-deadline', 'bare-header'] as const;

function child(script: string, args: string[], role: PinRole): ChildProcess {
  return fork(new URL(script, import.meta.url).pathname, args, { ...pinnedForkOptions(role), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

const server = child('./support/grpc-inventory.ts', [], 'server');
const { port } = await nextMessage<{ port: number }>(server);
const serverCpu = async (): Promise<number> => {
  const answer = nextMessage<{ cpuUs: number }>(server);
  server.send('cpu');
  return (await answer).cpuUs;
};

/** A variant's per-round figures, pooled over every draw: round i of every variant is the same round. */
const variants = NAMES.map((name) => ({ name, perSecond: [] as number[], cpu: [] as number[], serverCpu: [] as number[], p50: [] as number[], issue: [] as number[] }));
type Variant = (typeof variants)[number];
const drawLines: string[] = [];
const warmUpLines: string[] = [];

/**
 * One draw: a fresh caller process per variant (a process can run slower than its twin for its
 * whole life, so no single process decides a figure), warmed, then ROUNDS rounds in which every
 * variant runs once, in an order that rotates: a throughput burst, then the latency slices.
 */
async function draw(index: number): Promise<void> {
  // One at a time: each caller warms up (until its CPU per call settles, support/grpc-caller.ts) with the callers' CPU to itself.
  const callers: { variant: Variant; process: ChildProcess }[] = [];
  const warmUps: string[] = [];
  // NOTE: started and warmed in an order that rotates with the draw, as the rounds' order does:
  // with bare always first (the first connection the server accepted, the longest idle after its
  // warm-up), an 8-draw run had the A/A twin at 1.062x [1.041..1.114] of bare, bare's CPU per
  // call 5 µs above its twin's: every ratio against bare was flattered by that much.
  for (const variant of variants.map((_, i) => variants[(i + index) % variants.length]!)) {
    const process = child('./support/grpc-caller.ts', [variant.name, String(port)], 'caller');
    const ready = await nextMessage<GrpcCallerReply>(process);
    if (ready.kind !== 'ready') throw new Error(`${variant.name} caller answered ${ready.kind}`);
    const cpu = ready.warmUpCpuUs;
    warmUps.push(`${variant.name} ${(ready.warmUpMs / 1000).toFixed(1)} s, CPU/call ${cpu[0]!.toFixed(0)} -> ${median(cpu.slice(-3)).toFixed(0)} µs`);
    callers.push({ variant, process });
  }
  warmUpLines.push(`draw ${index + 1}: ${warmUps.join('; ')}`);
  const from = variants[0]!.p50.length;
  for (let round = 0; round < ROUNDS; round++) {
    const order = callers.map((_, i) => callers[(i + round) % callers.length]!);
    for (const { variant, process } of order) {
      const before = await serverCpu();
      const result = await ask(process, { kind: 'throughput', concurrency: CONCURRENCY, ms: ROUND_MS });
      if (result.kind !== 'throughput') throw new Error(`unexpected ${result.kind}`);
      variant.serverCpu.push(((await serverCpu()) - before) / result.calls);
      variant.perSecond.push(result.perSecond);
      variant.cpu.push(result.cpuPerCallUs);
    }
    const samples = order.map(() => ({ total: [] as number[], issue: [] as number[] }));
    for (let slice = 0; slice < LATENCY_SLICES; slice++) {
      for (const [i, { process }] of order.entries()) {
        const result = await ask(process, { kind: 'latency', calls: Math.ceil(LATENCY_CALLS / LATENCY_SLICES) });
        if (result.kind !== 'latency') throw new Error(`unexpected ${result.kind}`);
        samples[i]!.total.push(...result.samplesUs);
        samples[i]!.issue.push(...result.issueUs);
      }
    }
    for (const [i, { variant }] of order.entries()) {
      variant.p50.push(median(samples[i]!.total));
      variant.issue.push(median(samples[i]!.issue));
    }
  }
  for (const { process } of callers) process.send({ kind: 'stop' });
  await Promise.all(callers.map(({ process }) => once(process, 'exit')));
  const [bare, control, mesh] = [variants[0]!, variants[1]!, variants[2]!];
  const ofDraw = (values: number[]): number[] => values.slice(from);
  const ratio = (variant: Variant): string => median(pairedRatios(ofDraw(variant.perSecond), ofDraw(bare.perSecond))).toFixed(3);
  const added = (variant: Variant): string => median(pairedDeltas(ofDraw(variant.p50), ofDraw(bare.p50))).toFixed(1);
  drawLines.push(`draw ${index + 1}: mesh ${ratio(mesh)}x, ${added(mesh)} µs / A/A ${ratio(control)}x, ${added(control)} µs`);
}

const loadBefore = loadavg();
for (let i = 0; i < DRAWS; i++) await draw(i);

const bare = variants[0]!;
const load = (values: number[]): string => values.map((l) => l.toFixed(2)).join(' ');
console.log(
  `grpc-overhead: ${DRAWS} draws of fresh caller processes x ${ROUNDS} rounds; each round: every variant ${ROUND_MS} ms at ${CONCURRENCY} concurrent, then ${LATENCY_CALLS} calls from 1 caller in ${LATENCY_SLICES} slices taking turns; order rotates`,
);
console.log(`${pinning()}; load average before ${load(loadBefore)}, after ${load(loadavg())}`);
console.log(`Per-round figures paired with bare of the same round, pooled over the draws (${variants[0]!.p50.length} rounds): median [10th .. 90th percentile]`);
console.log(
  'variant       | calls/s | throughput ratio          | caller CPU/call µs | added caller CPU µs    | server CPU/call µs | p50 µs | added p50 µs             | added sync part µs',
);
for (const variant of variants) {
  const ratio = spreadOf(pairedRatios(variant.perSecond, bare.perSecond));
  const addedCpu = spreadOf(pairedDeltas(variant.cpu, bare.cpu));
  const addedP50 = spreadOf(pairedDeltas(variant.p50, bare.p50));
  const addedIssue = spreadOf(pairedDeltas(variant.issue, bare.issue));
  console.log(
    `${variant.name.padEnd(13)} | ${median(variant.perSecond).toFixed(0).padStart(7)} | ${formatSpread(ratio, 3, 'x').padEnd(25)} | ${median(variant.cpu).toFixed(1).padStart(18)} | ${formatSpread(addedCpu, 1).padEnd(22)} | ${median(variant.serverCpu).toFixed(1).padStart(18)} | ${median(variant.p50).toFixed(1).padStart(6)} | ${formatSpread(addedP50, 1).padEnd(24)} | ${formatSpread(addedIssue, 1)}`,
  );
}
console.log(`per draw (medians of its paired rounds): ${drawLines.join('; ')}`);
console.log(`warm-up (each caller alone until its CPU per call at 32 concurrent settled; first window -> median of the last three): ${warmUpLines.join(' | ')}`);
console.log("'added sync part': what the call's synchronous part (the method call until it returns, on the caller's thread) adds to bare's, paired the same way");
// Round i of every variant is the same round; a draw's rounds are ROUNDS consecutive ones.
const byDraw = (values: number[]): number[][] => Array.from({ length: DRAWS }, (_, d) => values.slice(d * ROUNDS, (d + 1) * ROUNDS));
const [meshVariant, controlVariant] = [variants.find((v) => v.name === 'mesh')!, variants.find((v) => v.name === 'bare-aa')!];
const judged = (
  goal: string,
  figure: (variant: Variant) => number[],
  threshold: number,
  better: 'higher' | 'lower',
  neutral: number,
  format: (value: number) => string,
): string => {
  const [mesh, control] = [byDraw(figure(meshVariant)), byDraw(figure(controlVariant))];
  const [meshInterval, controlInterval] = [medianInterval(mesh), medianInterval(control)];
  return `goal: ${goal}: ${goalVerdict(meshInterval, threshold, better, DRAWS)}: median of paired rounds ${format(median(mesh.flat()))}, 90% interval ${format(meshInterval.low)} .. ${format(meshInterval.high)}; A/A ${format(median(control.flat()))}, ${format(controlInterval.low)} .. ${format(controlInterval.high)}.${controlBias(controlInterval, neutral, format(neutral))}`;
};
const times = (value: number): string => `${value.toFixed(3)}x`;
const micros = (value: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(1)} µs`;
console.log(judged('throughput >= 0.90x bare', (v) => pairedRatios(v.perSecond, bare.perSecond), 0.9, 'higher', 1, times));
console.log(judged('added p50 <= 15 µs', (v) => pairedDeltas(v.p50, bare.p50), 15, 'lower', 0, micros));
server.disconnect();
// meshlet's own JavaScript per call, steadier than any loopback figure (support/grpc-in-memory.ts),
// then with grpc-js's client and interceptor machinery around it (support/grpc-client-in-memory.ts).
if (Number(process.env.BENCH_MEMORY_ROUNDS ?? 20) > 0) {
  await once(child('./support/grpc-in-memory.ts', [], 'caller'), 'exit');
  await once(child('./support/grpc-client-in-memory.ts', [], 'caller'), 'exit');
}
