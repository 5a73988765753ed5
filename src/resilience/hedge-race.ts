/**
 * One hedged call: the first attempt starts at once, another every `delay` ms while none
 * has answered well (up to `maxAttempts` in flight, each only if the budget allows; one the
 * budget refuses is asked for again at doubling intervals), and the first acceptable result
 * wins. A failure does not end the race while another attempt is still running; when all
 * have failed, the last failure is the result (the retry layer above decides what to do with
 * it). Losers are aborted (through the attempt the transport's request follows), so the server sees
 * the connection go away and stops working for nobody; a loser's response body, if it got
 * one, is discarded.
 */
import { Attempt } from '../core/attempt.ts';
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
  /** Only for a call without a deadline (see `#start`); other attempts are cancelled through themselves, which their request follows. */
  readonly controller: AbortController | undefined;
  readonly attempt: Attempt;
  readonly startedAt: number;
  done: boolean;
}

export class HedgeRace {
  readonly #inner: Service;
  readonly #request: MeshRequest;
  /** The try this race runs for: the retry layer reads the winner's endpoint and outcome off it. */
  readonly #try: Attempt;
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
    tryAttempt: Attempt,
    delay: number,
    maxAttempts: number,
    env: LayerEnv,
    budget: RetryBudget,
    histogram: LatencyHistogram | undefined,
  ) {
    this.#inner = inner;
    this.#request = request;
    this.#try = tryAttempt;
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
      const parent = this.#try.signal;
      if (parent?.aborted) {
        reject(callerAborted(this.#try.call.service, 'before it was sent', parent.reason));
        return;
      }
      parent?.addEventListener('abort', this.#onParentAbort, { once: true });
      this.#start(false);
      this.#arm(this.#delay);
    });
  }

  /** The caller cancelled before any attempt answered: each attempt follows the caller and cancels itself. */
  readonly #onParentAbort = (): void => {
    if (this.#settled) return;
    this.#settle();
    this.#reject(callerAborted(this.#try.call.service, 'in flight', this.#try.signal?.reason));
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
    this.#env.events.emitLazy('hedge', () => ({ service: this.#try.call.service, attempt: this.#try.number, call: this.#try.call }));
    this.#start(true);
    this.#arm(this.#delay);
  };

  /** Sets the timer for the next hedge, unless no further attempt may start, or only after the deadline. */
  #arm(wait: number): void {
    if (this.#attempts.length >= this.#maxAttempts) return;
    const dueAt = this.#env.clock.now() + wait;
    if (dueAt >= this.#try.call.deadline) return;
    this.#dueAt = dueAt;
    this.#timer = this.#env.clock.setCallTimer(this.#onTimer, wait);
  }

  #start(hedge: boolean): void {
    // NOTE: a loser is cancelled through itself: the attempt is what its request follows once
    // the attempt layer armed it (which also links it to the caller's signal). An
    // AbortController per attempt, with the attempt layer listening on it, costs more than
    // the rest of the stack (core/attempt.ts) and more than doubled the GC time of a
    // hedged service, for every call although few ever race. The attempt layer arms every
    // attempt with a time limit; only a call without a deadline may leave one unarmed, so it
    // still gets a controller of its own. NOTE: with a caller's signal the attempt layer arms
    // every attempt to follow it, so the winner stays cancellable by the caller while its
    // body is read, after the race is over (a controller of the race's would not).
    const tryAttempt = this.#try;
    const parent = tryAttempt.signal;
    const controller = tryAttempt.call.deadline === Number.POSITIVE_INFINITY && parent === undefined ? new AbortController() : undefined;
    // A hedge avoids the endpoint the first attempt went to (known once the balancer picked).
    const avoid = hedge ? (this.#attempts[0]?.attempt.endpoint ?? tryAttempt.avoid) : tryAttempt.avoid;
    const attempt = new Attempt(tryAttempt.call, tryAttempt.number, hedge, avoid, controller?.signal ?? parent);
    const racing: RacingAttempt = { controller, attempt, startedAt: this.#env.clock.now(), done: false };
    this.#attempts.push(racing);
    this.#inFlight++;
    this.#inner.call(this.#request, attempt).then(
      (response) => this.#onResult(racing, response, undefined),
      (error: unknown) => this.#onResult(racing, undefined, error),
    );
  }

  #onResult(attempt: RacingAttempt, response: MeshResponse | undefined, error: unknown): void {
    attempt.done = true;
    this.#inFlight--;
    if (this.#settled) {
      if (response !== undefined) discardResponse(response);
      return;
    }
    const outcome = attempt.attempt.outcome ?? this.#env.classifier.classify(response, error);
    attempt.attempt.outcome = outcome;
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
    this.#try.endpoint = winner.attempt.endpoint;
    this.#try.outcome = winner.attempt.outcome;
    if (this.#pendingFailure !== undefined && this.#pendingFailure !== response) discardResponse(this.#pendingFailure);
    this.#pendingFailure = undefined;
    const first = this.#attempts[0]!;
    // NOTE: the histogram describes first attempts. One that lost to a hedge took at least
    // this long; recording that lower bound keeps the tail in view (without it, every
    // hedge win would hide a slow sample and the percentile would drift down).
    if (first !== winner && !first.done) this.#histogram?.record(this.#env.clock.now() - first.startedAt);
    if (this.#inFlight > 0) this.#abortRunning(attemptSuperseded(this.#try.call.service));
    if (error !== undefined) this.#reject(error);
    else this.#resolve(response!);
  }

  #settle(): void {
    this.#settled = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#try.signal?.removeEventListener('abort', this.#onParentAbort);
  }

  #abortRunning(reason: unknown): void {
    for (const attempt of this.#attempts) {
      if (attempt.done) continue;
      if (attempt.controller !== undefined) attempt.controller.abort(reason);
      else attempt.attempt.abort(reason);
    }
  }
}


