/**
 * Deadlines: a call has one total budget of time, all attempts and backoff included. The
 * client computes the call's own deadline (per-call `timeout`, else the service's); this
 * layer clips it to the inbound request's deadline (so a request that must answer in 300 ms
 * never waits 2 s on a dependency), refuses to start work that is already late, and stops work when
 * time runs out (each layer that waits checks the deadline; the attempt layer aborts the
 * attempt in flight when it passes). The remaining time then travels to the next hop in
 * `x-meshlet-timeout-ms` (the attempt layer adds it).
 */
import { Attempt } from '../core/attempt.ts';
import { type Call, currentInbound, newCall } from '../core/call-context.ts';
import { callerAborted, type MeshError } from '../core/errors.ts';
import { deadlineExceeded, inboundDeadlinePassed } from '../core/mesh-errors.ts';
import type { Layer, MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';
import type { Clock } from '../core/clock.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import { eitherSignal } from '../core/signals.ts';

export function deadlineLayer(env: LayerEnv): Layer {
  return {
    name: 'deadline',
    wrap: (inner) => new DeadlineService(inner, env.clock),
  };
}

export class DeadlineService implements Service {
  readonly #inner: Service;
  readonly #clock: Clock;
  readonly send: Service['send'];

  constructor(inner: Service, clock: Clock) {
    this.#inner = inner;
    this.#clock = clock;
    if (inner.send !== undefined) this.send = this.#send;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const within = this.#within(attempt);
    return within instanceof Attempt ? this.#inner.call(request, within) : Promise.reject(within);
  }

  #send(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    const within = this.#within(attempt);
    if (within instanceof Attempt) this.#inner.send!(request, within, reply);
    else reply.reject(within);
  }

  /** The attempt to go on with (the call's own, or one of the call clipped to the inbound request), or why the call must not start. */
  #within(attempt: Attempt): Attempt | MeshError {
    const call = attempt.call;
    const inbound = currentInbound();
    if (inbound === undefined) {
      // NOTE: the outermost layer runs as the call starts, so `startedAt` is the time
      // now (a zero `timeout` fails here); reading the clock again would only cost.
      return call.deadline <= call.startedAt ? timeoutError(call, 0) : attempt;
    }
    const deadline = Math.min(call.deadline, inbound.deadline);
    // NOTE: a passed inbound deadline may lie before the call began: its time from the call's
    // start would be negative ("exceeded its -40 ms deadline"), so that case has its own words.
    if (deadline <= this.#clock.now()) return deadline <= call.startedAt && inbound.deadline <= call.deadline ? inboundDeadlinePassed(call.service) : deadlineExceeded(call.service, deadline - call.startedAt, 0);
    // NOTE: the inbound request's cancellation is linked too: when the client that
    // called us goes away, the work done on its behalf stops.
    const inboundSignal = inbound.signal;
    if (inboundSignal?.aborted) return abortedError(call, inboundSignal.reason);
    // NOTE: the signal is linked for the whole call, its response body included: each
    // attempt follows it until undici lets go of the body. AbortSignal.any holds its sources
    // weakly, so nothing is left registered on a long-lived inbound signal.
    const signal = eitherSignal(call.signal, inboundSignal);
    // The call below is the one it is now: clipped, linked and knowing what it serves. Made
    // here, once, so no layer ever changes a call in place.
    // Its attributes too (telemetry's record of the call: telemetry/call-record.ts).
    return Attempt.first(newCall(call.service, call.startedAt, deadline, signal, inbound, call.attributes));
  }
}

export function timeoutError(call: Call, attempts: number): MeshError {
  return deadlineExceeded(call.service, call.deadline - call.startedAt, attempts);
}

export function abortedError(call: Call, reason: unknown): MeshError {
  return callerAborted(call.service, 'before it was sent', reason);
}
