/**
 * The bottom of the stack: one attempt, sent on the pool of the endpoint the balancer chose.
 * The response comes back as undici gives it: a non-2xx is a response (the classifier judges
 * it); only failures below HTTP become TransportErrors (`errors.ts`).
 *
 * This is the hot path of every call. It uses undici's callback form and offers one itself
 * (`send`, see core/service.ts): a default stack's call then has one promise, the client's,
 * where the promise form would wrap the same callback in a promise of undici's and each layer
 * would chain on it. Measured on loopback, each async frame between the caller and undici
 * costs several hundred nanoseconds of CPU per call.
 */
import type { Dispatcher } from 'undici';
import { noEndpointChosen } from '../../core/mesh-errors.ts';
import type { Attempt } from '../../core/attempt.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../../core/service.ts';
import { classifyHttp } from './classifier.ts';
import { bodyFailure, closedBeforeDispatch, toTransportFailure } from './errors.ts';

/** undici's pools expose `destroyed`; the Dispatcher type does not declare it. */
type PoolLike = Dispatcher & { readonly destroyed?: boolean };

export const httpTransport: Service = {
  call(request, attempt): Promise<MeshResponse> {
    return new Promise((resolve, reject) => dispatch(request, attempt, { resolve, reject }));
  },
  send: dispatch,
};

function dispatch(request: MeshRequest, attempt: Attempt, reply: Reply): void {
  const endpoint = attempt.endpoint;
  if (endpoint === undefined) {
    reply.reject(failed(attempt, noEndpointChosen(attempt.call.service)));
    return;
  }
  // NOTE: a cast, not a check, on the hot path: every endpoint of a service on this
  // transport got its connection from `httpConnector` (service-runtime.ts hands the
  // endpoint set that Connector), so it is an undici Pool, made here on first use.
  const dispatcher = endpoint.connection as PoolLike;
  // A destroyed pool fails queued and in-flight requests alike with UND_ERR_DESTROYED;
  // checking first is what lets that code mean "may have been sent" below.
  if (dispatcher.destroyed === true) {
    reply.reject(failed(attempt, closedBeforeDispatch(endpoint.address.id)));
    return;
  }
  // The attempt layer arms the attempt (time limit + cancellation, through the body: undici
  // unregisters from it when the body closes) and it is then the signal; a stack without
  // that layer still honours the attempt's own signal.
  const signal = attempt.armed ? attempt : attempt.signal;
  const options: Dispatcher.RequestOptions<Attempt> = {
    path: request.path,
    method: request.method as Dispatcher.HttpMethod,
    headers: request.headers,
    body: request.body,
    signal,
    // NOTE: the attempt rides with the request as undici's `opaque`, which every callback is
    // handed back, and its reply in the attempt's transport slot: one shared callback, no
    // closure per attempt.
    opaque: attempt,
  };
  attempt.transportState = reply;
  dispatcher.request(options, answered);
}

/** undici's callback for every attempt: its head arrived, or it failed before that. */
function answered(error: Error | null, data: Dispatcher.ResponseData<Attempt>): void {
  const attempt = data.opaque;
  const reply = attempt.transportState as Reply;
  attempt.transportState = undefined;
  if (error === null) {
    // The caller's response shows `opaque` as undici's callers see it when they set none.
    (data as { opaque: unknown }).opaque = null;
    attempt.responded = true;
    guardBody(data.body as unknown as GuardedBody, attempt);
    tell(attempt, data, undefined);
    reply.resolve(data);
    return;
  }
  const signal = attempt.armed ? attempt : attempt.signal;
  reply.reject(failed(attempt, toTransportFailure(error, signal, attempt.endpoint!.address.id, attempt.call.service)));
}

/**
 * Ends a failed attempt: releases its signal's timer and link and tells its observer. NOTE:
 * undici unregisters from the signal on the failures it saw through, not on arguments it
 * refused before dispatch; either way the attempt is over. Returns the error, to reject with.
 */
function failed(attempt: Attempt, error: unknown): unknown {
  attempt.dispose();
  tell(attempt, undefined, error);
  return error;
}

/** Records how the attempt ended and tells its observer. Whatever the observer does, the call settles. */
function tell(attempt: Attempt, response: MeshResponse | undefined, error: unknown): void {
  attempt.outcome = classifyHttp(response?.statusCode, error);
  try {
    attempt.observer?.attemptEnded(attempt, error);
  } catch (bug) {
    queueMicrotask(() => {
      throw bug;
    });
  }
}

type DestroyCallback = (error?: Error | null) => void;

/** undici's BodyReadable, as far as the body guard touches it. */
interface GuardedBody {
  _destroy(error: Error | null, callback: DestroyCallback): void;
  readonly _readableState: { readonly endEmitted: boolean };
  [CALL]?: Attempt;
}

const CALL = Symbol('meshlet.attempt');
let bodyDestroy: GuardedBody['_destroy'] | undefined;

/**
 * Makes every error a caller sees while reading the body a MeshError (`bodyFailure`), the
 * undici error kept as its cause. Stream errors pass through `_destroy`, so the body's own
 * `_destroy` is wrapped, on this body only; a body that ends normally takes the unwrapped
 * path and allocates nothing.
 */
function guardBody(body: GuardedBody, attempt: Attempt): void {
  bodyDestroy ??= Object.getPrototypeOf(body)._destroy as GuardedBody['_destroy'];
  body[CALL] = attempt;
  body._destroy = destroyAsMeshError;
}

function destroyAsMeshError(this: GuardedBody, error: Error | null, callback: DestroyCallback): void {
  const attempt = this[CALL]!;
  if (error === null && this._readableState.endEmitted) {
    bodyDestroy!.call(this, error, callback);
    return;
  }
  bodyDestroy!.call(this, error, (failure) => callback(bodyFailure(failure, attempt.call.service, attempt.endpoint?.address.id) as Error | null | undefined));
}
