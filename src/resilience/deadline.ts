/**
 * Deadlines: a call has one total budget of time, all attempts and backoff included. The
 * client computes the call's own deadline (per-call `timeout`, else the service's); this
 * layer clips it to the inbound request's deadline (so a request that must answer in 300 ms
 * never waits 2 s on a dependency), refuses to start work that is already late, and stops work when
 * time runs out (each layer that waits checks the deadline; the attempt layer aborts the
 * attempt in flight when it passes). The remaining time then travels to the next hop in
 * `x-meshlet-timeout-ms` (the attempt layer adds it).
 */
import { currentInbound } from '../core/call-context.ts';
import { callerAborted, type MeshError } from '../core/errors.ts';
import { deadlineExceeded } from '../core/mesh-errors.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { CallContext } from '../core/call-context.ts';
import type { Clock } from '../core/clock.ts';
import type { LayerEnv } from '../core/layer-env.ts';

export function deadlineLayer(env: LayerEnv): Layer {
  return {
    name: 'deadline',
    wrap: (inner) => new DeadlineService(inner, env.clock),
  };
}

export class DeadlineService implements Service {
  readonly #inner: Service;
  readonly #clock: Clock;

  constructor(inner: Service, clock: Clock) {
    this.#inner = inner;
    this.#clock = clock;
  }

  call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
    const inbound = currentInbound();
    if (inbound === undefined) {
      // NOTE: the outermost layer runs as the call starts, so `startedAt` is the time
      // now (a zero `timeout` fails here); reading the clock again would only cost.
      if (ctx.deadline <= ctx.startedAt) return Promise.reject(timeoutError(ctx, 0));
      return this.#inner.call(request, ctx);
    }
    if (inbound.deadline < ctx.deadline) ctx.deadline = inbound.deadline;
    if (ctx.deadline <= this.#clock.now()) return Promise.reject(timeoutError(ctx, 0));
    // NOTE: the inbound request's cancellation is linked too: when the client that
    // called us goes away, the work done on its behalf stops.
    const signal = inbound.signal;
    if (signal === undefined) return this.#inner.call(request, ctx);
    if (signal.aborted) return Promise.reject(abortedError(ctx, signal.reason));
    // NOTE: the signal is linked for the whole call, its response body included: each
    // attempt's wire follows it until undici lets go of the body. AbortSignal.any holds
    // its sources weakly, so nothing is left registered on a long-lived inbound signal.
    ctx.signal = ctx.signal === undefined ? signal : AbortSignal.any([ctx.signal, signal]);
    return this.#inner.call(request, ctx);
  }
}

export function timeoutError(ctx: CallContext, attempts: number): MeshError {
  return deadlineExceeded(ctx.service, ctx.deadline - ctx.startedAt, attempts);
}

export function abortedError(ctx: CallContext, reason: unknown): MeshError {
  return callerAborted(ctx.service, 'before it was sent', reason);
}
