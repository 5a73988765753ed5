/**
 * One attempt of a call: one try at one endpoint. It is also the cancellation handle of the
 * request the transport sends, so an attempt costs one object, not a context and a signal.
 *
 * What it carries: the immutable logical `Call` it belongs to; its number, hedge flag, the
 * endpoint to avoid and the signal it follows (fixed by whoever starts it: the client for the
 * first, the retry layer for each retry, the hedge race for each racer); and what the layers
 * below record as it runs (its start, the endpoint the balancer chose, who hears its end, the
 * classifier's outcome). The layers above the retry layer see the call's first attempt and
 * read only its `call`; no layer changes another attempt's fields.
 *
 * As a signal: the attempt layer arms it (`arm`) with the attempt's time limit (the call's
 * deadline or the per-try timeout, whichever is first) and links it to the signal it
 * follows (caller, inbound request, a hedge race). It lives as long as its request: until the
 * response body is read or destroyed, or the request fails; then the transport releases it
 * (no timer, no link to the parent left behind).
 *
 * Why not an AbortController: creating an AbortSignal and registering on it (EventTarget)
 * cost about 4 µs per call on the hot path, more than the rest of the stack together. The
 * transport's handler for the request on the wire is all that ever listens, so this is a
 * plain object with one slot (`hook`), told synchronously: no listener closure either. Its
 * time limit is an entry in an `ExpiryQueue`, not a timer of its own (expiry-queue.ts says why).
 */
import type { Call } from './call-context.ts';
import type { Endpoint } from './endpoint.ts';
import { callerAborted } from './errors.ts';
import { Expiring } from './expiry-queue.ts';
import { deadlineExceeded, perTryTimedOut, perTryTimedOutInBody } from './mesh-errors.ts';
import type { Outcome } from './outcome.ts';

/** What aborts the attempt's request on the wire (the transport's handler): told once, synchronously, when the attempt aborts. */
export interface AbortHook {
  attemptAborted(): void;
}

/**
 * Hears, once and synchronously, how an attempt ended (its outcome is on it): its response
 * head arrived, or it failed. A side effect on the attempt's own completion, like Finagle's
 * `Future.respond`: no derived promise, no closure per attempt, which on the hot path is
 * measurable.
 */
export interface AttemptObserver {
  attemptEnded(attempt: Attempt, error: unknown): void;
}

// The bits of `Attempt`'s #flags.
const HEDGE = 1;
const ARMED = 2;
const RESPONDED = 4;
const ABORTED = 8;
/** Its time limit is the per-try timeout rather than the call's deadline. */
const PER_TRY = 16;
/** It listens on the signal it follows. */
const FOLLOWING = 32;

export class Attempt extends Expiring {
  readonly call: Call;
  /** 1 for the first try; 2, 3, … for retries (a hedge shares the number of the try it races in). */
  readonly number: number;
  /** An endpoint this attempt should avoid when another is available (the one a retry or hedge follows). */
  readonly avoid: Endpoint | undefined;
  /** What cancels this attempt from above: the call's signal, or a hedge race's own. */
  readonly signal: AbortSignal | undefined;
  /**
   * Clock time this attempt started (the attempt layer sets it; the balancer measures latency
   * from it). Unset, it is the call's start: a first attempt that nothing above it made wait
   * started with its call (resilience/attempt.ts).
   */
  get attemptAt(): number {
    return this.#attemptAt ?? this.call.startedAt;
  }

  set attemptAt(at: number) {
    this.#attemptAt = at;
  }

  /** Endpoint chosen for this attempt by the balancer. */
  endpoint: Endpoint | undefined = undefined;
  /** Told when this attempt ends (set by the balancer, called by the transport). */
  observer: AttemptObserver | undefined = undefined;
  /** How the attempt ended, by the protocol's classifier (set by the transport). */
  outcome: Outcome | undefined = undefined;
  /**
   * The headers this attempt sends, when they are not its request's own (set by the attempt
   * layer: the request's plus the time left and the attempt number; telemetry adds trace
   * context): the transport sends these, else the request's. NOTE: on the attempt rather than
   * on a copy of the request: a request object (~96 B) less per attempt.
   */
  headers: Readonly<Record<string, string | string[]>> | undefined = undefined;

