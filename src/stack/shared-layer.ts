/**
 * One layer instance, with its state, shared by several stacks: a service's rate limit,
 * concurrency limit and breaker judge all of its calls, whichever route target they take and
 * whichever protocol (HTTP, gRPC: DESIGN §2). A Layer keeps its state per `wrap`, so the layer
 * is wrapped once, around a dispatcher, on the first stack's wrap; that first stack's calls
 * enter the wrapped layer as they are and the dispatcher hands them to that stack's inner
 * service. Every later stack (another route target, a gRPC client's stack) enters that one
 * wrapped service carrying its own inner stack with the request, and the dispatcher hands the
 * caller's request to that inner stack.
 *
 * Cost: a layer that is off wraps nothing (its `wrap` returns the dispatcher), and then the
 * shared layer returns each inner stack itself: nothing per call. A configured one costs
 * nothing on the first stack either (an unrouted service's HTTP stack), and one small object
 * per call (the request with its inner stack) on the others.
 */
import type { Attempt } from '../core/attempt.ts';
import type { Layer, MeshRequest, MeshResponse, RequestBody, Service } from '../core/service.ts';
import type { ServiceWideLayers } from './stack-deps.ts';

export function shareAcrossTargets(layer: Layer): Layer {
  let shared: Service | undefined;
  let off = false;
  return {
    name: layer.name,
    wrap: (inner) => {
      if (off) return inner;
      if (shared === undefined) {
        const dispatcher = new Dispatcher(inner);
        shared = layer.wrap(dispatcher);
        off = shared === dispatcher;
        return off ? inner : shared;
      }
      return new SharedEntry(shared, inner);
    },
    ...(layer.state === undefined ? {} : { state: () => layer.state!() }),
    ...(layer.stopAdmitting === undefined ? {} : { stopAdmitting: (reason: Error) => layer.stopAdmitting!(reason) }),
    ...(layer.close === undefined ? {} : { close: () => layer.close!() }),
  };
}

/** A service's rate limit, concurrency limit and breaker, each shared (every stack of the service enters the same one). */
export function shareServiceWide(made: ServiceWideLayers): ServiceWideLayers {
  return { rateLimit: shareAcrossTargets(made.rateLimit), concurrency: shareAcrossTargets(made.concurrency), breaker: shareAcrossTargets(made.breaker) };
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

/** Where the shared layer's calls go on: the first stack's as they are, any other's to the stack the request came with. */
class Dispatcher implements Service {
  readonly #first: Service;

  constructor(first: Service) {
    this.#first = first;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    if (request instanceof Dispatched) return request.below.call(request.original, attempt);
    return this.#first.call(request, attempt);
  }
}

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
