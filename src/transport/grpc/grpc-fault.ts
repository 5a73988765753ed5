/**
 * The service's fault injection (resilience/fault.ts, Envoy's fault filter) on gRPC calls,
 * where the HTTP stack has it: above the balancer, below retries and hedging, so an injected
 * abort is retried like a real failure but never held against a healthy endpoint.
 *
 * Unary calls get delays and aborts. An abort answers the gRPC status that gRPC's own
 * HTTP-to-gRPC mapping gives the configured `abort.status` (the config names HTTP statuses,
 * one vocabulary for both protocols; github.com/grpc/grpc/blob/master/doc/http-grpc-status-mapping.md):
 * 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504
 * UNAVAILABLE, anything else UNKNOWN. The abort is an attempt that never reached the server, so
 * it is classified as an UNAVAILABLE before response headers is (status.ts): any method may be
 * retried after an injected UNAVAILABLE.
 *
 * Streams get the delay only (before their one attempt starts): an abort is a status a stream
 * could answer too, but a stream is never retried, so the abort would only restate the failure
 * the caller already tests with a unary call; a delay tests what streams are sensitive to, a
 * slow start against their deadline.
 *
 * Unary calls go through the service's own fault layer, the one its HTTP stack has (the runtime's,
 * passed in as `shared`), so `mesh.state()`'s fault counts (calls, aborts, delays) are the
 * service's whole: HTTP and gRPC calls alike. A stream's delay-only layer keeps counts of its own,
 * not shown (a layer with the abort left out is another layer).
 * A service without faults gets no layer at all here (nothing on the call path).
 */
import grpc from '@grpc/grpc-js';
import type { Attempt } from '../../core/attempt.ts';
import type { LayerEnv } from '../../core/layer-env.ts';
import type { Layer, MeshRequest, MeshResponse, Service } from '../../core/service.ts';
import type { FaultPolicy } from '../../config/policy.ts';
import { faultLayer } from '../../resilience/fault.ts';
import { GrpcResponse } from './grpc-request.ts';
import { GrpcStatusError } from './status.ts';

const { status: Status, Metadata } = grpc;

const BY_HTTP_STATUS: ReadonlyMap<number, grpc.status> = new Map([
  [400, Status.INTERNAL],
  [401, Status.UNAUTHENTICATED],
  [403, Status.PERMISSION_DENIED],
  [404, Status.UNIMPLEMENTED],
  [429, Status.UNAVAILABLE],
  [502, Status.UNAVAILABLE],
  [503, Status.UNAVAILABLE],
  [504, Status.UNAVAILABLE],
]);

/** gRPC's HTTP-to-gRPC status mapping. */
export function grpcStatusOfHttp(status: number): grpc.status {
  return BY_HTTP_STATUS.get(status) ?? Status.UNKNOWN;
}

/** The fault layers of a gRPC stack, or undefined when the service injects none; `shared`: the service's fault layer (its HTTP stack's), made from the same policy. */
export function grpcFaultLayers(policy: FaultPolicy | false, env: LayerEnv, shared: Layer | undefined = undefined): { unary: Layer; stream: Layer | undefined } | undefined {
  if (policy === false || (policy.abort === false && policy.delay === false)) return undefined;
  const unary = shared ?? faultLayer(policy, env);
  const stream = policy.delay === false ? undefined : faultLayer({ abort: false, delay: policy.delay }, env);
  return {
    unary: { name: 'grpc-fault', wrap: (inner) => new AbortAsStatus(unary.wrap(inner)) },
    stream,
  };
}

/** Turns the fault layer's synthetic HTTP answer (an injected abort) into the attempt's gRPC status. */
class AbortAsStatus implements Service {
  readonly #inner: Service;

  constructor(inner: Service) {
    this.#inner = inner;
  }

  async call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const response = await this.#inner.call(request, attempt);
    if (response instanceof GrpcResponse) return response;
    const code = grpcStatusOfHttp(response.statusCode);
    throw new GrpcStatusError({ code, details: `meshlet fault injection: abort with ${Status[code]} (configured status ${response.statusCode}) for "${attempt.call.service}"`, metadata: new Metadata() });
  }
}
