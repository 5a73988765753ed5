/**
 * What each framework adapter adds to an inbound request (issue 13), against the same
 * framework without it, in the same run: Express, Fastify, Nest on Express, Nest on Fastify,
 * each served bare and with meshlet's adapter from a process of its own
 * (support/adapter-server.ts), called by this process over keep-alive loopback connections
 * with the header a meshlet caller sends (`x-meshlet-timeout-ms`).
 *
 * Steadiness on 2 shared vCPUs (support/cpu-pin.ts says why): the servers run pinned to one
 * CPU and this load generator to the other. Several draws of fresh server processes (bare, a
 * second bare one as the A/A control, meshlet), each many short rounds in which every variant
 * runs once, in an order that rotates; every figure is paired with bare's of the same round.
 * Figures: throughput at 32 concurrent callers (ratio adapter / bare; goal >= 0.95x), the
 * server process's CPU per request in those rounds (added µs; bare / adapter is the
 * throughput ratio a CPU-bound server reaches, and it moves far less with machine noise than
 * throughput does), and the p50 latency with one caller (added µs). The table prints each
 * paired figure's median with the 10th-90th percentile of the rounds; the goal lines judge the
 * median by its 90% interval (support/stats.ts medianInterval, goalVerdict), the A/A control's beside it.
 * A second table injects requests in memory (support/adapter-server.ts `memory` mode: Node's
 * request and response objects without a socket, both variants in one process, alternating
 * rounds): the JavaScript a request costs, the adapter's included, with no syscall, parser or
 * scheduler to blur it. Its heap bytes per request are exact; its CPU figures are not steady
 * (light-my-request itself allocates ~27 KB a request: rounds spread ±60% on 2026-12-03).
 * Never fails on timing.
 * Run: node bench/adapters.ts   (about 4 min without the in-memory table; BENCH_DRAWS, BENCH_ROUNDS (per draw) / BENCH_ROUND_MS change the
 * network rounds, BENCH_MEMORY_ROUNDS / BENCH_MEMORY_ROUND_MS the in-memory ones (0 rounds skips a
 * table), BENCH_FRAMEWORKS=fastify,express picks frameworks)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { pinnedCommand, pinning } from './support/cpu-pin.ts';
import { latencies, throughput } from './support/driver.ts';
import { controlBias, goalVerdict, median, medianInterval, percentile } from './support/stats.ts';

// The load generator pins itself (all its threads) to the callers' CPU, the last one.
// NOTE: not by re-running itself under pinnedForkOptions: a process pinned to one CPU sees
// availableParallelism() === 1, so cpu-pin.ts inside it would turn pinning off for the servers.
const PINNING = pinning();
if (PINNING !== 'not pinned') execFileSync('/usr/bin/taskset', ['-a', '-p', '-c', String(availableParallelism() - 1), String(process.pid)], { stdio: 'ignore' });

const DRAWS = Math.max(1, Number(process.env.BENCH_DRAWS ?? 4));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 300);
const MEMORY_ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 20);
const MEMORY_ROUND_MS = Number(process.env.BENCH_MEMORY_ROUND_MS ?? 250);
const CONCURRENCY = 32;
const LATENCY_CALLS = 400;
const LATENCY_MS = 150;
const GOAL = 0.95;
const ALL = ['express', 'fastify', 'nest-express', 'nest-fastify'] as const;
const FRAMEWORKS = process.env.BENCH_FRAMEWORKS?.split(',') ?? ALL;
const SERVER = fileURLToPath(new URL('./support/adapter-server.ts', import.meta.url));
const HEADERS = { 'x-meshlet-timeout-ms': '5000' };

interface Target {
  readonly child: ChildProcess;
  readonly pool: Pool;
}

/** A variant's per-round figures, pooled over every draw: round i of every variant is the same round. */
interface Figures {
  readonly throughputs: number[];
  readonly p50s: number[];
  readonly cpuPerRequest: number[];
}

const figures = (): Figures => ({ throughputs: [], p50s: [], cpuPerRequest: [] });

async function startTarget(framework: string, variant: 'bare' | 'meshlet'): Promise<Target> {
  const [command, args] = pinnedCommand('server', process.execPath, [SERVER, framework, variant]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
    child.once('exit', (code) => reject(new Error(`the ${framework} ${variant} server exited with ${code}`)));
  });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  return { child, pool };
}

const call = (target: Target) => async (): Promise<void> => {
  const res = await target.pool.request({ method: 'GET', path: '/x', headers: HEADERS });
  await res.body.text();
};

async function serverCpuUs(target: Target): Promise<number> {
  const res = await target.pool.request({ method: 'GET', path: '/cpu' });
  return ((await res.body.json()) as { us: number }).us;
}

