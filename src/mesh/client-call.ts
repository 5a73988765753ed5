/**
 * The client's end of one logical call: hands the first attempt to the service's stack and
 * makes the one promise the caller gets. When the stack offers the callback form
 * (core/service.ts `send`; a default stack does), that promise is the call's only one: the
 * result goes from undici's callback through the layers' replies straight to it. Otherwise
 * the stack's promise is chained on once. Either way the runtime hears the call's end (it
 * counts calls in flight for a drain) and whatever escapes the stack leaves as a MeshError
 * (DESIGN §1: every failure has a code; with retries off, the retry layer is not there to
 * translate transport errors).
 *
 * NOTE: the end is observed with a reply or one `.then`, never an `await`: on loopback an
 * async frame costs about twice as much CPU per call as a promise reaction.
 *
 * The call is one object (`ClientCall`): the logical call the layers read (core/call-context.ts
 * `Call`), its first attempt (core/attempt.ts: an attempt that is its own call), the reply its
 * result comes back to, and the place the retry layer's judgement of the first try waits
 * (core/service.ts `judgeFirstTry`). NOTE: four objects were one each per call (the call, the
 * first attempt, the client's reply, the retry layer's reply), and a call keeps its
 * timeout, not its deadline: a time is a double, and a double in a field is a heap box of its
 * own, while a timeout from the config is a small integer kept in the field itself.
 */
import { Attempt } from '../core/attempt.ts';
import { type Call, type InboundContext, NO_ATTRIBUTES } from '../core/call-context.ts';
import { toCallerError } from '../core/mesh-errors.ts';
import type { FirstTryJudge, MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';

/**
 * The resolving functions of the promise being made, taken out by an executor that closes over
 * nothing. NOTE: an executor written inline closes over the call's arguments, which costs a
 * closure and a context object per call; the executor runs synchronously inside the Promise
 * constructor, so the two slots are filled and emptied within the same few statements.
 */
const captured: { resolve: ((response: MeshResponse) => void) | undefined; reject: ((error: unknown) => void) | undefined } = { resolve: undefined, reject: undefined };

function capture(resolve: (response: MeshResponse) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

/** What counts the service's calls in flight. */
export interface CallsInFlight {
  leave(): void;
}

/**
 * One logical call of `service`, started at `startedAt` with `timeout` ms (Infinity: none) and
 * the caller's `signal`, on `stack`; `runtime` hears its end.
 */
export function runClientCall(
  stack: Service,
  request: MeshRequest,
  service: string,
  startedAt: number,
  timeout: number,
  signal: AbortSignal | undefined,
  runtime: CallsInFlight,
): Promise<MeshResponse> {
  const send = stack.send;
  if (send !== undefined) {
    const promise = new Promise<MeshResponse>(capture);
    const call = new ClientCall(service, startedAt, timeout, signal, runtime, captured.resolve, captured.reject);
    captured.resolve = undefined;
    captured.reject = undefined;
    try {
      send.call(stack, request, call, call);
    } catch (bug) {
      call.thrown(bug);
    }
    return promise;
  }
  const call = new ClientCall(service, startedAt, timeout, signal, runtime, undefined, undefined);
  let pending: Promise<MeshResponse>;
  try {
    pending = stack.call(request, call);
  } catch (error) {
    pending = Promise.reject(error);
  }
  return pending.then(
    (response) => {
      leave(runtime);
      return response;
    },
    (error: unknown) => {
      leave(runtime);
      throw toCallerError(error, service, 1);
    },
  );
}

/**
 * The call leaves the runtime. A throw from it is a bug (the runtime's drain or close), not the
 * call's failure: the call's result stands and the bug surfaces off the call's stack. NOTE:
 * thrown through `reply.resolve`, it would reach undici's callback and leave the caller's
 * promise unsettled (the reply had already counted itself settled).
 */
export function leave(runtime: CallsInFlight): void {
  try {
    runtime.leave();
  } catch (bug) {
    queueMicrotask(() => {
      throw bug;
    });
  }
}

/**
 * The logical call, and in the callback form its reply: the runtime hears the end, the caller's
 * promise settles; and, when the retry layer hands it its judgement (`judgeFirstTry`), the first
 * try's result is judged here before anything settles.
 */
class ClientCall extends Attempt implements Call, Reply {
  readonly service: string;
  readonly startedAt: number;
  /** Milliseconds from the start; Infinity when unbounded. */
  readonly #timeout: number;
  readonly #runtime: CallsInFlight;
  readonly #resolve: ((response: MeshResponse) => void) | undefined;
  readonly #reject: ((error: unknown) => void) | undefined;
  #settled = false;
  /** The retry layer, while the first try it judges is out; the try's request and attempt. */
  #judge: FirstTryJudge | undefined = undefined;
  #request: MeshRequest | undefined = undefined;
  #first: Attempt | undefined = undefined;

  constructor(
    service: string,
    startedAt: number,
    timeout: number,
    signal: AbortSignal | undefined,
    runtime: CallsInFlight,
    resolve: ((response: MeshResponse) => void) | undefined,
    reject: ((error: unknown) => void) | undefined,
  ) {
    // Its own call (`call` undefined), attempt 1, with the caller's signal: the attempt's signal is the call's.
    super(undefined, 1, false, undefined, signal);
    this.service = service;
    this.startedAt = startedAt;
    this.#timeout = timeout;
    this.#runtime = runtime;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  get deadline(): number {
    return this.startedAt + this.#timeout;
  }

  // NOTE: the same for every call the client starts (the deadline layer makes the call of one
  // served for an inbound request, with its attributes), so getters rather than a field each.
  get inbound(): InboundContext | undefined {
    return undefined;
  }

  get attributes(): Readonly<Record<string, unknown>> {
    return NO_ATTRIBUTES;
  }

  judgeFirstTry(judge: FirstTryJudge, request: MeshRequest, first: Attempt): boolean {
    // Once: a second judge (none in a stack today) gets a reply of its own.
    if (this.#judge !== undefined || this.#settled) return false;
    this.#judge = judge;
    this.#request = request;
    this.#first = first;
    return true;
  }

  resolve(response: MeshResponse): void {
    const judge = this.#judge;
    if (judge !== undefined) {
      this.#judge = undefined;
      // What follows the first try: the retries' result comes back here, judged no more.
      if (!judge.isFinal(this.#first!, response)) {
        judge.retryAfterFirst(this.#request!, this.#first!, response, undefined, this);
        return;
      }
    }
    if (this.#end()) this.#resolve!(response);
  }

  reject(error: unknown): void {
    const judge = this.#judge;
    if (judge !== undefined) {
      this.#judge = undefined;
      judge.retryAfterFirst(this.#request!, this.#first!, undefined, error, this);
      return;
    }
    if (this.#end()) this.#reject!(toCallerError(error, this.service, 1));
  }

  /** A layer threw from `send` (a bug): the call fails with it, not judged as a first try's failure. */
  thrown(bug: unknown): void {
    this.#judge = undefined;
    this.reject(bug);
  }

  /** The call leaves the runtime once, whatever a buggy layer replies twice. */
  #end(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    leave(this.#runtime);
    return true;
  }
}
