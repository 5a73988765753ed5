/**
 * The bottom of the stack: one attempt, sent on the pool of the endpoint the balancer chose.
 * The response comes back as undici gives it: a non-2xx is a response (the classifier judges
 * it); only failures below HTTP become TransportErrors (`errors.ts`).
 *
 * This is the hot path of every call. It uses undici's callback form, so the one promise it
 * returns is the only promise of the send (the promise form would wrap the same callback in a
 * promise of undici's and await it here). Measured on loopback, each async frame between the
 * caller and undici costs several hundred nanoseconds of CPU per call.
 */
import type { Dispatcher } from 'undici';
import { noEndpointChosen } from '../../core/mesh-errors.ts';
import type { CallContext } from '../../core/call-context.ts';
import type { MeshResponse, Service } from '../../core/service.ts';
import { classifyHttp } from './classifier.ts';
import { bodyFailure, closedBeforeDispatch, toTransportFailure } from './errors.ts';

/** undici's pools expose `destroyed`; the Dispatcher type does not declare it. */
type PoolLike = Dispatcher & { readonly destroyed?: boolean };

export const httpTransport: Service = {
  call(request, ctx): Promise<MeshResponse> {
    const endpoint = ctx.endpoint;
    if (endpoint === undefined) {
      const error = noEndpointChosen(ctx.service);
      return Promise.reject(failed(ctx, error));
    }
    // NOTE: a cast, not a check, on the hot path: every endpoint of a service on this
    // transport got its connection from `httpConnector` (service-runtime.ts hands the
    // endpoint set that Connector), so it is an undici Pool, made here on first use.
    const dispatcher = endpoint.connection as PoolLike;
    // A destroyed pool fails queued and in-flight requests alike with UND_ERR_DESTROYED;
    // checking first is what lets that code mean "may have been sent" below.
    if (dispatcher.destroyed === true) return Promise.reject(failed(ctx, closedBeforeDispatch(endpoint.address.id)));
    // The attempt layer sets `wire` (time limit + cancellation, through the body: undici
    // unregisters from it when the body closes); a stack without it still honours the
    // attempt's own signal.
    const signal = ctx.wire ?? ctx.signal;
    const options: Dispatcher.RequestOptions = {
      path: request.path,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: request.body,
      signal,
    };
    return new Promise((resolve, reject) => {
      dispatcher.request(options, (error, data) => {
        if (error === null) {
          if (ctx.wire !== undefined) ctx.wire.responded = true;
          guardBody(data.body as unknown as GuardedBody, ctx);
          tell(ctx, data, undefined);
          resolve(data);
          return;
        }
        reject(failed(ctx, toTransportFailure(error, signal, endpoint.address.id, ctx.service)));
      });
    });
  },
};

/**
 * Ends a failed attempt: releases its wire and tells its observer. NOTE: undici unregisters
 * from the wire on the failures it saw through, not on arguments it refused before dispatch;
 * either way the attempt is over. Returns the error, to reject with.
 */
function failed(ctx: CallContext, error: unknown): unknown {
  ctx.wire?.dispose();
  tell(ctx, undefined, error);
  return error;
}

/** Tells the attempt's observer how it ended. Whatever the observer does, the call settles. */
function tell(ctx: CallContext, response: MeshResponse | undefined, error: unknown): void {
  ctx.outcome = classifyHttp(response?.statusCode, error);
  try {
    ctx.observer?.attemptEnded(ctx, response, error);
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
  [CALL]?: CallContext;
}

const CALL = Symbol('meshlet.call');
let bodyDestroy: GuardedBody['_destroy'] | undefined;

/**
 * Makes every error a caller sees while reading the body a MeshError (`bodyFailure`), the
 * undici error kept as its cause. Stream errors pass through `_destroy`, so the body's own
 * `_destroy` is wrapped, on this body only; a body that ends normally takes the unwrapped
 * path and allocates nothing.
 */
function guardBody(body: GuardedBody, ctx: CallContext): void {
  bodyDestroy ??= Object.getPrototypeOf(body)._destroy as GuardedBody['_destroy'];
  body[CALL] = ctx;
  body._destroy = destroyAsMeshError;
}

function destroyAsMeshError(this: GuardedBody, error: Error | null, callback: DestroyCallback): void {
  const ctx = this[CALL]!;
  if (error === null && this._readableState.endEmitted) {
    bodyDestroy!.call(this, error, callback);
    return;
  }
  bodyDestroy!.call(this, error, (failure) => callback(bodyFailure(failure, ctx.service, ctx.endpoint?.address.id) as Error | null | undefined));
}
