/**
 * One attempt on one endpoint: its time limit, and the headers attempts carry to the next
 * hop — the time left (`x-meshlet-timeout-ms`, relative so clock skew between hosts does not
 * matter) and, on retries and hedges, the attempt number (`x-meshlet-attempt: 2`, 3, …).
 * The first attempt sends no attempt header: absent means first, as gRPC's
 * `grpc-previous-rpc-attempts` is absent on an original attempt, and a header less on every
 * call is measurable on the hot path. The caller's headers are copied, never mutated.
 *
 * The time limit is the sooner of the call's deadline and the per-try timeout, and it covers
 * the whole response, body included, as Envoy's route and per-try timeouts do: a server that
 * sends its head and then stalls must not hang the caller. It is enforced here, once per
 * attempt, by arming the `Attempt` itself, which the transport's request follows until the
 * body is read or destroyed. Layers that wait above (backoff, queues, injected delays)
 * check the deadline themselves, so no per-call timer or AbortController is needed above
 * this point, and the attempts' limits share the timers of one `ExpiryQueue` instead of
 * arming one each. A caller that streams a long body sets a `timeout` to match.
 */
import type { Attempt } from '../core/attempt.ts';
import { callerAborted } from '../core/errors.ts';
import { ExpiryQueue } from '../core/expiry-queue.ts';
import { type Layer, type MeshRequest, type MeshResponse, NO_HEADERS, type Reply, type Service } from '../core/service.ts';
import type { Clock } from '../core/clock.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import { timeoutError } from './deadline.ts';

export const TIMEOUT_HEADER = 'x-meshlet-timeout-ms';
export const ATTEMPT_HEADER = 'x-meshlet-attempt';

export function attemptLayer(perTryTimeoutPolicy: number | false, env: LayerEnv): Layer {
  const { clock } = env;
  const perTryTimeout = perTryTimeoutPolicy === false ? Number.POSITIVE_INFINITY : perTryTimeoutPolicy;
  const limits = new ExpiryQueue(clock);
  return {
    name: 'attempt',
    wrap: (inner) => new AttemptService(inner, clock, perTryTimeout, limits),
    // NOTE: the layer closes once its last call has its response head (service-runtime.ts),
    // while bodies may still be read: their limits stay (a stalled body must still time out),
    // and the queue's timers go as the last of them ends.
    close(): Promise<void> {
      limits.retire();
      return Promise.resolve();
    },
  };
}

export class AttemptService implements Service {
  readonly #inner: Service;
  readonly #clock: Clock;
  /** Milliseconds; Infinity when off. */
  readonly #perTryTimeout: number;
  readonly #limits: ExpiryQueue;
  readonly send: Service['send'];

  constructor(inner: Service, clock: Clock, perTryTimeout: number, limits: ExpiryQueue) {
    this.#inner = inner;
    this.#clock = clock;
    this.#perTryTimeout = perTryTimeout;
    this.#limits = limits;
    if (inner.send !== undefined) this.send = this.#send;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const now = this.#clock.now();
    attempt.attemptAt = now;
    const refused = this.#start(request, attempt, now);
    return refused === undefined ? this.#inner.call(request, attempt) : Promise.reject(refused);
  }

