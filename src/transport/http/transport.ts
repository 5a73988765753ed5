/**
 * The bottom of the stack: one attempt, sent on the pool of the endpoint the balancer chose.
 * The response comes back as undici gives it: a non-2xx is a response (the classifier judges
 * it); only failures below HTTP become TransportErrors (`errors.ts`).
 *
 * This is the hot path of every call. It uses undici's callback form and offers one itself
 * (`send`, see core/service.ts): a default stack's call then has one promise, the client's,
 * where the promise form would wrap the same callback in a promise of undici's and each layer
 * would chain on it. Measured on loopback, each async frame between the caller and undici
 * costs several hundred nanoseconds of CPU per call. It dispatches with a handler of its own
 * (attempt-handler.ts), not `Dispatcher.request`, so undici registers nothing on the
 * attempt's signal.
 */
import type { Dispatcher } from 'undici';
import { noEndpointChosen } from '../../core/mesh-errors.ts';
import type { Attempt } from '../../core/attempt.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../../core/service.ts';
import { failed } from './attempt-end.ts';
import { AttemptHandler } from './attempt-handler.ts';
import { closedBeforeDispatch } from './errors.ts';
import { registerMeshHeaderNames } from './known-headers.ts';

// Every attempt carries x-meshlet-timeout-ms: undici checks it as a name it knows (known-headers.ts).
registerMeshHeaderNames();

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
  // The handler follows the attempt once the attempt layer armed it (time limit and
  // cancellation, until the body is destroyed); a stack without that layer still honours the
  // attempt's own signal. A request undici refuses comes back through its onError. The
  // handler is also the dispatch options (attempt-handler.ts).
  // The attempt's headers when a layer gave it its own (the attempt layer's time left), else the request's.
  const handler = new AttemptHandler(attempt, request, headerList(attempt.headers ?? request.headers), reply);
  dispatcher.dispatch(handler as unknown as Dispatcher.DispatchOptions, handler as unknown as Dispatcher.DispatchHandler);
}

type RequestHeaders = MeshRequest['headers'];
let sharedHeaders: RequestHeaders | undefined;
let sharedList: string[] = [];

/**
 * The headers as undici reads them cheapest: a flat [name, value, …] list skips the
 * `Object.keys` and prototype checks an object costs it on every request. Only the shared,
 * frozen headers objects (a call with no headers of its own, or the time left alone: the
 * attempt layer's) are converted, once each and kept; a call's own object goes as it is.
 */
function headerList(headers: RequestHeaders): RequestHeaders | string[] {
  if (headers === sharedHeaders) return sharedList;
  if (!Object.isFrozen(headers)) return headers;
  const list: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    if (typeof value === 'string') list.push(name, value);
    else for (const one of value) list.push(name, one);
  }
  sharedHeaders = headers;
  sharedList = list;
  return list;
}
