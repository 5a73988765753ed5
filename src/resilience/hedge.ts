/**
 * Hedging ("The Tail at Scale", Dean & Barroso): when an attempt has not answered by the
 * time most attempts have (a fixed delay, or the service's observed p95), start a second one
 * on another endpoint and take whichever answers well first. A few percent of extra load
 * cuts the slow tail caused by one bad GC pause or one busy host. Only for calls that are
 * safe to send twice (idempotent, replayable body); extra attempts draw on the shared retry
 * budget and are capped by `maxExtraLoad`, so hedging cannot become a storm.
 *
 * The race itself lives in hedge-race.ts; this file decides whether and when to hedge.
 */
import type { Attempt } from '../core/attempt.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { HedgePolicy } from '../config/policy.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { RetryBudget } from './retry-budget.ts';
import { HedgeRace } from './hedge-race.ts';
import { LatencyHistogram } from './latency-histogram.ts';

/** Percentile hedging waits for this many samples: before that, the percentile is noise. */
const WARM_UP_SAMPLES = 50;
/** Latencies older than one to two of these windows are forgotten. */
const LATENCY_WINDOW_MS = 10_000;
/**
 * A busy service forgets sooner: a histogram generation also ends once this many samples lie
 * above the percentile (1,000 samples for p95), enough for a stable estimate, few enough
 * that a shift in latency moves the threshold within a second or two instead of 10–20 s.
 */
const SAMPLES_ABOVE_PERCENTILE = 50;

/**
 * The percentile a hedge waits for: the policy's, raised until the calls it would hedge fit
 * within `maxExtraLoad` (p90 under a 5% cap hedges after p95). Hedging after pN fires for
 * (100 − N)% of calls; when that is more than the budget allows, the budget refuses whichever
 * hedges come last, at random, as readily the one call stuck behind a 100 ms pause as a
 * merely late one. Waiting longer spends the same allowance on the latest calls instead.
 */
export function triggerPercentile(percentile: number, maxExtraLoad: number): number {
  return Math.max(percentile, 100 * (1 - maxExtraLoad));
}

/**
 * `depositsCalls`: the stack says whether the retry layer is absent, in which case this layer
 * tells the budget of each logical call (the budget allows hedges as a share of calls).
 */
export function hedgeLayer(policy: HedgePolicy | false, env: LayerEnv, budget: RetryBudget, depositsCalls: boolean): Layer {
  if (policy === false) return { name: 'hedge', wrap: (inner) => inner };
  const after = policy.after;
  let delay: () => number | undefined;
  let histogram: LatencyHistogram | undefined;
  if ('delay' in after) {
    delay = () => after.delay;
  } else {
    const percentile = triggerPercentile(after.percentile, policy.maxExtraLoad);
    const observed = new LatencyHistogram(env.clock, {
      window: LATENCY_WINDOW_MS,
      generationSamples: Math.ceil(SAMPLES_ABOVE_PERCENTILE / (1 - percentile / 100)),
      minSamples: WARM_UP_SAMPLES,
    });
    delay = () => observed.percentile(percentile);
    histogram = observed;
  }
  return {
    name: 'hedge',
    wrap: (inner) => new HedgingService(inner, policy, env, budget, depositsCalls, delay, histogram),
    state: () => ({
      after: policy.after,
      maxExtraLoad: policy.maxExtraLoad,
      thresholdMs: delay() ?? null,
      samples: histogram?.count ?? 0,
    }),
  };
}

export class HedgingService implements Service {
  readonly #inner: Service;
  readonly #policy: HedgePolicy;
  readonly #env: LayerEnv;
  readonly #budget: RetryBudget;
  /** How long the first attempt may run before a hedge starts; undefined while the percentile is cold. */
  readonly #delay: () => number | undefined;
  readonly #histogram: LatencyHistogram | undefined;
  /** The retry layer deposits one per logical call; without it, the budget hears of calls here. */
  readonly #deposits: boolean;

  constructor(
    inner: Service,
    policy: HedgePolicy,
    env: LayerEnv,
    budget: RetryBudget,
    depositsCalls: boolean,
    delay: () => number | undefined,
    histogram: LatencyHistogram | undefined,
  ) {
    this.#inner = inner;
    this.#policy = policy;
    this.#env = env;
    this.#budget = budget;
    this.#delay = delay;
    this.#histogram = histogram;
    this.#deposits = depositsCalls;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    if (this.#deposits) this.#budget.deposit(attempt.call.startedAt);
    if (!request.idempotent || !request.replayable) return this.#inner.call(request, attempt);
    const delay = this.#delay();
    // NOTE: a hedge that could only start after the deadline is pure waste.
    if (delay === undefined || this.#env.clock.now() + delay >= attempt.call.deadline) return this.#measured(request, attempt);
    return new HedgeRace(this.#inner, request, attempt, delay, this.#policy.maxAttempts, this.#env, this.#budget, this.#histogram).run();
  }

  /** One plain attempt; its latency still feeds the percentile when successful. */
  async #measured(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const histogram = this.#histogram;
    if (histogram === undefined) return this.#inner.call(request, attempt);
    const clock = this.#env.clock;
    const startedAt = clock.now();
    const response = await this.#inner.call(request, attempt);
    if ((attempt.outcome ?? this.#env.classifier.classify(response, undefined)).kind !== 'failure') histogram.record(clock.now() - startedAt);
    return response;
  }
}