  #send(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    // NOTE: the callback form reaches this layer only through layers that never wait (a
    // layer that waits offers the promise form alone, and the layers above it then call
    // that: core/service.ts), so a first try here runs in the turn its call started in, and
    // the call's start is its start: a clock read less per call. A retry, a hedge, or any
    // attempt after a wait comes in through `call` and reads the clock.
    let now: number;
    if (attempt.number === 1 && !attempt.hedge) now = attempt.call.startedAt;
    else {
      now = this.#clock.now();
      attempt.attemptAt = now;
    }
    const refused = this.#start(request, attempt, now);
    if (refused === undefined) this.#inner.send!(request, attempt, reply);
    else reply.reject(refused);
  }

  /**
   * Starts the attempt at `now`: its time limit and the headers it sends (on the attempt:
   * `Attempt.headers`; the request goes on as it is), or why it must not start.
   */
  #start(request: MeshRequest, attempt: Attempt, now: number): Error | undefined {
    const call = attempt.call;
    const remaining = timeLeft(call.deadline, now);
    // NOTE: no attempt starts after the deadline, whatever the layers above decided.
    if (remaining <= 0) return timeoutError(call, attempt.number - 1);
    // NOTE: nor an attempt already aborted through itself (a hedge loser that waited above,
    // in an injected delay): it must never reach the balancer or the transport.
    if (attempt.aborted) return abortedBeforeSent(call.service, attempt.reason);
    const parent = attempt.signal;
    if (parent?.aborted) return callerAborted(call.service, 'before it was sent', parent.reason);
    const perTry = this.#perTryTimeout < remaining;
    const limit = perTry ? this.#perTryTimeout : remaining;
    attempt.headers = meshHeaders(request.headers, attempt.number, limit);
    if (limit === Number.POSITIVE_INFINITY && parent === undefined) return undefined;
    attempt.arm(limit, perTry);
    if (limit !== Number.POSITIVE_INFINITY) this.#limits.add(attempt, now, limit);
    return undefined;
  }
}

/**
 * The ms from `now` to `deadline`. NOTE: at the call's own start (a first try: see `#send`)
 * this is (start + timeout) - start, which floating point gives as the timeout give or take
 * an ulp of the deadline's value (1e-13 ms after a second's uptime, 2e-6 after 100 days) in
 * about 3% of calls: as 9999.999… it would floor to a different header value (9999 against
 * 10000) and land in another expiry list than its neighbours, rebuilding the shared headers
 * and their list each time the value flips. Within that rounding error of a whole ms (a few
 * ulps of the deadline: one for the sum, one for the difference), it is that ms. NOTE: no
 * wider: a fixed tolerance (a microsecond) also rounds up a time left that is really just
 * under a whole ms, and the header then says more time is left than there is.
 */
function timeLeft(deadline: number, now: number): number {
  const left = deadline - now;
  const whole = Math.round(left);
  return Math.abs(left - whole) <= Math.abs(deadline) * 4 * Number.EPSILON ? whole : left;
}

/** An attempt's own abort reason is a MeshError the stack built; anything else is treated as the caller's. */
function abortedBeforeSent(service: string, reason: unknown): Error {
  return reason instanceof Error ? reason : callerAborted(service, 'before it was sent', reason);
}

/** The headers an attempt sends: the caller's (`headers`, never changed) plus the attempt's own. */
export function meshHeaders(headers: MeshRequest['headers'], attempt: number, limit: number): MeshRequest['headers'] {
  if (limit !== Number.POSITIVE_INFINITY && attempt === 1 && headers === NO_HEADERS) {
    // The common call: no headers of its own, first attempt, a deadline: the headers are the
    // time left alone, shared (frozen) by the calls that leave with the same whole ms.
    return timeoutOnlyHeaders(limit);
  }
  const own: Record<string, string | string[]> = { ...headers };
  if (limit !== Number.POSITIVE_INFINITY) own[TIMEOUT_HEADER] = timeoutHeaderValue(limit);
  if (attempt > 1) own[ATTEMPT_HEADER] = String(attempt);
  return own;
}

// Most calls of a service leave with the same whole number of milliseconds left (a fresh
// call under the default deadline), so the last value's text is kept rather than rebuilt.
let lastTimeoutMs = -1;
let lastTimeoutText = '';

let lastTimeoutHeaders: Readonly<Record<string, string>> = NO_HEADERS;

function timeoutHeaderValue(limit: number): string {
  const ms = Math.max(1, Math.floor(limit));
  if (ms !== lastTimeoutMs) {
    lastTimeoutMs = ms;
    lastTimeoutText = String(ms);
    // Its key is TIMEOUT_HEADER spelled out: a literal key gives V8 a fixed object shape.
    lastTimeoutHeaders = Object.freeze({ 'x-meshlet-timeout-ms': lastTimeoutText });
  }
  return lastTimeoutText;
}

function timeoutOnlyHeaders(limit: number): Readonly<Record<string, string>> {
  timeoutHeaderValue(limit);
  return lastTimeoutHeaders;
}