  reason: unknown = undefined;
  /**
   * Its yes/no state in one small integer (HEDGE, ARMED, …), read through the accessors below.
   * NOTE: six boolean fields cost a word each in every attempt; this is one.
   */
  #flags: number;
  /**
   * NOTE: times are doubles, and a double in a field is a heap box of its own: an attempt
   * holds none it does not need. Its start stays unset while it is its call's start, and its
   * limit is kept only when it is the per-try timeout (a whole number from the config, no box),
   * the only case its error names it.
   */
  #attemptAt: number | undefined = undefined;
  /** The per-try timeout in ms, when that is the attempt's time limit (PER_TRY), for its error. */
  #limit = 0;
  #hook: AbortHook | undefined = undefined;

  /**
   * `call` undefined: the attempt is its call's own object, a subclass that is also the `Call`
   * (the client's first attempt: mesh/client-call.ts), so a call costs one object, not two.
   */
  constructor(call: Call | undefined, number: number, hedge: boolean, avoid: Endpoint | undefined, signal: AbortSignal | undefined) {
    super();
    this.call = call ?? (this as unknown as Call);
    this.number = number;
    this.avoid = avoid;
    this.signal = signal;
    this.#flags = hedge ? HEDGE : 0;
  }

  /** True for a hedged (speculative) attempt. */
  get hedge(): boolean {
    return (this.#flags & HEDGE) !== 0;
  }

  /** The attempt layer gave it a time limit or a signal to follow: the transport's request follows it. */
  get armed(): boolean {
    return (this.#flags & ARMED) !== 0;
  }

  /** The response head arrived (set by the transport): what is left is the caller's body read. */
  get responded(): boolean {
    return (this.#flags & RESPONDED) !== 0;
  }

  set responded(responded: boolean) {
    this.#flags = responded ? this.#flags | RESPONDED : this.#flags & ~RESPONDED;
  }

  get aborted(): boolean {
    return (this.#flags & ABORTED) !== 0;
  }

  /** The call's first attempt, with the call's own signal. */
  static first(call: Call): Attempt {
    return new Attempt(call, 1, false, undefined, call.signal);
  }

  /**
   * Makes this attempt the request's signal: it aborts when its signal does, and (the
   * queue's part) when `limit` ms pass; `perTry` says which limit that is, for the error.
   */
  arm(limit: number, perTry: boolean): void {
    this.#flags |= perTry ? ARMED | PER_TRY : ARMED;
    if (perTry) this.#limit = limit;
    const parent = this.signal;
    if (parent !== undefined) {
      this.#flags |= FOLLOWING;
      // The attempt is its own listener (`handleEvent`): no closure per attempt.
      parent.addEventListener('abort', this, { once: true });
    }
  }

  /** The signal it follows aborted. Before the head the transport reports it; after it, the caller reading the body gets it. */
  handleEvent(): void {
    this.#flags &= ~FOLLOWING;
    this.abort(callerAborted(this.call.service, this.responded ? 'while its response body was read' : 'in flight', this.signal?.reason));
  }

  /** The time limit passed (the `ExpiryQueue` calls this). */
  expire(): void {
    this.abort(this.#timedOut());
  }

  #timedOut(): unknown {
    const { service, deadline, startedAt } = this.call;
    if ((this.#flags & PER_TRY) === 0) return deadlineExceeded(service, deadline - startedAt, this.number);
    // NOTE: before the head, the retry layer judges the attempt (a timeout it may retry);
    // after it, the caller reading the body gets the error, and it gets a MeshError.
    if (this.responded) return perTryTimedOutInBody(service, this.number, this.#limit);
    return perTryTimedOut(service, this.number, this.#limit, this.endpoint?.address.id);
  }

  abort(reason: unknown): void {
    if ((this.#flags & ABORTED) !== 0) return;
    this.#flags |= ABORTED;
    this.reason = reason;
    this.dispose();
    const hook = this.#hook;
    this.#hook = undefined;
    hook?.attemptAborted();
  }

  /** Stops the time limit and unlinks from the parent: the attempt is over. */
  dispose(): void {
    this.cancelExpiry();
    if ((this.#flags & FOLLOWING) !== 0) {
      this.#flags &= ~FOLLOWING;
      this.signal?.removeEventListener('abort', this);
    }
  }

  /** The transport's handler for the request on the wire: told if the attempt aborts while it is out. */
  hook(target: AbortHook): void {
    this.#hook = target;
  }

  /** The request is over (its body destroyed, or it failed): so is the attempt. */
  release(): void {
    this.#hook = undefined;
    this.dispose();
  }
}
