/**
 * Per-service circuit breaker (Hystrix via opossum): when a dependency keeps failing, stop
 * sending it calls for a while so it can recover and callers fail fast instead of queueing
 * behind a sick server. It judges logical calls (it sits above retries), using the shared
 * classifier: a 5xx counts as a failure, yet the caller still gets that response.
 *
 * Semantics (opossum's): over a rolling `window`, once at least `minRequests` calls were
 * made and more than `errorRate` of them failed, the breaker opens for `openFor`; then one
 * probe call at a time is let through (half-open); its success closes the breaker, its
 * failure re-opens it. A caller's abort and a shed call are not the dependency's failure:
 * opossum's `errorFilter` records them as non-failures (opossum counts filtered errors as
 * successes; it has no "ignore"). NOTE: an aborted half-open probe proves nothing, so the
 * breaker goes back to open and probes again after `openFor` rather than closing on it.
 */
import CircuitBreaker from 'opossum';
import type { Attempt } from '../core/attempt.ts';
import type { MeshError } from '../core/errors.ts';
import { circuitHalfOpen, circuitOpen, clientClosed } from '../core/mesh-errors.ts';
import { outcomeOfError } from '../core/outcome.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { BreakerPolicy } from '../config/policy.ts';
import type { LayerEnv } from '../core/layer-env.ts';

type BreakerStateName = 'closed' | 'open' | 'half-open';

/** Carries a failed response through opossum so it is counted, then handed to the caller. */
class FailedResponse extends Error {
  readonly response: MeshResponse;
  constructor(response: MeshResponse) {
    super('failed response');
    this.response = response;
  }
}

/** A caller's abort, a lost hedge, a refusal, a closed mesh: the caller's or our own doing. */
function isNotTheDependencysFault(error: unknown): boolean {
  return outcomeOfError(error).kind === 'not-the-dependency';
}

function breakerOptions(policy: BreakerPolicy, name: string): CircuitBreaker.Options<[MeshRequest, Attempt]> {
  return {
    name,
    timeout: false, // deadlines and per-try timeouts are their own layers
    errorThresholdPercentage: policy.errorRate * 100,
    volumeThreshold: policy.minRequests,
    rollingCountTimeout: policy.window,
    rollingCountBuckets: 10,
    resetTimeout: policy.openFor,
    rollingPercentilesEnabled: false, // latency percentiles are telemetry's job; they cost per call
    enableSnapshots: false, // no snapshot interval timer
    errorFilter: (error: unknown) => !(error instanceof FailedResponse) && isNotTheDependencysFault(error),
  };
}

export function breakerLayer(policy: BreakerPolicy | false, env: LayerEnv): Layer {
  const { service } = env;
  let breaker: CircuitBreaker<[MeshRequest, Attempt], MeshResponse> | undefined;
  let state: BreakerStateName = 'closed';
  let openedAt = 0;

  const changeState = (next: BreakerStateName): void => {
    state = next;
    if (next === 'open') openedAt = env.clock.now();
    env.events.emitLazy('breaker', () => ({ service, state: next }));
  };

  const openError = (): MeshError => {
    if (state === 'half-open') {
      return circuitHalfOpen(service);
    }
    const probeIn = Math.max(0, Math.ceil(openedAt + (policy === false ? 0 : policy.openFor) - env.clock.now()));
    return circuitOpen(service, probeIn);
  };

  return {
    name: 'breaker',
    wrap(inner: Service): Service {
      if (policy === false) return inner;
      const action = async (request: MeshRequest, attempt: Attempt): Promise<MeshResponse> => {
        const response = await inner.call(request, attempt);
        // NOTE: the logical call's verdict is its response's (retries below may have made
        // several attempts; the one that produced this response decides): a response's
        // outcome is the classifier's for it, so it is read from the classifier, not from an
        // attempt.
        if (env.classifier.classify(response, undefined).kind === 'failure') throw new FailedResponse(response);
        return response;
      };
      const circuit = new CircuitBreaker(action, breakerOptions(policy, service));
      breaker = circuit;
      circuit.on('open', () => changeState('open'));
      circuit.on('halfOpen', () => changeState('half-open'));
      circuit.on('close', () => changeState('closed'));
      const refused = (error: unknown): MeshError => {
        if ((error as { code?: string }).code === 'ESHUTDOWN') {
          return clientClosed(service);
        }
        return openError();
      };
      return new BreakerService(circuit, () => state, refused);
    },
    state() {
      if (breaker === undefined) return undefined;
      const stats = breaker.stats;
      return {
        state,
        fires: stats.fires,
        failures: stats.failures,
        successes: stats.successes,
        rejects: stats.rejects,
        ...(state === 'open' && policy !== false ? { probeAt: openedAt + policy.openFor } : {}),
      };
    },
    async close() {
      breaker?.shutdown();
      breaker = undefined;
    },
  };
}

/** Fires each logical call through the circuit (named, so the breaker shows in traces and profiles). */
class BreakerService implements Service {
  readonly #circuit: CircuitBreaker<[MeshRequest, Attempt], MeshResponse>;
  readonly #state: () => BreakerStateName;
  /** The error for a call the circuit refused (open, half-open with a probe in flight, shut down). */
  readonly #refused: (error: unknown) => MeshError;

  constructor(circuit: CircuitBreaker<[MeshRequest, Attempt], MeshResponse>, state: () => BreakerStateName, refused: (error: unknown) => MeshError) {
    this.#circuit = circuit;
    this.#state = state;
    this.#refused = refused;
  }

  async call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const probing = this.#state() === 'half-open';
    try {
      return await this.#circuit.fire(request, attempt);
    } catch (error) {
      if (error instanceof FailedResponse) return error.response;
      if (CircuitBreaker.isOurError(error as Error)) throw this.#refused(error);
      // An aborted probe must not close the breaker (opossum saw a "success").
      if (probing && isNotTheDependencysFault(error) && this.#state() === 'closed') this.#circuit.open();
      throw error;
    }
  }
}
