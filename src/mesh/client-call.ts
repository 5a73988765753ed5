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
 */
import type { Attempt } from '../core/attempt.ts';
import { toCallerError } from '../core/mesh-errors.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';

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

export function runClientCall(stack: Service, request: MeshRequest, first: Attempt, runtime: CallsInFlight): Promise<MeshResponse> {
  const send = stack.send;
  if (send !== undefined) {
    const promise = new Promise<MeshResponse>(capture);
    const reply = new ClientReply(runtime, first.call.service, captured.resolve!, captured.reject!);
    captured.resolve = undefined;
    captured.reject = undefined;
    try {
      send.call(stack, request, first, reply);
    } catch (bug) {
      reply.reject(bug);
    }
    return promise;
  }
  let pending: Promise<MeshResponse>;
  try {
    pending = stack.call(request, first);
  } catch (error) {
    pending = Promise.reject(error);
  }
  const service = first.call.service;
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

/** The call's reply in the callback form: the runtime hears the end, the caller's promise settles. */
class ClientReply implements Reply {
  readonly #runtime: CallsInFlight;
  readonly #service: string;
  readonly #resolve: (response: MeshResponse) => void;
  readonly #reject: (error: unknown) => void;
  #settled = false;

  constructor(runtime: CallsInFlight, service: string, resolve: (response: MeshResponse) => void, reject: (error: unknown) => void) {
    this.#runtime = runtime;
    this.#service = service;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  resolve(response: MeshResponse): void {
    if (this.#end()) this.#resolve(response);
  }

  reject(error: unknown): void {
    if (this.#end()) this.#reject(toCallerError(error, this.#service, 1));
  }

  /** The call leaves the runtime once, whatever a buggy layer replies twice. */
  #end(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    leave(this.#runtime);
    return true;
  }
}
