/**
 * What each framework adapter adds to an inbound request (issue 13), against the same
 * framework without it, in the same run: Express, Fastify, Nest on Express, Nest on Fastify,
 * each served bare and with meshlet's adapter from a process of its own
 * (support/adapter-server.ts), called by this process over keep-alive loopback connections
 * with the header a meshlet caller sends (`x-meshlet-timeout-ms`). Rounds alternate bare and
 * adapter after a warm-up, so machine noise hits both alike; the medians of the rounds.
 * Figures: throughput at 32 concurrent callers (ratio adapter / bare; goal >= 0.95x), the
 * p50 latency with one caller (added µs), and the server process's CPU per request in the
 * throughput rounds (added µs, and bare / adapter: the throughput ratio a CPU-bound server
 * reaches; on a loaded machine it moves far less than throughput does). Never fails on timing.
 * Run: node bench/adapters.ts   (about 40 s; BENCH_ROUNDS / BENCH_ROUND_MS change the rounds)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { latencies, throughput } from './support/driver.ts';
import { formatRatio, median } from './support/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const CONCURRENCY = 32;
const LATENCY_CALLS = 1000;
const GOAL = 0.95;
const FRAMEWORKS = ['express', 'fastify', 'nest-express', 'nest-fastify'] as const;
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
  const child = spawn(process.execPath, [SERVER, framework, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  target.cpuPerRequest.push((await serverCpuUs(target) - before) / result.calls);
  target.throughputs.push(result.perSecond);
  const samples = await latencies(call(target), LATENCY_CALLS, ms);
  target.p50s.push(median(samples));
}

const rows: string[] = [];
for (const framework of FRAMEWORKS) {
  const bare = await startTarget(framework, 'bare');
  const adapter = await startTarget(framework, 'meshlet');
  try {
    // Warm-up: JIT, connections.
    await round(bare, 500);
    await round(adapter, 500);
    for (const target of [bare, adapter]) target.throughputs.length = target.p50s.length = target.cpuPerRequest.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first, so neither always runs on a warmer machine.
      const [first, second] = i % 2 === 0 ? [bare, adapter] : [adapter, bare];
      await round(first, ROUND_MS);
      await round(second, ROUND_MS);
    }
    const ratio = median(adapter.throughputs) / median(bare.throughputs);
    const added = median(adapter.p50s) - median(bare.p50s);
    const [bareCpu, adapterCpu] = [median(bare.cpuPerRequest), median(adapter.cpuPerRequest)];
    const signed = (value: number): string => (value >= 0 ? '+' : '') + value.toFixed(1);
    rows.push(
      `| ${framework} | ${Math.round(median(bare.throughputs))} | ${Math.round(median(adapter.throughputs))} | ${formatRatio(median(adapter.throughputs), median(bare.throughputs))} ${ratio >= GOAL ? 'ok' : 'MISS'} | ${median(bare.p50s).toFixed(0)} | ${signed(added)} | ${bareCpu.toFixed(1)} | ${signed(adapterCpu - bareCpu)} | ${formatRatio(bareCpu, adapterCpu)} |`,
    );
  } finally {
    await bare.pool.close();
    await adapter.pool.close();
    bare.child.kill();
    adapter.child.kill();
  }
}
console.log(`adapter overhead on an inbound request (${ROUNDS} rounds of ${ROUND_MS} ms, medians; ${CONCURRENCY} callers for throughput, 1 for p50)`);
console.log('| framework | bare req/s | meshlet req/s | ratio (goal >= 0.95x) | bare p50 µs | added p50 µs | bare server CPU µs/req | added CPU µs/req | CPU ratio bare/meshlet |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
