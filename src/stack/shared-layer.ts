/**
 * One layer instance, with its state, shared by several stacks: a service's rate limit,
 * concurrency limit and breaker judge all of its calls, whichever route target they take
 * (DESIGN §2). A Layer keeps its state per `wrap`, so the layer is wrapped once, around a
 * dispatcher, and each target's stack enters that one wrapped service carrying its own inner
 * stack with the request; the dispatcher hands the caller's request to that inner stack.
 *
 * Cost: a layer that is off wraps nothing (its `wrap` returns the dispatcher), and then the
 * shared layer returns each inner stack itself: nothing per call. A configured one costs one
 * small object per call (the request with its inner stack), only on routed services.
 */
import type { Attempt } from '../core/attempt.ts';
import type { Layer, MeshRequest, MeshResponse, RequestBody, Service } from '../core/service.ts';

export function shareAcrossTargets(layer: Layer): Layer {
  const shared = layer.wrap(DISPATCH);
  return {
    name: layer.name,
    wrap: (inner) => (shared === DISPATCH ? inner : new SharedEntry(shared, inner)),
    ...(layer.state === undefined ? {} : { state: () => layer.state!() }),
    ...(layer.stopAdmitting === undefined ? {} : { stopAdmitting: (reason: Error) => layer.stopAdmitting!(reason) }),
    ...(layer.close === undefined ? {} : { close: () => layer.close!() }),
  };
}

/** The caller's request, with the stack it continues on below the shared layer. */
class Dispatched implements MeshRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: RequestBody;
  readonly idempotent: boolean;
  readonly replayable: boolean;
  readonly hashKey: string | undefined;
  readonly original: MeshRequest;
  readonly below: Service;

  constructor(request: MeshRequest, below: Service) {
    this.method = request.method;
    this.path = request.path;
    this.headers = request.headers;
    this.body = request.body;
    this.idempotent = request.idempotent;
    this.replayable = request.replayable;
    this.hashKey = request.hashKey;
    this.original = request;
    this.below = below;
  }
}

/** Where the shared layer's calls go on: to the stack the request came with. */
const DISPATCH: Service = {
  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const dispatched = request as Dispatched;
    return dispatched.below.call(dispatched.original, attempt);
  },
};

/** A target stack's way into the shared layer. */
class SharedEntry implements Service {
  readonly #shared: Service;
  readonly #below: Service;

  constructor(shared: Service, below: Service) {
    this.#shared = shared;
    this.#below = below;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    return this.#shared.call(new Dispatched(request, this.#below), attempt);
  }
}
