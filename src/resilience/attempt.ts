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
 * attempt, through one `AttemptSignal` handed to the transport, which undici releases when
 * the body is read or destroyed. Layers that wait above (backoff, queues, injected delays)
 * check the deadline themselves, so no per-call timer or AbortController is needed above
 * this point, and the attempts' limits share the timers of one `ExpiryQueue` instead of
 * arming one each. A caller that streams a long body sets a `timeout` to match.
 */
import { AttemptSignal } from '../core/attempt-signal.ts';
import { callerAborted } from '../core/errors.ts';
import { perTryTimedOut, perTryTimedOutInBody } from '../core/mesh-errors.ts';
import { ExpiryQueue } from '../core/expiry-queue.ts';
import type { CallContext } from '../core/call-context.ts';
import { type Layer, type MeshRequest, type MeshResponse, NO_HEADERS, type Service } from '../core/service.ts';
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
    close(): Promise<void> {
      limits.close();
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

  constructor(inner: Service, clock: Clock, perTryTimeout: number, limits: ExpiryQueue) {
    this.#inner = inner;
    this.#clock = clock;
    this.#perTryTimeout = perTryTimeout;
    this.#limits = limits;
  }

  call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
    const now = this.#clock.now();
    ctx.attemptAt = now;
    const remaining = ctx.deadline - now;
    // NOTE: no attempt starts after the deadline, whatever the layers above decided.
    if (remaining <= 0) return Promise.reject(timeoutError(ctx, ctx.attempt - 1));
    const parent = ctx.signal;
    if (parent?.aborted) return Promise.reject(callerAborted(ctx.service, 'before it was sent', parent.reason));
    const perTry = this.#perTryTimeout < remaining;
    const limit = perTry ? this.#perTryTimeout : remaining;
    const outgoing = withMeshHeaders(request, ctx, limit);
    if (limit === Number.POSITIVE_INFINITY && parent === undefined) return this.#inner.call(outgoing, ctx);
    const wire = new AttemptWire(ctx, limit, perTry);
    if (parent !== undefined) wire.follow(parent);
    if (limit !== Number.POSITIVE_INFINITY) this.#limits.add(wire, now, limit);
    ctx.wire = wire;
    return this.#inner.call(outgoing, ctx);
  }
}

/** An attempt's signal that knows which of its limits it hit, for the error it aborts with. */
class AttemptWire extends AttemptSignal {
  readonly #ctx: CallContext;
  readonly #limit: number;
  readonly #perTry: boolean;

  constructor(ctx: CallContext, limit: number, perTry: boolean) {
    super();
    this.#ctx = ctx;
    this.#limit = limit;
    this.#perTry = perTry;
  }

  /** Before the head the transport reports it; after it, the caller reading the body gets it. */
  protected override parentAborted(reason: unknown): unknown {
    return callerAborted(this.#ctx.service, this.responded ? 'while its response body was read' : 'in flight', reason);
  }

  protected override timedOut(): unknown {
    const ctx = this.#ctx;
    if (!this.#perTry) return timeoutError(ctx, ctx.attempt);
    // NOTE: before the head, the retry layer judges the attempt (a timeout it may retry);
    // after it, the caller reading the body gets the error, and it gets a MeshError.
    if (this.responded) return perTryTimedOutInBody(ctx.service, ctx.attempt, this.#limit);
    return perTryTimedOut(ctx.service, ctx.attempt, this.#limit, ctx.endpoint?.address.id);
  }
}

function withMeshHeaders(request: MeshRequest, ctx: CallContext, limit: number): MeshRequest {
  let headers: Record<string, string | string[]>;
  if (limit === Number.POSITIVE_INFINITY) headers = { ...request.headers };
  // The common call: no headers of its own, first attempt, a deadline. One literal, no copy
  // (its key is TIMEOUT_HEADER spelled out: a literal key gives V8 a fixed object shape).
  else if (request.headers === NO_HEADERS) headers = { 'x-meshlet-timeout-ms': timeoutHeaderValue(limit) };
  else headers = { ...request.headers, 'x-meshlet-timeout-ms': timeoutHeaderValue(limit) };
  if (ctx.attempt > 1) headers[ATTEMPT_HEADER] = String(ctx.attempt);
  return {
    method: request.method,
    path: request.path,
    headers,
    body: request.body,
    idempotent: request.idempotent,
    replayable: request.replayable,
    hashKey: request.hashKey,
  };
}

// Most calls of a service leave with the same whole number of milliseconds left (a fresh
// call under the default deadline), so the last value's text is kept rather than rebuilt.
let lastTimeoutMs = -1;
let lastTimeoutText = '';

function timeoutHeaderValue(limit: number): string {
  const ms = Math.max(1, Math.floor(limit));
  if (ms !== lastTimeoutMs) {
    lastTimeoutMs = ms;
    lastTimeoutText = String(ms);
  }
  return lastTimeoutText;
}
