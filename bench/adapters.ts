/**
 * What each framework adapter adds to an inbound request (issue 13), against the same
 * framework without it, in the same run: Express, Fastify, Nest on Express, Nest on Fastify,
 * each served bare and with meshlet's adapter from a process of its own
 * (support/adapter-server.ts), called by this process over keep-alive loopback connections
 * with the header a meshlet caller sends (`x-meshlet-timeout-ms`).
 *
 * Steadiness on 2 shared vCPUs (support/cpu-pin.ts says why): the servers run pinned to one
 * CPU and this load generator to the other; many short
 * rounds alternate bare and adapter (the order flips every pair), and each figure is the
 * median of the per-pair ratios or deltas (round i of the adapter against round i of bare),
 * with the 10th-90th percentile spread of those pairs beside it.
 * Figures: throughput at 32 concurrent callers (ratio adapter / bare; goal >= 0.95x), the
 * server process's CPU per request in those rounds (added µs; bare / adapter is the
 * throughput ratio a CPU-bound server reaches, and it moves far less with machine noise than
 * throughput does), and the p50 latency with one caller (added µs).
 * A second table injects requests in memory (support/adapter-server.ts `memory` mode: Node's
 * request and response objects without a socket, both variants in one process, alternating
 * rounds): the JavaScript a request costs, the adapter's included, with no syscall, parser or
 * scheduler to blur it; on a loaded machine it is the figure to judge a change by.
 * Never fails on timing.
 * Run: node bench/adapters.ts   (about 2 min; BENCH_ROUNDS / BENCH_ROUND_MS change the network
 * rounds, BENCH_MEMORY_ROUNDS / BENCH_MEMORY_ROUND_MS the in-memory ones (0 rounds skips a
 * table), BENCH_FRAMEWORKS=fastify,express picks frameworks)
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { pinnedCommand, pinning } from './support/cpu-pin.ts';
import { latencies, throughput } from './support/driver.ts';
import { median, percentile } from './support/stats.ts';

// The load generator pins itself (all its threads) to the callers' CPU, the last one.
// NOTE: not by re-running itself under pinnedForkOptions: a process pinned to one CPU sees
// availableParallelism() === 1, so cpu-pin.ts inside it would turn pinning off for the servers.
const PINNING = pinning();
if (PINNING !== 'not pinned') execFileSync('/usr/bin/taskset', ['-a', '-p', '-c', String(availableParallelism() - 1), String(process.pid)], { stdio: 'ignore' });

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 14);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 400);
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
  readonly throughputs: number[];
  readonly p50s: number[];
  readonly cpuPerRequest: number[];
}

async function startTarget(framework: string, variant: 'bare' | 'meshlet'): Promise<Target> {
  const [command, args] = pinnedCommand('server', process.execPath, [SERVER, framework, variant]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
    child.once('exit', (code) => reject(new Error(`the ${framework} ${variant} server exited with ${code}`)));
  });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  return { child, pool, throughputs: [], p50s: [], cpuPerRequest: [] };
}

const call = (target: Target) => async (): Promise<void> => {
  const res = await target.pool.request({ method: 'GET', path: '/x', headers: HEADERS });
  await res.body.text();
};

async function serverCpuUs(target: Target): Promise<number> {
  const res = await target.pool.request({ method: 'GET', path: '/cpu' });
  return ((await res.body.json()) as { us: number }).us;
}

async function round(target: Target, ms: number): Promise<void> {
  const before = await serverCpuUs(target);
  const result = await throughput(call(target), CONCURRENCY, ms);
  target.cpuPerRequest.push(((await serverCpuUs(target)) - before) / result.calls);
  target.throughputs.push(result.perSecond);
  target.p50s.push(median(await latencies(call(target), LATENCY_CALLS, LATENCY_MS)));
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

const rows: string[] = [];
for (const framework of ROUNDS > 0 ? FRAMEWORKS : []) {
  const bare = await startTarget(framework, 'bare');
  // The A/A control: a second bare process measured and paired exactly like the adapter's, so
  // each row prints the noise floor its own ratio must be read against.
  const control = await startTarget(framework, 'bare');
  const adapter = await startTarget(framework, 'meshlet');
  const targets = [bare, control, adapter];
  try {
    // Warm-up: JIT, connections.
    for (let i = 0; i < 2; i++) for (const target of targets) await round(target, 400);
    for (const target of targets) target.throughputs.length = target.p50s.length = target.cpuPerRequest.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // Reverse the order every round, so no variant always runs first or last on a warmer machine.
      for (const target of i % 2 === 0 ? targets : [...targets].reverse()) await round(target, ROUND_MS);
    }
    const row = (name: string, target: Target): string => {
      const ratios = paired(target.throughputs, bare.throughputs, (a, b) => a / b);
      const cpuAdded = paired(target.cpuPerRequest, bare.cpuPerRequest, (a, b) => a - b);
      const cpuRatios = paired(target.cpuPerRequest, bare.cpuPerRequest, (a, b) => b / a);
      const p50Added = paired(target.p50s, bare.p50s, (a, b) => a - b);
      const judged = (values: number[], controlValues: number[]): string => (target === control ? '(control)' : verdict(median(values), controlValues));
      const controlRatios = paired(control.throughputs, bare.throughputs, (a, b) => a / b);
      const controlCpuRatios = paired(control.cpuPerRequest, bare.cpuPerRequest, (a, b) => b / a);
      return `| ${name} | ${Math.round(median(bare.throughputs))} | ${spread(ratios, 3)} ${judged(ratios, controlRatios)} | ${median(bare.cpuPerRequest).toFixed(1)} | ${spread(cpuAdded, 1, true)} | ${spread(cpuRatios, 3)} ${judged(cpuRatios, controlCpuRatios)} | ${median(bare.p50s).toFixed(0)} | ${spread(p50Added, 1, true)} |`;
    };
    rows.push(row(framework, adapter), row(`${framework} A/A`, control));
  } finally {
    for (const target of targets) {
      await target.pool.close();
      target.child.kill();
    }
  }
}
if (ROUNDS > 0) {
  console.log(`adapter overhead on an inbound request: ${ROUNDS} rounds of ${ROUND_MS} ms, each of bare, A/A and meshlet in turn (order reversed every round); ${PINNING}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`each cell: median of the per-round figures paired with bare's [10th..90th percentile]; ${CONCURRENCY} callers for throughput and server CPU, 1 caller for p50; the A/A row is a second bare process paired the same way (the noise floor)`);
  console.log('| framework | bare req/s | throughput ratio meshlet/bare (goal >= 0.95x) | bare server CPU µs/req | added server CPU µs/req | CPU ratio bare/meshlet (goal >= 0.95x) | bare p50 µs | added p50 µs |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
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
