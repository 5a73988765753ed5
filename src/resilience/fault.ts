/**
 * Fault injection (Envoy's fault filter, Linkerd's fault injector): prove that callers cope
 * with a slow or failing dependency before production proves it for them. Per attempt, a
 * `delay.percent` share of calls waits `delay.duration` first (bounded by the deadline and
 * the caller's abort), and an `abort.percent` share gets a synthetic `abort.status`
 * response without reaching the server. It sits above the balancer so injected aborts are
 * retried like real ones but never held against a healthy endpoint.
 */
import type { Attempt } from '../core/attempt.ts';
import { callerAborted } from '../core/errors.ts';
import { deadlineDuringInjectedDelay } from '../core/mesh-errors.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { FaultPolicy } from '../config/policy.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import { syntheticResponse } from './synthetic-response.ts';

/** Returns a number in [0, 1); Math.random by default, injectable for tests. */
export type RandomSource = () => number;

export function faultLayer(policy: FaultPolicy | false, env: LayerEnv, random: RandomSource = Math.random): Layer {
  const { service, clock } = env;
  let calls = 0;
  let aborts = 0;
  let delays = 0;

  const delay = async (duration: number, attempt: Attempt): Promise<void> => {
    delays++;
    env.events.emitLazy('fault', () => ({ service, kind: 'delay' }));
    const untilDeadline = attempt.call.deadline - clock.now();
    try {
      await clock.sleep(Math.min(duration, Math.max(0, untilDeadline)), attempt.signal);
    } catch (reason) {
      throw callerAborted(service, 'during an injected delay', reason);
    }
    if (untilDeadline <= duration) {
      throw deadlineDuringInjectedDelay(service);
    }
    // A hedge race aborts its loser through the attempt itself, which the sleep does not
    // follow: the loser ends here, before an injected abort or the layers below see it.
    if (attempt.aborted) throw attempt.reason;
  };

  const abort = (status: number): MeshResponse => {
    aborts++;
    env.events.emitLazy('fault', () => ({ service, kind: 'abort' }));
    return syntheticResponse(status, `meshlet fault injection: abort with ${status} for "${service}"`);
  };

  return {
    name: 'fault',
    wrap(inner: Service): Service {
      if (policy === false || (policy.abort === false && policy.delay === false)) return inner;
      const { abort: abortPolicy, delay: delayPolicy } = policy;
      const count = (): void => {
        calls++;
      };
      return new FaultInjectingService(inner, { abortPolicy, delayPolicy, random, count, delay, abort });
    },
    state() {
      if (policy === false) return undefined;
      return { abort: policy.abort, delay: policy.delay, calls, aborts, delays };
    },
  };
}

interface FaultPlan {
  readonly abortPolicy: FaultPolicy['abort'];
  readonly delayPolicy: FaultPolicy['delay'];
  readonly random: RandomSource;
  count(): void;
  delay(duration: number, attempt: Attempt): Promise<void>;
  abort(status: number): MeshResponse;
}

/** Injects the configured delay and abort before an attempt goes on (named, so it shows in traces and profiles). */
class FaultInjectingService implements Service {
  readonly #inner: Service;
  readonly #plan: FaultPlan;

  constructor(inner: Service, plan: FaultPlan) {
    this.#inner = inner;
    this.#plan = plan;
  }

  async call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const plan = this.#plan;
    plan.count();
    if (plan.delayPolicy !== false && plan.random() * 100 < plan.delayPolicy.percent) await plan.delay(plan.delayPolicy.duration, attempt);
    if (plan.abortPolicy !== false && plan.random() * 100 < plan.abortPolicy.percent) return plan.abort(plan.abortPolicy.status);
    return this.#inner.call(request, attempt);
  }
}
