/**
 * What routing adds to a call (issue 11): a service with 20 routes, the last one matching
 * (the 19 before it fail on path, method or header), and a 3-way weighted split
 * (support/routed-service.ts, the table bench/overhead.ts's routed row calls too), against
 * the same endpoints unrouted, in one run and one process: a quick check (~25 s) of the
 * routing step alone, where overhead.ts pairs separate processes over the whole call. Calls are answered in memory (support/in-memory-dispatch.ts:
 * undici's own request front and body, no socket or server), so the caller's CPU per call is
 * the JavaScript a call costs; both services live in one mesh in one process and run in
 * alternating rounds, so noise hits both alike. Prints the median and the paired per-round
 * delta (routed round i minus unrouted round i) of caller CPU per call, and the ratio.
 * Goal (issue 11): <= 1 µs added per call. Never fails on timing.
 * Run: node bench/routing-overhead.ts   (BENCH_ROUNDS, BENCH_ROUND_MS change the rounds)
 */
import { createMesh } from '../src/index.ts';
import { installInMemoryDispatch } from './support/in-memory-dispatch.ts';
import { routedService } from './support/routed-service.ts';
import { formatRatio, median, percentile } from './support/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 24);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 400);
const CONCURRENCY = 32;
const GOAL_US = 1;

installInMemoryDispatch();

const endpoints = [
  { address: '127.0.0.1:7001', tags: ['v1'] },
  { address: '127.0.0.1:7002', tags: ['v2'] },
  { address: '127.0.0.1:7003', tags: ['v3'] },
];

const mesh = await createMesh({
  service: 'bench',
  config: { services: { plain: { endpoints }, routed: routedService(endpoints) } },
});

async function round(service: string, ms: number): Promise<number> {
  const client = mesh.client(service);
  let calls = 0;
  const until = performance.now() + ms;
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const res = await client.request({ path: '/api/pay?x=1', headers: { 'x-variant': 'none' } });
        await res.body.text();
        calls++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / calls;
}

// Warm-up: both paths optimised before anything is measured.
for (let i = 0; i < 4; i++) {
  await round('plain', ROUND_MS);
  await round('routed', ROUND_MS);
}
const plain: number[] = [];
const routed: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  // Alternating order: neither variant always runs right after the other.
  if (i % 2 === 0) {
    plain.push(await round('plain', ROUND_MS));
    routed.push(await round('routed', ROUND_MS));
  } else {
    routed.push(await round('routed', ROUND_MS));
    plain.push(await round('plain', ROUND_MS));
  }
}
const deltas = routed.map((r, i) => r - plain[i]!);
const state = mesh.state().services as Record<string, { routes: { name: string; targets: { subset: string; calls: number }[] }[] }>;
const split = state.routed!.routes.find((r) => r.name === 'split')!;
await mesh.close();

const us = (v: number): string => `${v.toFixed(2)} µs`;
console.log(`routing overhead: ${ROUNDS} rounds of ${ROUND_MS} ms each, ${CONCURRENCY} callers, in-memory answers`);
console.log('| variant | caller CPU per call (median of rounds) |');
console.log('| --- | --- |');
console.log(`| unrouted | 1.000x (${us(median(plain))}) |`);
console.log(`| 20 routes (last matches), 3-way split | ${formatRatio(median(routed), median(plain))} (${us(median(routed))}) |`);
console.log(`paired delta per round: median ${us(median(deltas))}, p10 ${us(percentile(deltas, 10))}, p90 ${us(percentile(deltas, 90))}; goal <= ${GOAL_US} µs`);
console.log(`split served: ${split.targets.map((t) => `${t.subset} ${t.calls}`).join(', ')}`);
