/**
 * Linkerd's "Beyond Round Robin" experiment on loopback: 10 backends with the same latency
 * distribution (log-normal, median 5 ms), one of them turned 10x slower halfway through the
 * run. Each balancer runs once all-healthy (its baseline) and once with the slow instance;
 * we print p50/p99/p99.9 and the success rate under a fixed timeout, as ratios to the
 * baseline measured in the same process. Backends run in a worker thread so the client's
 * event loop measures the balancer, not the servers' CPU.
 *
 * Run: node bench/balancer.ts   (about 40 s; traffic only to 127.0.0.1; never fails on timing).
 * BENCH_REVERSE=1 runs the balancers in the opposite order, to check for order effects.
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { BalancerPolicy, ServicePolicy } from '../src/config/policy.ts';
import { Attempt } from '../src/core/attempt.ts';
import { newCall } from '../src/core/call-context.ts';
import { systemClock } from '../src/core/clock.ts';
import { MeshEventEmitter } from '../src/core/events.ts';
import type { MeshRequest } from '../src/core/service.ts';
import { balancerLayer } from '../src/balance/balancer-layer.ts';
import { EndpointSet } from '../src/balance/endpoint-set.ts';
import type { RetryBudget } from '../src/resilience/retry-budget.ts';
import { httpTransport } from '../src/transport/http/transport.ts';

const BACKENDS = 10;
const MEDIAN_MS = 5;
const SPREAD = 0.4; // sigma of the log-normal: p99 about 2.5x the median
const SLOWDOWN = 10;
const TIMEOUT_MS = 50;
const CONCURRENCY = 16;
const RUN_MS = 6_000;
const WARMUP_MS = 500;

if (!isMainThread) await serveBackends();
else await main();

async function serveBackends(): Promise<void> {
  const { createServer } = await import('node:http');
  let slowPort = -1;
  const ports: number[] = [];
  for (let i = 0; i < BACKENDS; i++) {
    const server = createServer((_req, res) => {
      const port = (server.address() as { port: number }).port;
      const gaussian = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
      const delay = MEDIAN_MS * Math.exp(SPREAD * gaussian) * (port === slowPort ? SLOWDOWN : 1);
      setTimeout(() => res.end('ok'), delay);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports.push((server.address() as { port: number }).port);
  }
  parentPort!.on('message', (message: { slow?: number; exit?: true }) => {
    if (message.exit) process.exit(0);
    slowPort = message.slow ?? -1;
  });
  parentPort!.postMessage({ ports });
}

interface Result {
  latencies: Float64Array;
  count: number;
  ok: number;
}

async function run(worker: Worker, ports: number[], balancer: BalancerPolicy, slow: boolean): Promise<Result> {
  worker.postMessage({ slow: -1 });
  const policy = { name: 'api', balancer, outlier: false } as unknown as ServicePolicy;
  const events = new MeshEventEmitter();
  const set = new EndpointSet({ service: 'api', policy, clock: systemClock, events, connect: (a) => new Pool(`http://${a.host}:${a.port}`, { connections: CONCURRENCY }) });
  set.update(ports.map((port) => ({ id: `127.0.0.1:${port}`, protocol: 'http', host: '127.0.0.1', port, weight: 1, tags: [], meta: {} })));
  const _budget = null as unknown as RetryBudget;
  const service = balancerLayer(set).wrap(httpTransport);
  const request: MeshRequest = { method: 'GET', path: '/', headers: {}, body: null, idempotent: true, replayable: true, hashKey: undefined };
  const latencies = new Float64Array(200_000);
  const result: Result = { latencies, count: 0, ok: 0 };
  const start = performance.now();
  let slowSent = false;
  const caller = async (): Promise<void> => {
    for (;;) {
      const now = performance.now();
      if (now - start > RUN_MS) return;
      if (slow && !slowSent && now - start > RUN_MS / 2) {
        slowSent = true;
        worker.postMessage({ slow: ports[3] });
      }
      const ctx = Attempt.first(newCall('api', now, now + TIMEOUT_MS, AbortSignal.timeout(TIMEOUT_MS)));
      let success = false;
      try {
        const response = await service.call(request, ctx);
        await response.body.dump();
        success = response.statusCode === 200;
      } catch {
        success = false;
      }
      const end = performance.now();
      if (now - start < WARMUP_MS || result.count === latencies.length) continue;
      // A timed-out call counts at the timeout: that is what the caller waited.
      latencies[result.count++] = Math.min(end - now, TIMEOUT_MS);
      if (success) result.ok++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, caller));
  await set.close();
  return result;
}

function percentile(result: Result, p: number): number {
  const sorted = result.latencies.slice(0, result.count).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const worker = new Worker(new URL(import.meta.url));
  const { ports } = await new Promise<{ ports: number[] }>((resolve) => worker.once('message', resolve));
  const all: BalancerPolicy[] = [{ policy: 'round-robin' }, { policy: 'p2c-least-request' }, { policy: 'p2c-ewma', decay: 10_000 }];
  const balancers = process.env.BENCH_REVERSE ? all.reverse() : all;
  console.log(`${BACKENDS} backends, log-normal latency median ${MEDIAN_MS} ms; one turns ${SLOWDOWN}x slower at ${RUN_MS / 2000} s of ${RUN_MS / 1000} s; concurrency ${CONCURRENCY}; timeout ${TIMEOUT_MS} ms`);
  console.log('balancer            | healthy p50/p99/p99.9 ms  | one slow: p50/p99/p99.9 ms | ratio p50  p99   p99.9 | success healthy / slow');
  for (const balancer of balancers) {
    const healthy = await run(worker, ports, balancer, false);
    await sleep(100);
    const degraded = await run(worker, ports, balancer, true);
    const h = [50, 99, 99.9].map((p) => percentile(healthy, p));
    const d = [50, 99, 99.9].map((p) => percentile(degraded, p));
    const pct = (r: Result): string => `${((100 * r.ok) / r.count).toFixed(2)}%`;
    console.log(
      `${balancer.policy.padEnd(19)} | ${h.map((x) => x.toFixed(1)).join(' / ').padEnd(25)} | ${d.map((x) => x.toFixed(1)).join(' / ').padEnd(26)} | ${d.map((x, i) => `${(x / h[i]!).toFixed(2)}x`).join(' ')} | ${pct(healthy)} / ${pct(degraded)}`,
    );
  }
  worker.postMessage({ exit: true });
}
