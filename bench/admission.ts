/**
 * What admission and the breaker cost per call, as ratios against a bare service call
 * measured in the same run: the local token bucket (chosen for local rate limits) against
 * rate-limiter-flexible's RateLimiterMemory (which answers with a Promise), the fixed and
 * adaptive concurrency limits, and the opossum breaker. In-process only (no network): the
 * point is the layer's own overhead. Never fails on timing; bounded to a few seconds.
 *
 *   node bench/admission.ts
 */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { Attempt } from '../src/core/attempt.ts';
import { newCall } from '../src/core/call-context.ts';
import { systemClock } from '../src/core/clock.ts';
import { MeshEventEmitter } from '../src/core/events.ts';
import type { MeshRequest, MeshResponse, Service } from '../src/core/service.ts';
import { breakerLayer } from '../src/resilience/breaker.ts';
import { concurrencyLayer } from '../src/resilience/concurrency-limit.ts';
import { rateLimitLayer } from '../src/resilience/rate-limit.ts';
import type { LayerEnv } from '../src/core/layer-env.ts';
import { httpClassifier } from '../src/transport/http/classifier.ts';

const CALLS = 200_000;
const ROUNDS = 5;

const response = { statusCode: 200 } as MeshResponse;
const bare: Service = { call: () => Promise.resolve(response) };
const request: MeshRequest = { method: 'GET', path: '/', headers: {}, body: null, idempotent: true, replayable: true, hashKey: undefined };
const ctx = Attempt.first(newCall('bench', 0, Number.POSITIVE_INFINITY, undefined));
const huge = 1e12; // limits that never refuse: we measure the admitted path

const env: LayerEnv = { service: 'bench', clock: systemClock, events: new MeshEventEmitter(), classifier: httpClassifier };

/** Nanoseconds per call, best of ROUNDS, calls made one after another. */
async function measure(service: Service): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await service.call(request, ctx);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / CALLS);
  }
  return best;
}

const memoryLimiter = new RateLimiterMemory({ points: huge, duration: 1 });
const viaRateLimiterMemory: Service = {
  async call(req, c) {
    await memoryLimiter.consume('bench');
    return bare.call(req, c);
  },
};

const breaker = breakerLayer({ errorRate: 0.5, minRequests: 20, window: 10_000, openFor: 5000 }, env);
const cases: [string, Service][] = [
  ['token bucket layer (local rate limit)', rateLimitLayer({ rps: huge, burst: huge, scope: 'local', redis: undefined }, env).wrap(bare)],
  ['RateLimiterMemory.consume + await', viaRateLimiterMemory],
  ['fixed concurrency layer', concurrencyLayer({ adaptive: false, max: 1000, queue: 0, queueTimeout: 0 }, env).wrap(bare)],
  ['adaptive concurrency layer', concurrencyLayer({ adaptive: true, initial: 1000, min: 1000, max: 1000 }, env).wrap(bare)],
  ['opossum breaker layer', breaker.wrap(bare)],
];

const baseline = await measure(bare);
console.log(`baseline: bare service call, ${baseline.toFixed(0)} ns/call (${CALLS} calls x best of ${ROUNDS})`);
for (const [name, service] of cases) {
  const cost = await measure(service);
  console.log(`${name.padEnd(40)} ${(cost / baseline).toFixed(2)}x baseline  (+${(cost - baseline).toFixed(0)} ns/call)`);
}
await breaker.close?.();
