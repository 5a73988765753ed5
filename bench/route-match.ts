/**
 * What a route decision costs per call (issue 11): a service with 20 routes where only the
 * last matches (the worst case of first-match-wins: every route before it is tried and fails),
 * then a 3-way weighted split, against a one-route table (a catch-all: the least a routed
 * service can do) measured in the same run, in alternating rounds so machine noise hits both.
 * The 20 routes use every kind of condition (method, path prefix, header, query), and the
 * matching one a path regex. Prints ns per decision and V8-heap bytes per decision
 * (support/allocation.ts says how bytes are measured). The split draws from xorshift-random.ts;
 * a last row draws from Math.random instead, whose doubles V8 boxes (16 bytes a draw).
 * Goal (issue 11): ≤ 1 µs added per call, nothing allocated. Never fails on timing.
 * Run: node bench/route-match.ts   (about 10 s; BENCH_ROUNDS / BENCH_CALLS to change)
 */
import { measureAllocation } from './support/allocation.ts';
import { median } from './support/stats.ts';
import { type MatchableRequest, type RouteMatchSpec, RouteMatcher } from '../src/routing/route-match.ts';
import { WeightedSplit } from '../src/routing/weighted-split.ts';
import { drawFrom, xorshiftDraw } from '../src/routing/xorshift-random.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CALLS = Number(process.env.BENCH_CALLS ?? 1_000_000);

interface Variant {
  readonly name: string;
  readonly decide: (request: MatchableRequest) => string;
  readonly nsPerCall: number[];
  readonly bytesPerCall: number[];
}

const split = WeightedSplit.fromPercent(
  [
    { target: 'v1', weight: 80 },
    { target: 'v2', weight: 15 },
    { target: 'v3', weight: 5 },
  ],
  'bench.routes[19].to',
);
const routes: { match: RouteMatchSpec; value: WeightedSplit<string> }[] = [];
for (let i = 0; i < 19; i++) routes.push({ match: { pathPrefix: `/svc${i}/`, methods: ['GET', 'POST'], headers: { 'x-tenant': `t${i}` }, query: { v: String(i) } }, value: split });
routes.push({ match: { pathRegex: '/orders/[0-9]+', methods: ['GET'], headers: { 'x-canary': { prefix: 'on' } } }, value: split });
const twenty = new RouteMatcher(routes, 'bench.routes');
const one = new RouteMatcher([{ match: {}, value: split }], 'bench.routes');
const request: MatchableRequest = { method: 'GET', path: '/orders/12345?sort=asc&v=2', headers: { 'x-canary': 'on', 'x-tenant': 'acme', accept: 'application/json' } };
const random = xorshiftDraw(10_000, 42);
const mathRandom = drawFrom(Math.random, 10_000);

// NOTE: the Math.random row shows why splits take integer draws (xorshift-random.ts).
const variants: Variant[] = [
  { name: '1 route (catch-all) + 3-way split', decide: (r) => one.match(r)!.pick(random), nsPerCall: [], bytesPerCall: [] },
  { name: '20 routes (last matches) + 3-way split', decide: (r) => twenty.match(r)!.pick(random), nsPerCall: [], bytesPerCall: [] },
  { name: '20 routes + split drawing Math.random', decide: (r) => twenty.match(r)!.pick(mathRandom), nsPerCall: [], bytesPerCall: [] },
];

async function round(variant: Variant): Promise<void> {
  const decide = variant.decide;
  const { bytes, result } = await measureAllocation(async () => {
    const started = process.hrtime.bigint();
    let sink = 0;
    for (let i = 0; i < CALLS; i++) sink += decide(request).length;
    return { ns: Number(process.hrtime.bigint() - started), sink };
  });
  if (result.sink !== CALLS * 2) throw new Error('every decision picks a two-letter target');
  variant.nsPerCall.push(result.ns / CALLS);
  variant.bytesPerCall.push(bytes / CALLS);
}

for (const variant of variants) await round(variant); // warm-up
for (const variant of variants) variant.nsPerCall.length = variant.bytesPerCall.length = 0;
for (let r = 0; r < ROUNDS; r++) for (const variant of r % 2 === 0 ? variants : [...variants].reverse()) await round(variant);

const baseline = median(variants[0]!.nsPerCall);
console.log(`route decision, median of ${ROUNDS} rounds of ${CALLS} calls (node ${process.version})`);
for (const variant of variants) {
  const ns = median(variant.nsPerCall);
  console.log(`  ${variant.name.padEnd(40)} ${ns.toFixed(1).padStart(7)} ns/call  (+${(ns - baseline).toFixed(1)} ns vs 1 route)  ${median(variant.bytesPerCall).toFixed(3)} heap bytes/call`);
}
