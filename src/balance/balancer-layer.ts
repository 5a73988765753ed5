/**
 * The balancer layer, once per attempt: pick an endpoint from the current snapshot, send the
 * attempt there, and account for it (in-flight while it runs; latency into the EWMA and the
 * verdict into outlier detection when it ends). It sits above the per-try timeout so a
 * timed-out attempt counts against the endpoint that was too slow.
 *
 * Balancing is never "off": a service always needs an endpoint, so `wrap` always wraps.
 */
import { MeshError, isMeshError } from '../core/errors.ts';
import type { CallContext } from '../core/call-context.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../core/service.ts';
import type { LayerDeps } from '../stack/layer-deps.ts';
import { isFailure } from '../transport/http/classifier.ts';

export function balancerLayer(deps: LayerDeps): Layer {
  const { endpoints, clock } = deps;
  return {
    name: 'balancer',
    wrap(inner: Service): Service {
      return {
        async call(request: MeshRequest, ctx: CallContext): Promise<MeshResponse> {
          const endpoint = endpoints.pick(request, ctx);
          if (endpoint === undefined) throw noEndpoints(endpoints.service, endpoints.size);
          ctx.endpoint = endpoint;
          const startedAt = clock.now();
          ctx.sentAt = startedAt;
          endpoints.started(endpoint);
          let response: MeshResponse;
          try {
            response = await inner.call(request, ctx);
          } catch (error) {
            endpoints.finished(endpoint, startedAt, verdictOf(error, ctx));
            throw error;
          }
          endpoints.finished(endpoint, startedAt, isFailure(response.statusCode, undefined));
          return response;
        },
      };
    },
    state: () => ({ panic: endpoints.panic, endpoints: endpoints.state() }),
  };
}

/**
 * A thrown error is a failure of the endpoint, unless the attempt was cancelled from above
 * (the caller, the deadline, a hedge that won): then it says nothing about the endpoint.
 */
function verdictOf(error: unknown, ctx: CallContext): boolean | undefined {
  if (isMeshError(error) && error.code === 'MESH_ABORTED') return undefined;
  if (ctx.signal?.aborted === true) return undefined;
  return isFailure(undefined, error);
}

function noEndpoints(service: string, known: number): MeshError {
  const message =
    known === 0
      ? `No endpoints for service "${service}": check its discovery config (static endpoints, DNS name, or Consul service name and tags) and that instances are registered and passing health checks.`
      : `No endpoint of service "${service}" can take calls: all ${known} are ejected by outlier detection. Check the instances' health, or lower outlier.maxEjectedPercent / raise outlier.panicThreshold.`;
  return new MeshError('MESH_NO_ENDPOINTS', message, { service });
}
