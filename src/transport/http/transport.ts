/**
 * The bottom of the stack: one attempt, sent on the pool of the endpoint the balancer chose.
 * This is the hot path of every call, so it builds the options object and nothing else, and
 * awaits only undici. The response comes back as undici gives it: a non-2xx is a response
 * (the classifier judges it); only failures below HTTP become TransportErrors (`errors.ts`).
 */
import type { Dispatcher } from 'undici';
import { MeshError } from '../../core/errors.ts';
import type { MeshResponse, Service } from '../../core/service.ts';
import { closedBeforeDispatch, toTransportFailure } from './errors.ts';

/** undici's pools expose `destroyed`; the Dispatcher type does not declare it. */
type PoolLike = Dispatcher & { readonly destroyed?: boolean };

export const httpTransport: Service = {
  async call(request, ctx): Promise<MeshResponse> {
    // The attempt layer sets `wire` (time limit + cancellation); a stack without it still
    // honours the attempt's own signal.
    const wire = ctx.wire;
    try {
      const endpoint = ctx.endpoint;
      if (endpoint === undefined) {
        throw new MeshError('MESH_NO_ENDPOINTS', `No endpoint was chosen for ${ctx.service}: the balancer layer must sit above the transport`);
      }
      const dispatcher = endpoint.dispatcher as PoolLike;
      // A destroyed pool fails queued and in-flight requests alike with UND_ERR_DESTROYED;
      // checking first is what lets that code mean "may have been sent" below.
      if (dispatcher.destroyed === true) throw closedBeforeDispatch(endpoint.address.id);
      const signal = wire ?? ctx.signal;
      try {
        return await dispatcher.request({
          path: request.path,
          method: request.method as Dispatcher.HttpMethod,
          headers: request.headers,
          body: request.body,
          signal,
        });
      } catch (error) {
        throw toTransportFailure(error, signal, endpoint.address.id);
      }
    } finally {
      // NOTE: the time limit covers the wait for the response head. Once the caller holds
      // the response, reading its body is the caller's business.
      wire?.dispose();
    }
  },
};
