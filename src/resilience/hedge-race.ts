/**
 * One hedged call: the first attempt starts at once, another every `delay` ms while none
 * has answered well (up to `maxAttempts` in flight, each only if the budget allows; one the
 * budget refuses is asked for again at doubling intervals), and the first acceptable result
 * wins. A failure does not end the race while another attempt is still running; when all
 * have failed, the last failure is the result (the retry layer above decides what to do with
 * it). Losers are aborted (through the signal each attempt hands undici), so the server sees
 * the connection go away and stops working for nobody; a loser's response body, if it got
 * one, is discarded.
 */
import { attemptContext, type CallContext } from '../core/call-context.ts';
import type { TimerHandle } from '../core/clock.ts';
import { attemptSuperseded, callerAborted } from '../core/errors.ts';
import type { MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { RetryBudget } from './retry-budget.ts';
import type { LatencyHistogram } from './latency-histogram.ts';
import { discardResponse } from './retry-discard.ts';

/** How early a hedge timer may fire and still count as on time (see `#onTimer`). */
const TIMER_TOLERANCE_MS = 0.5;

interface RacingAttempt {
  /** Only for a call without a deadline (see `#start`); other attempts are cancelled through their wire. */
  readonly controller: AbortController | undefined;
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
  readonly #env: LayerEnv;
  readonly #budget: RetryBudget;
  readonly #histogram: LatencyHistogram | undefined;
  readonly #attempts: RacingAttempt[] = [];
  #inFlight = 0;
  #settled = false;
  #timer: TimerHandle | undefined;
  /** Clock time at which the armed timer is meant to fire. */
  #dueAt = 0;
  /** How long to wait before asking the budget again after it refused a hedge. */
  #deferral: number;
  #pendingFailure: MeshResponse | undefined;
  #resolve: (response: MeshResponse) => void = () => {};
  #reject: (error: unknown) => void = () => {};

  constructor(
    inner: Service,
    request: MeshRequest,
    ctx: CallContext,
    delay: number,
    maxAttempts: number,
    env: LayerEnv,
    budget: RetryBudget,
    histogram: LatencyHistogram | undefined,
  ) {
    this.#inner = inner;
    this.#request = request;
    this.#ctx = ctx;
    this.#delay = delay;
    this.#deferral = delay;
    this.#maxAttempts = maxAttempts;
    this.#env = env;
    this.#budget = budget;
    this.#histogram = histogram;
  }

  run(): Promise<MeshResponse> {
    return new Promise<MeshResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const parent = this.#ctx.signal;
      if (parent?.aborted) {
        reject(callerAborted(this.#ctx.service, 'before it was sent', parent.reason));
        return;
      }
      parent?.addEventListener('abort', this.#onParentAbort, { once: true });
      this.#start(false);
      this.#arm(this.#delay);
    });
  }

  /** The caller cancelled before any attempt answered: each attempt's wire follows the caller and cancels itself. */
  readonly #onParentAbort = (): void => {
    if (this.#settled) return;
    this.#settle();
    this.#reject(callerAborted(this.#ctx.service, 'in flight', this.#ctx.signal?.reason));
  };

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#settled) return;
    // NOTE: Node starts a timer from the event loop's cached time, which lags by however long
    // the current turn has run, and rounds to whole milliseconds: a 4.6 ms timer fires after
    // 3.1–4.8 ms, most often early. Early hedges go to calls that were not late yet, which
    // pushes the hedge rate past what the percentile planned and into the budget's refusals.
    // Within half a millisecond (half Node's timer resolution) is on time: waiting again
    // would cost a whole millisecond more.
    const early = this.#dueAt - this.#env.clock.now();
    if (early > TIMER_TOLERANCE_MS) {
      this.#timer = this.#env.clock.setCallTimer(this.#onTimer, early);
      return;
    }
    if (!this.#budget.tryWithdrawHedge()) {
      // NOTE: a refused hedge is deferred, not dropped. The budget refuses whichever call's
      // timer fires while the allowance is spent, a stuck call as readily as a merely late
      // one; the calls still waiting when it looks again are the stuck ones, which a hedge is
      // for. Doubling the wait keeps the looks few.
      this.#arm(this.#deferral);
      this.#deferral *= 2;
      return;
    }
    this.#env.events.emitLazy('hedge', () => ({ service: this.#ctx.service, attempt: this.#ctx.attempt }));
    this.#start(true);
    this.#arm(this.#delay);
  };

  /** Sets the timer for the next hedge, unless no further attempt may start, or only after the deadline. */
  #arm(wait: number): void {
    if (this.#attempts.length >= this.#maxAttempts) return;
    const dueAt = this.#env.clock.now() + wait;
    if (dueAt >= this.#ctx.deadline) return;
    this.#dueAt = dueAt;
    this.#timer = this.#env.clock.setCallTimer(this.#onTimer, wait);
  }

  #start(hedge: boolean): void {
    // NOTE: a loser is cancelled through its wire, the signal the attempt layer hands undici
    // (set on the attempt's context as it starts; it also follows the caller's signal). An
    // AbortController per attempt, with the attempt layer listening on it, costs more than
    // the rest of the stack (core/attempt-signal.ts) and more than doubled the GC time of a
    // hedged service, for every call although few ever race. The attempt layer gives every
    // attempt with a time limit a wire; only a call without a deadline may have none, so it
    // still gets a controller of its own. NOTE: with a caller's signal the attempt layer gives
    // every attempt a wire that follows it, so the winner stays cancellable by the caller
    // while its body is read, after the race is over (a controller of the race's would not).
    const parent = this.#ctx.signal;
    const controller = this.#ctx.deadline === Number.POSITIVE_INFINITY && parent === undefined ? new AbortController() : undefined;
    // A hedge avoids the endpoint the first attempt went to (known once the balancer picked).
    const avoid = hedge ? (this.#attempts[0]?.ctx.endpoint ?? this.#ctx.avoid) : this.#ctx.avoid;
    const ctx = attemptContext(this.#ctx, this.#ctx.attempt, controller?.signal ?? parent, hedge, avoid);
    const attempt: RacingAttempt = { controller, ctx, startedAt: this.#env.clock.now(), done: false };
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
      if (response !== undefined) discardResponse(response);
      return;
    }
    const outcome = attempt.ctx.outcome ?? this.#env.classifier.classify(response, error);
    attempt.ctx.outcome = outcome;
    if (outcome.kind !== 'failure') {
      if (attempt === this.#attempts[0]) this.#histogram?.record(this.#env.clock.now() - attempt.startedAt);
      this.#finish(attempt, response, undefined);
      return;
    }
    // A failure while a sibling may still succeed: keep it as the fallback result.
    if (this.#inFlight > 0) {
      if (this.#pendingFailure !== undefined) discardResponse(this.#pendingFailure);
      this.#pendingFailure = response;
      return;
    }
    this.#finish(attempt, response, error);
  }

  #finish(winner: RacingAttempt, response: MeshResponse | undefined, error: unknown): void {
    this.#settle();
    // The logical attempt's endpoint and outcome are the ones of the attempt that produced the
    // result: a retry avoids that endpoint and judges that outcome.
    this.#ctx.endpoint = winner.ctx.endpoint;
    this.#ctx.outcome = winner.ctx.outcome;
    if (this.#pendingFailure !== undefined && this.#pendingFailure !== response) discardResponse(this.#pendingFailure);
    this.#pendingFailure = undefined;
    const first = this.#attempts[0]!;
    // NOTE: the histogram describes first attempts. One that lost to a hedge took at least
    // this long; recording that lower bound keeps the tail in view (without it, every
    // hedge win would hide a slow sample and the percentile would drift down).
    if (first !== winner && !first.done) this.#histogram?.record(this.#env.clock.now() - first.startedAt);
    if (this.#inFlight > 0) this.#abortRunning(attemptSuperseded(this.#ctx.service));
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
    for (const attempt of this.#attempts) {
      if (attempt.done) continue;
      if (attempt.controller !== undefined) attempt.controller.abort(reason);
      else attempt.ctx.wire?.abort(reason);
    }
  }
}


