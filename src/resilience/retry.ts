/**
 * Retries: a failed attempt (a retryable transport error or status, per the one HTTP
 * classifier) is tried again on a fresh pick, under the service's retry budget, with
 * full-jitter backoff that never sleeps past the call's deadline. DESIGN §5 is the contract:
 * a non-idempotent call is resent only when the request provably never left; a streamed body
 * is never replayed; `Retry-After` is honoured when bounded; an empty budget or an exhausted
 * deadline gives the caller the last result (a response stays a response).
 *
 * Why not p-retry: its loop ends in a thrown error, while a retried 503 must come back to the
 * caller as the last *response*; its delays are `minTimeout·factor^n` with a 1–2x random
 * factor, not full jitter; it sleeps on bare timers rather than the Clock tests drive; and it
 * knows no deadline to clip a sleep to, nor a budget to ask before each retry. What remains
 * of it once those are worked around is a for-loop, so the loop is written out here.
 */
import { Attempt } from '../core/attempt.ts';
import type { Call } from '../core/call-context.ts';
import type { Clock } from '../core/clock.ts';
import { callerAborted } from '../core/errors.ts';
import { toCallerError } from '../core/mesh-errors.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { Classifier, Outcome } from '../core/outcome.ts';
import type { FirstTryJudge, Layer, MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';
import type { RetryCondition, RetryPolicy } from '../config/policy.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import { eitherSignal } from '../core/signals.ts';
import { type Backoff, fullJitterBackoff } from './backoff.ts';
import { retryAfterDelay } from './retry-after.ts';
import type { RetryBudget } from './retry-budget.ts';
import { discardResponse } from './retry-discard.ts';

export function retryLayer(policy: RetryPolicy | false, env: LayerEnv, budget: RetryBudget): Layer {
  return {
    name: 'retry',
    wrap(inner: Service): Service {
      if (policy === false) return inner;
      return new RetryingService(inner, policy, env, budget, fullJitterBackoff(policy.backoff));
    },
  };
}

/** A class, so the policy is read from fields set once rather than captured per call. */
export class RetryingService implements Service, FirstTryJudge {
  readonly #inner: Service;
  readonly #attempts: number;
  readonly #on: ReadonlySet<RetryCondition>;
  readonly #maxRetryAfter: number;
  readonly #backoff: Backoff;
  readonly #budget: RetryBudget;
  readonly #clock: Clock;
  readonly #events: MeshEventEmitter;
  readonly #classifier: Classifier<MeshResponse>;
  readonly send: Service['send'];

  constructor(inner: Service, policy: RetryPolicy, env: LayerEnv, budget: RetryBudget, backoff: Backoff) {
    this.#classifier = env.classifier;
    this.#inner = inner;
    this.#attempts = policy.attempts;
    this.#on = new Set(policy.on);
    this.#maxRetryAfter = policy.maxRetryAfter;
    this.#backoff = backoff;
    this.#budget = budget;
    this.#clock = env.clock;
    this.#events = env.events;
    if (inner.send !== undefined) this.send = this.#send;
  }

  call(request: MeshRequest, first: Attempt): Promise<MeshResponse> {
    this.#budget.deposit(first.call.startedAt);
    // NOTE: the first try is the call's first attempt, the one it was handed; the balancer
    // records its endpoint there for a retry to avoid. Its result is looked at with one
    // `.then`, not an `await`: on the hot path an async frame costs about twice as much CPU
    // per call as a promise reaction.
    let pending: Promise<MeshResponse>;
    try {
      pending = this.#inner.call(request, first);
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (response) => (this.isFinal(first, response) ? response : this.#retry(request, first, response, undefined)),
      (error: unknown) => this.#retry(request, first, undefined, error),
    );
  }

  /**
   * The callback form (when every layer below has it): the first try's result is judged where
   * the transport delivers it, so a call that needs no retry costs no promise of this layer.
   */
  #send(request: MeshRequest, first: Attempt, reply: Reply): void {
    this.#budget.deposit(first.call.startedAt);
    // The client's reply judges the first try with this layer itself: no reply of this layer's per call.
    if (reply.judgeFirstTry?.(this, request, first) === true) this.#inner.send!(request, first, reply);
    else this.#inner.send!(request, first, new FirstTry(this, request, first, reply));
  }

  /** True when a first try's response goes back as it is: its outcome names no condition this policy retries. */
  isFinal(first: Attempt, response: MeshResponse): boolean {
    const condition = this.#outcome(first, response, undefined).condition;
    return condition === undefined || !this.#on.has(condition);
  }

  /**
   * Goes on from a first try that failed or needs a retry (for `FirstTry`). NOTE: from the
   * next microtask, as the promise form does: the result is delivered inside undici's
   * callback, and what follows (discarding the body, backoff, events) must not run there.
   */
  retryAfterFirst(request: MeshRequest, first: Attempt, response: MeshResponse | undefined, error: unknown, reply: Reply): void {
    Promise.resolve()
      .then(() => this.#retry(request, first, response, error))
      .then(
        (final) => reply.resolve(final),
        (failure: unknown) => reply.reject(failure),
      );
  }

  /** The attempt's outcome as the transport classified it; the classifier's for a result no transport saw (a synthetic response). */
  #outcome(attempt: Attempt, response: MeshResponse | undefined, error: unknown): Outcome {
    return attempt.outcome ?? this.#classifier.classify(response, error);
  }

  async #retry(request: MeshRequest, first: Attempt, response: MeshResponse | undefined, error: unknown): Promise<MeshResponse> {
    const call = first.call;
    let attempt = 1;
    let lastEndpoint = first.endpoint;
    let outcome = this.#outcome(first, response, error);
    for (;;) {
      const delay = this.#retryDelay(request, call, attempt, response, outcome);
      if (delay === undefined) return giveUp(call, attempt, response, error);
      if (response !== undefined) discardResponse(response);
      if (delay > 0) await this.#sleep(delay, call, request);
      attempt++;
      const next = new Attempt(call, attempt, false, lastEndpoint, call.signal);
      response = undefined;
      error = undefined;
      try {
        response = await this.#inner.call(request, next);
      } catch (caught) {
        error = caught;
      }
      outcome = this.#outcome(next, response, error);
      if (response !== undefined && outcome.condition === undefined) return response;
      lastEndpoint = next.endpoint ?? lastEndpoint;
    }
  }

  /** The wait before the next attempt, or undefined when this result is final. */
  #retryDelay(
    request: MeshRequest,
    call: Call,
    attempt: number,
    response: MeshResponse | undefined,
    outcome: Outcome,
  ): number | undefined {
    const condition = outcome.condition;
    if (condition === undefined || !this.#on.has(condition)) return undefined;
    if (attempt >= this.#attempts || !request.replayable || call.signal?.aborted) return undefined;
    // A response, or an error after the request may have left, proves nothing about side
    // effects: only an idempotent call may be resent then.
    if (!request.idempotent && outcome.maybeSent) return undefined;
    let delay: number;
    const retryAfter = response === undefined ? undefined : retryAfterDelay(response.headers['retry-after']);
    if (retryAfter === undefined) delay = this.#backoff.delay(attempt - 1);
    else if (retryAfter > this.#maxRetryAfter) return undefined;
    else delay = retryAfter;
    // NOTE: a retry that could only start at or after the deadline is not worth its budget.
    if (this.#clock.now() + delay >= call.deadline) return undefined;
    if (!this.#budget.tryWithdraw()) {
      this.#events.emitLazy('budget-exhausted', () => ({ service: call.service, call }));
      return undefined;
    }
    this.#events.emitLazy('retry', () => ({ service: call.service, attempt: attempt + 1, reason: condition, delayMs: delay, call }));
    return delay;
  }

  async #sleep(delay: number, call: Call, request: MeshRequest): Promise<void> {
    // A gRPC caller's cancel is not in call.signal (that is the deadline's and the inbound
    // request's): without it a cancelled call would sleep out its backoff and hold mesh.close().
    try {
      await this.#clock.sleep(delay, eitherSignal(call.signal, request.cancelSignal?.()));
    } catch (reason) {
      // The deadline and inbound aborts arrive as MeshErrors from the deadline layer.
      throw callerAborted(call.service, 'while waiting to retry', reason);
    }
  }
}

/** Where the first try's result goes in the callback form: back to the caller when final, else on to the retries. */
class FirstTry implements Reply {
  readonly #retrying: RetryingService;
  readonly #request: MeshRequest;
  readonly #first: Attempt;
  readonly #reply: Reply;

  constructor(retrying: RetryingService, request: MeshRequest, first: Attempt, reply: Reply) {
    this.#retrying = retrying;
    this.#request = request;
    this.#first = first;
    this.#reply = reply;
  }

  resolve(response: MeshResponse): void {
    if (this.#retrying.isFinal(this.#first, response)) this.#reply.resolve(response);
    else this.#retrying.retryAfterFirst(this.#request, this.#first, response, undefined, this.#reply);
  }

  reject(error: unknown): void {
    this.#retrying.retryAfterFirst(this.#request, this.#first, undefined, error, this.#reply);
  }
}

function giveUp(call: Call, attempts: number, response: MeshResponse | undefined, error: unknown): MeshResponse {
  if (response !== undefined) return response;
  throw toCallerError(error, call.service, attempts);
}

