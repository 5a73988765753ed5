/**
 * The balancer layer, once per attempt: pick an endpoint from the current snapshot, send the
 * attempt there, and account for it (in-flight while it runs; latency into the EWMA and the
 * verdict into outlier detection when it ends). It is the last layer before the transport:
 * it hears how the attempt ended as the transport's `AttemptObserver` rather than by chaining
 * on the attempt's promise, so accounting costs no promise and no closure per attempt. A
 * timed-out attempt (the attempt layer above set its limit) counts against the endpoint that
 * was too slow.
 *
 * Balancing is never "off": a service always needs an endpoint, so `wrap` always wraps.
 */
import { allEndpointsEjected, endpointsClosed, noEndpoints } from '../core/mesh-errors.ts';
import { type Outcome, outcomeOfError } from '../core/outcome.ts';
import type { Attempt, AttemptObserver } from '../core/attempt.ts';
import type { MeshError } from '../core/errors.ts';
import type { Layer, MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';
import type { EndpointSource } from './endpoint-source.ts';
import { LiveEndpoint } from './live-endpoint.ts';

export function balancerLayer(endpoints: EndpointSource): Layer {
  return {
    name: 'balancer',
    wrap(inner: Service): Service {
      return new BalancingService(inner, endpoints);
    },
    state: () => ({ panic: endpoints.current.panic, endpoints: endpoints.current.state() }),
  };
}

class BalancingService implements Service, AttemptObserver {
  readonly #inner: Service;
  readonly #endpoints: EndpointSource;
  readonly send: Service['send'];

  constructor(inner: Service, endpoints: EndpointSource) {
    this.#inner = inner;
    this.#endpoints = endpoints;
    if (inner.send !== undefined) this.send = this.#send;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const refused = this.#route(request, attempt);
    return refused === undefined ? this.#inner.call(request, attempt) : Promise.reject(refused);
  }

  #send(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    const refused = this.#route(request, attempt);
    if (refused === undefined) this.#inner.send!(request, attempt, reply);
    else reply.reject(refused);
  }

  /** Picks the attempt's endpoint and counts it in flight; the error when there is none. */
  #route(request: MeshRequest, attempt: Attempt): MeshError | undefined {
    // NOTE: the set is read per attempt, so a retry after a membership change goes to the
    // endpoints the service has now (endpoint-source.ts).
    const endpoints = this.#endpoints.current;
    const endpoint = endpoints.pick(request, attempt);
    if (endpoint === undefined) {
      // The attempt ends here: release what the attempt layer armed for it.
      attempt.dispose();
      const { service, size } = endpoints;
      return endpoints.noPickReason?.() ?? (endpoints.closed ? endpointsClosed(service) : size === 0 ? noEndpoints(service, endpoints.discoveryError) : allEndpointsEjected(service, size));
    }
    attempt.endpoint = endpoint;
    attempt.observer = this;
    endpoints.started(endpoint);
    return undefined;
  }

  attemptEnded(attempt: Attempt, error: unknown): void {
    const endpoint = attempt.endpoint;
    if (!(endpoint instanceof LiveEndpoint)) return;
    const failed = verdictOf(attempt.outcome ?? outcomeOfError(error), attempt);
    // The set that made the endpoint accounts for it, though a newer one may serve the service now.
    endpoint.owner?.finished(endpoint, attempt.attemptAt, failed);
  }
}

/**
 * What the endpoint set learns from an attempt: a failure or a success; nothing (null) when
 * the caller cancelled it, the call was refused or malformed, or the mesh closed; a lower
 * bound on latency only (undefined) when a hedge won or the attempt was cancelled from above.
 */
function verdictOf(outcome: Outcome, attempt: Attempt): boolean | null | undefined {
  if (outcome.kind === 'success') return false;
  if (outcome.kind === 'failure') return attempt.signal?.aborted === true ? undefined : true;
  return outcome.reason === 'superseded' ? undefined : null;
}


