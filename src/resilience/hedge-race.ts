/**
 * One hedged call: the first attempt starts at once, another every `delay` ms while none
 * has answered well (up to `maxAttempts` in flight, each only if the budget allows), and the
 * first acceptable result wins. A failure does not end the race while another attempt is
 * still running; when all have failed, the last failure is the result (the retry layer above
 * decides what to do with it). Losers are aborted through their own AbortController, so the
 * server sees the connection go away and stops working for nobody; a loser's response body,
 * if it got one, is discarded.
 */
import { attemptContext, type CallContext } from '../core/call-context.ts';
import type { TimerHandle } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';
import type { MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerDeps } from '../stack/layer-deps.ts';
import { isFailure } from '../transport/http/classifier.ts';
import type { LatencyHistogram } from './latency-histogram.ts';
import { discardResponse } from './retry-discard.ts';

interface RacingAttempt {
  readonly controller: AbortController;
  readonly ctx: CallContext;
  readonly startedAt: number;
  done: boolean;
}

export class HedgeRace {
  readonly #inner: Service;
  readonly #request: MeshRequest;
  readonly #ctx: CallContext;
  readonly #delay: number;
  readonly #maxAttempts: number;
  readonly #deps: LayerDeps;
  readonly #histogram: LatencyHistogram | undefined;
  readonly #attempts: RacingAttempt[] = [];
  #inFlight = 0;
  #settled = false;
  #timer: TimerHandle | undefined;
  #pendingFailure: MeshResponse | undefined;
  #resolve: (response: MeshResponse) => void = () => {};
  #reject: (error: unknown) => void = () => {};

  constructor(
    inner: Service,
    request: MeshRequest,
    ctx: CallContext,
    delay: number,
    maxAttempts: number,
    deps: LayerDeps,
    histogram: LatencyHistogram | undefined,
  ) {
    this.#inner = inner;
    this.#request = request;
    this.#ctx = ctx;
    this.#delay = delay;
    this.#maxAttempts = maxAttempts;
    this.#deps = deps;
    this.#histogram = histogram;
  }

  run(): Promise<MeshResponse> {
    return new Promise<MeshResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const parent = this.#ctx.signal;
      if (parent?.aborted) {
        reject(parent.reason);
        return;
      }
      parent?.addEventListener('abort', this.#onParentAbort, { once: true });
      this.#start(false);
      this.#schedule();
    });
  }

  readonly #onParentAbort = (): void => {
    if (this.#settled) return;
    this.#settle();
    this.#abortRunning(this.#ctx.signal?.reason);
    this.#reject(this.#ctx.signal?.reason);
  };

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#settled) return;
    // An empty budget ends hedging for this call; the attempts in flight race on.
    if (!this.#deps.budget.tryWithdrawHedge()) return;
    this.#deps.events.emitLazy('hedge', () => ({ service: this.#ctx.service, attempt: this.#ctx.attempt }));
    this.#start(true);
    this.#schedule();
  };

  #schedule(): void {
    if (this.#attempts.length >= this.#maxAttempts) return;
    if (this.#deps.clock.now() + this.#delay >= this.#ctx.deadline) return;
    this.#timer = this.#deps.clock.setTimer(this.#onTimer, this.#delay);
  }

  #start(hedge: boolean): void {
    const controller = new AbortController();
    // A hedge avoids the endpoint the first attempt went to (known once the balancer picked).
    const avoid = hedge ? (this.#attempts[0]?.ctx.endpoint ?? this.#ctx.avoid) : this.#ctx.avoid;
    const ctx = attemptContext(this.#ctx, this.#ctx.attempt, controller.signal, hedge, avoid);
    const attempt: RacingAttempt = { controller, ctx, startedAt: this.#deps.clock.now(), done: false };
    this.#attempts.push(attempt);
    this.#inFlight++;
    this.#inner.call(this.#request, ctx).then(
      (response) => this.#onResult(attempt, response, undefined),
      (error: unknown) => this.#onResult(attempt, undefined, error),
    );
  }

  #onResult(attempt: RacingAttempt, response: MeshResponse | undefined, error: unknown): void {
    attempt.done = true;
    this.#inFlight--;
    if (this.#settled) {
      if (response !== undefined) void discardResponse(response);
      return;
    }
    if (!isFailure(response?.statusCode, error)) {
      if (attempt === this.#attempts[0]) this.#histogram?.record(this.#deps.clock.now() - attempt.startedAt);
      this.#finish(attempt, response, undefined);
      return;
    }
    // A failure while a sibling may still succeed: keep it as the fallback result.
    if (this.#inFlight > 0) {
      if (this.#pendingFailure !== undefined) void discardResponse(this.#pendingFailure);
      this.#pendingFailure = response;
      return;
    }
    this.#finish(attempt, response, error);
  }

  #finish(winner: RacingAttempt, response: MeshResponse | undefined, error: unknown): void {
    this.#settle();
    // The logical attempt's endpoint is the one that produced the result: a retry avoids it.
    this.#ctx.endpoint = winner.ctx.endpoint;
    if (this.#pendingFailure !== undefined && this.#pendingFailure !== response) void discardResponse(this.#pendingFailure);
    this.#pendingFailure = undefined;
    const first = this.#attempts[0]!;
    // NOTE: the histogram describes first attempts. One that lost to a hedge took at least
    // this long; recording that lower bound keeps the tail in view (without it, every
    // hedge win would hide a slow sample and the percentile would drift down).
    if (first !== winner && !first.done) this.#histogram?.record(this.#deps.clock.now() - first.startedAt);
    if (this.#inFlight > 0) this.#abortRunning(hedgeLost(this.#ctx.service));
    if (error !== undefined) this.#reject(error);
    else this.#resolve(response!);
  }

  #settle(): void {
    this.#settled = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#ctx.signal?.removeEventListener('abort', this.#onParentAbort);
  }

  #abortRunning(reason: unknown): void {
    for (const attempt of this.#attempts) if (!attempt.done) attempt.controller.abort(reason);
  }
}

function hedgeLost(service: string): MeshError {
  return new MeshError('MESH_ABORTED', `attempt to '${service}' cancelled: a hedged attempt answered first`, { service });
}
