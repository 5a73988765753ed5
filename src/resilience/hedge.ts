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
import type { CallContext } from '../core/call-context.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { HedgePolicy } from '../config/policy.ts';
import type { LayerDeps } from '../stack/layer-deps.ts';
import { isFailure } from '../transport/http/classifier.ts';
import { HedgeRace } from './hedge-race.ts';
import { LatencyHistogram } from './latency-histogram.ts';

/** Percentile hedging waits for this many samples: before that, the percentile is noise. */
const WARM_UP_SAMPLES = 50;
/** Latencies older than one to two of these windows are forgotten. */
const LATENCY_WINDOW_MS = 10_000;

export function hedgeLayer(deps: LayerDeps): Layer {
  const policy = deps.policy.hedge;
  const histogram =
    policy !== false && 'percentile' in policy.after
      ? new LatencyHistogram(deps.clock, { window: LATENCY_WINDOW_MS, minSamples: WARM_UP_SAMPLES })
      : undefined;
  return {
    name: 'hedge',
    wrap(inner: Service): Service {
      if (policy === false) return inner;
      return new HedgingService(inner, policy, deps, histogram);
    },
    state(): unknown {
      if (policy === false) return undefined;
      return {
        after: policy.after,
        maxExtraLoad: policy.maxExtraLoad,
        thresholdMs: 'delay' in policy.after ? policy.after.delay : (histogram?.percentile(policy.after.percentile) ?? null),
        samples: histogram?.count ?? 0,
      };
    },
  };
}

export class HedgingService implements Service {
  readonly #inner: Service;
  readonly #policy: HedgePolicy;
  readonly #deps: LayerDeps;
  readonly #histogram: LatencyHistogram | undefined;
  /** The retry layer deposits one per logical call; without it, the budget hears of calls here. */
  readonly #deposits: boolean;

  constructor(inner: Service, policy: HedgePolicy, deps: LayerDeps, histogram: LatencyHistogram | undefined) {
    this.#inner = inner;
    this.#policy = policy;
    this.#deps = deps;
    this.#histogram = histogram;
    this.#deposits = deps.policy.retry === false;
  }

  call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
    if (this.#deposits) this.#deps.budget.deposit();
    if (!request.idempotent || !request.replayable) return this.#inner.call(request, ctx);
    const after = this.#policy.after;
    const delay = 'delay' in after ? after.delay : this.#histogram!.percentile(after.percentile);
    // NOTE: a hedge that could only start after the deadline is pure waste.
    if (delay === undefined || this.#deps.clock.now() + delay >= ctx.deadline) return this.#measured(request, ctx);
    return new HedgeRace(this.#inner, request, ctx, delay, this.#policy.maxAttempts, this.#deps, this.#histogram).run();
  }

  /** One plain attempt; its latency still feeds the percentile when successful. */
  async #measured(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
    const histogram = this.#histogram;
    if (histogram === undefined) return this.#inner.call(request, ctx);
    const clock = this.#deps.clock;
    const startedAt = clock.now();
    const response = await this.#inner.call(request, ctx);
    if (!isFailure(response.statusCode, undefined)) histogram.record(clock.now() - startedAt);
    return response;
  }
}