/** One round of `target`, its figures added to `into`. */
async function round(target: Target, into: Figures, ms: number): Promise<void> {
  const before = await serverCpuUs(target);
  const result = await throughput(call(target), CONCURRENCY, ms);
  into.cpuPerRequest.push(((await serverCpuUs(target)) - before) / result.calls);
  into.throughputs.push(result.perSecond);
  into.p50s.push(median(await latencies(call(target), LATENCY_CALLS, LATENCY_MS)));
}

/** `median [p10..p90]` of the per-pair values. */
function spread(values: readonly number[], digits: number, sign = false): string {
  const format = (value: number): string => (sign && value >= 0 ? '+' : '') + value.toFixed(digits);
  return `${format(median(values))} [${format(percentile(values, 10))}..${format(percentile(values, 90))}]`;
}

function paired(adapter: readonly number[], bare: readonly number[], combine: (a: number, b: number) => number): number[] {
  return adapter.map((value, i) => combine(value, bare[i]!));
}

/** The in-memory rounds of one framework, both variants in one pinned process. */
async function inMemory(framework: string): Promise<string[]> {
  const [command, args] = pinnedCommand('server', process.execPath, [SERVER, framework, 'memory', String(MEMORY_ROUNDS), String(MEMORY_ROUND_MS)]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the ${framework} in-memory run exited with ${code}`);
  const { bare, control, meshlet, bareBytes, controlBytes, meshletBytes } = JSON.parse(out) as Record<
    'bare' | 'control' | 'meshlet' | 'bareBytes' | 'controlBytes' | 'meshletBytes',
    number[]
  >;
  const controlRatios = paired(control, bare, (a, b) => b / a);
  const row = (name: string, values: number[], bytes: number[]): string => {
    const added = paired(values, bare, (a, b) => a - b);
    const ratios = paired(values, bare, (a, b) => b / a);
    const [bare10, variant10] = [percentile(bare, 10), percentile(values, 10)];
    const judged = values === control ? '(control)' : verdict(median(ratios), controlRatios);
    return `| ${name} | ${bare10.toFixed(1)} / ${median(bare).toFixed(1)} | ${variant10.toFixed(1)} / ${median(values).toFixed(1)} | ${(variant10 - bare10 >= 0 ? '+' : '') + (variant10 - bare10).toFixed(2)} (${(bare10 / variant10).toFixed(3)}x) | ${spread(added, 2, true)} | ${spread(ratios, 3)} ${judged} | ${median(bareBytes).toFixed(0)} | ${spread(paired(bytes, bareBytes, (a, b) => a - b), 0, true)} |`;
  };
  return [row(framework, meshlet, meshletBytes), row(`${framework} A/A`, control, controlBytes)];
}

/**
 * The verdict on a median ratio against the goal, judged against the A/A control's spread: a
 * ratio within half the control's p10..p90 width of the goal is one the bench cannot tell from
 * the goal on this machine ('undecided'), not a pass or a miss.
 */
function verdict(value: number, control: readonly number[]): string {
  const noise = (percentile(control, 90) - percentile(control, 10)) / 2;
  if (Math.abs(value - GOAL) <= noise) return `undecided (A/A noise ±${noise.toFixed(3)})`;
  return value >= GOAL ? 'ok' : 'MISS';
}

/**
 * One draw: a fresh process for each of bare, the A/A control and meshlet (a process can be faster
 * or slower than its twin for its whole life, so no one process decides a figure), started and
 * warmed in an order that rotates with the draw, then ROUNDS rounds in which every variant runs
 * once, in an order that rotates with the round.
 * NOTE: one set of processes for the whole run, started bare first, had the A/A control at 1.065x
 * [1.044..1.120] of bare's server CPU (2026-12-03): every ratio against bare carried that bias.
 */
async function draw(framework: string, index: number, variants: readonly Figures[]): Promise<void> {
  const kinds = ['bare', 'bare', 'meshlet'] as const;
  const targets: (Target | undefined)[] = [undefined, undefined, undefined];
  try {
    for (let k = 0; k < kinds.length; k++) {
      const i = (k + index) % kinds.length;
      targets[i] = await startTarget(framework, kinds[i]!);
      // Warm-up, alone: JIT, connections. Its figures are dropped.
      const warmUp = figures();
      for (let w = 0; w < 2; w++) await round(targets[i]!, warmUp, ROUND_MS);
    }
    const started = targets as Target[];
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < started.length; k++) {
        const i = (k + r) % started.length;
        await round(started[i]!, variants[i]!, ROUND_MS);
      }
    }
  } finally {
    for (const target of targets) {
      if (target === undefined) continue;
      await target.pool.close();
      target.child.kill();
    }
  }
}

const byDraw = (values: readonly number[]): number[][] => Array.from({ length: DRAWS }, (_, d) => values.slice(d * ROUNDS, (d + 1) * ROUNDS));
const times = (value: number): string => `${value.toFixed(3)}x`;

/**
 * A goal judged by the 90% interval of the median of the per-round paired figures (support/stats.ts:
 * the draws resampled, then the rounds within each), as bench/overhead.ts and bench/grpc-overhead.ts
 * judge theirs, the A/A control's median and interval beside it.
 */
function judged(name: string, adapter: readonly number[], control: readonly number[]): string {
  const [adapterInterval, controlInterval] = [medianInterval(byDraw(adapter)), medianInterval(byDraw(control))];
  return `${name}: ${goalVerdict(adapterInterval, GOAL, 'higher', DRAWS)}: ${times(median(adapter))}, 90% interval ${times(adapterInterval.low)} .. ${times(adapterInterval.high)}; A/A ${times(median(control))}, ${times(controlInterval.low)} .. ${times(controlInterval.high)}.${controlBias(controlInterval, 1, '1x')}`;
}

const rows: string[] = [];
const goals: string[] = [];
for (const framework of ROUNDS > 0 ? FRAMEWORKS : []) {
  const [bare, control, adapter] = [figures(), figures(), figures()];
  for (let d = 0; d < DRAWS; d++) await draw(framework, d, [bare, control, adapter]);
  const ratios = (target: Figures): number[] => paired(target.throughputs, bare.throughputs, (a, b) => a / b);
  const cpuRatios = (target: Figures): number[] => paired(target.cpuPerRequest, bare.cpuPerRequest, (a, b) => b / a);
  const row = (name: string, target: Figures): string => {
    const cpuAdded = paired(target.cpuPerRequest, bare.cpuPerRequest, (a, b) => a - b);
    const p50Added = paired(target.p50s, bare.p50s, (a, b) => a - b);
    return `| ${name} | ${Math.round(median(bare.throughputs))} | ${spread(ratios(target), 3)} | ${median(bare.cpuPerRequest).toFixed(1)} | ${spread(cpuAdded, 1, true)} | ${spread(cpuRatios(target), 3)} | ${median(bare.p50s).toFixed(0)} | ${spread(p50Added, 1, true)} |`;
  };
  rows.push(row(framework, adapter), row(`${framework} A/A`, control));
  goals.push(judged(`${framework}: throughput >= ${GOAL}x bare`, ratios(adapter), ratios(control)));
  goals.push(judged(`${framework}: server CPU ratio bare/meshlet >= ${GOAL}x`, cpuRatios(adapter), cpuRatios(control)));
}
if (ROUNDS > 0) {
  console.log(`adapter overhead on an inbound request: ${DRAWS} draws of fresh server processes x ${ROUNDS} rounds of ${ROUND_MS} ms, each of bare, A/A and meshlet in turn (the order rotates every round and every draw); ${PINNING}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`each cell: median of the per-round figures paired with bare's, pooled over the draws [10th..90th percentile: how far one round's pair lands, not how well the median is known]; ${CONCURRENCY} callers for throughput and server CPU, 1 caller for p50; the A/A row is a second bare process paired the same way (the noise floor)`);
  console.log('| framework | bare req/s | throughput ratio meshlet/bare | bare server CPU µs/req | added server CPU µs/req | CPU ratio bare/meshlet | bare p50 µs | added p50 µs |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log('goals, each judged by the 90% interval of its median (met / NOT met only when the interval lies wholly on one side, with 4 draws or more):');
  for (const goal of goals) console.log(`- ${goal}`);
}

if (MEMORY_ROUNDS > 0) {
  const memoryRows: string[] = [];
  for (const framework of FRAMEWORKS) memoryRows.push(...(await inMemory(framework)));
  console.log('');
  console.log(`in memory (requests injected without a socket, both variants in one process pinned to the servers' CPU): ${MEMORY_ROUNDS} rounds of ${MEMORY_ROUND_MS} ms, each of bare, A/A (a second bare app) and meshlet in turn, 32 in flight; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log('NOTE: a loaded machine inflates some rounds several-fold; the 10th percentiles are the least disturbed rounds of each variant');
  console.log('| framework | bare CPU µs/req p10 / median | meshlet (or A/A) CPU µs/req p10 / median | added at p10 (bare/meshlet) | added µs/req, median of pairs [p10..p90] | ratio bare/meshlet of pairs (goal >= 0.95x) | bare heap B/req | added heap B/req [p10..p90] |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of memoryRows) console.log(row);
}
