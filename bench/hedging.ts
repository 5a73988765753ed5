/**
 * Hedging against a heavy tail: three backends whose latency is 2 ms, except 2% of requests
 * that take 100 ms (50x the median: a GC pause, a cold cache, a noisy neighbour). The same
 * closed-loop load runs through the real client stack twice in one process — without
 * hedging (the baseline), then with `hedge: { after: 'p95', maxExtraLoad: 0.05 }` — and we
 * print p50/p99/p99.9 and the extra requests hedging cost, as ratios to the baseline.
 * Goal: p99.9 at least 10x lower for at most 5% extra requests.
 *
 * Run: node bench/hedging.ts   (about 40 s; traffic only to 127.0.0.1; never fails on timing)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createMesh } from '../src/index.ts';

const BACKENDS = 3;
const FAST_MS = 2;
const SLOW_MS = 100;
const SLOW_SHARE = 0.02;
const CALLS = 20_000;
const WARMUP_CALLS = 500;
const CONCURRENCY = 4;

// Backends run in a worker thread so the client's event loop measures the stack, not the
// servers' CPU (on a small machine both on one loop blur the fast mode into the tail).
if (!isMainThread) await serveBackends();
const worker = new Worker(new URL(import.meta.url));
const addresses = await new Promise<string[]>((resolve) => worker.once('message', resolve));

async function serveBackends(): Promise<never> {
  let received = 0;
  const ports: string[] = [];
  for (let i = 0; i < BACKENDS; i++) {
    const server = createServer((_req, res) => {
      received++;
      const timer = setTimeout(() => res.end('ok'), Math.random() < SLOW_SHARE ? SLOW_MS : FAST_MS);
      res.on('close', () => clearTimeout(timer));
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  parentPort!.postMessage(ports);
  parentPort!.on('message', () => parentPort!.postMessage(received));
  return new Promise<never>(() => {});
}

/** Requests the backends received so far. */
function received(): Promise<number> {
  worker.postMessage('count');
  return new Promise((resolve) => worker.once('message', resolve));
}

interface Run {
  readonly latencies: Float64Array;
  readonly requestsPerCall: number;
  readonly hedges: number;
  /** The client's own stalls while measuring (event-loop delay, GC pauses), in ms. */
  readonly stalls: { readonly delayP999: number; readonly delayMax: number; readonly gcMs: number; readonly gcMax: number };
}

interface HedgeConfig {
  readonly after: string;
  readonly maxExtraLoad: number;
  readonly maxAttempts: number;
}

async function run(hedge: HedgeConfig | false): Promise<Run> {
  const mesh = await createMesh({
    service: 'bench',
    config: {
      services: {
        api: {
          endpoints: addresses,
          balancer: 'p2c-ewma',
          timeout: '5s',
          retry: {
            attempts: 2,
            backoff: { base: '25ms', max: '250ms' },
            on: ['connect-error', 'reset', 502, 503, 504],
            budget: { ratio: 0.2, minPerSecond: 10, window: '10s' },
            maxRetryAfter: '10s',
          },
          hedge,
          outlier: false,
          pool: { connections: 16, keepAliveTimeout: '4s', connectTimeout: '1s' },
        },
      },
    },
  });
  const client = mesh.client('api');
  let hedges = 0;
  mesh.on('hedge', () => hedges++);
  const call = async (): Promise<number> => {
    const started = performance.now();
    const res = await client.request({ method: 'GET', path: '/' });
    await res.body.dump();
    return performance.now() - started;
  };
  try {
    // Warm-up: connections open, EWMA and the latency percentile learn the backends.
    await closedLoop(WARMUP_CALLS, call, () => {});
    hedges = 0;
    const before = await received();
    const latencies = new Float64Array(CALLS);
    let index = 0;
    const loopDelay = monitorEventLoopDelay({ resolution: 2 });
    const gcPauses: number[] = [];
    const gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcPauses.push(entry.duration);
    });
    loopDelay.enable();
    gc.observe({ entryTypes: ['gc'] });
    await closedLoop(CALLS, call, (ms) => {
      latencies[index++] = ms;
    });
    loopDelay.disable();
    gc.disconnect();
    const stalls = {
      // The monitor's own timer period is part of every reading: subtract it.
      delayP999: Math.max(0, loopDelay.percentile(99.9) / 1e6 - 2),
      delayMax: Math.max(0, loopDelay.max / 1e6 - 2),
      gcMs: gcPauses.reduce((sum, ms) => sum + ms, 0),
      gcMax: Math.max(0, ...gcPauses),
    };
    return { latencies: latencies.sort(), requestsPerCall: ((await received()) - before) / CALLS, hedges, stalls };
  } finally {
    await mesh.close();
  }
}

async function closedLoop(calls: number, call: () => Promise<number>, record: (ms: number) => void): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < calls) record(await call());
    }),
  );
}

const quantile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

const baseline = await run(false);
const hedged = await run({ after: 'p95', maxExtraLoad: 0.05, maxAttempts: 2 });

await worker.terminate();

console.log(`${BACKENDS} backends: ${FAST_MS} ms, ${SLOW_SHARE * 100}% of requests ${SLOW_MS} ms; ${CALLS} calls, ${CONCURRENCY} concurrent\n`);
console.log(`${''.padEnd(18)} ${['p50', 'p90', 'p95', 'p97', 'p98', 'p99', 'p99.9'].map((q) => `${q} ms`.padStart(9)).join(' ')}   requests/call`);
for (const [name, r] of [
  ['no hedging', baseline],
  ['hedge after p95', hedged],
] as const) {
  const cells = [0.5, 0.9, 0.95, 0.97, 0.98, 0.99, 0.999].map((q) => quantile(r.latencies, q).toFixed(2).padStart(9));
  console.log(`${name.padEnd(18)} ${cells.join(' ')}   ${r.requestsPerCall.toFixed(4).padStart(8)}`);
}
// The client's own stalls: a tail no stack can hedge away (a paused loop delays every call in flight).
for (const [name, r] of [
  ['no hedging', baseline],
  ['hedge after p95', hedged],
] as const) {
  const s = r.stalls;
  console.log(
    `${name.padEnd(18)} client event-loop delay p99.9 ${s.delayP999.toFixed(1)} ms, max ${s.delayMax.toFixed(1)} ms; GC ${s.gcMs.toFixed(0)} ms in all, longest ${s.gcMax.toFixed(1)} ms; calls over 50 ms: ${r.latencies.filter((ms) => ms > 50).length}`,
  );
}
console.log('');
for (const [name, r] of [
  ['hedge after p95', hedged],
] as const) {
  const ratio = (q: number): number => quantile(baseline.latencies, q) / quantile(r.latencies, q);
  const extra = r.requestsPerCall / baseline.requestsPerCall - 1;
  console.log(
    `${name}: p99 ${ratio(0.99).toFixed(1)}x lower, p99.9 ${ratio(0.999).toFixed(1)}x lower, for ${(extra * 100).toFixed(2)}% extra requests` +
      ` (${r.hedges} hedges); goal p99.9 ≥ 10x lower for ≤ 5% extra: ${ratio(0.999) >= 10 && extra <= 0.05 ? 'met' : 'NOT met'}`,
  );
}
