/**
 * The gRPC client stack, in request order, from meshlet's own layers (the ordering rule and
 * each layer's reason are in src/stack/client-stack.ts; only the differences are said here).
 *
 * Unary calls get the whole stack: deadline (clipped to the inbound request), rate limit,
 * concurrency limit, breaker, retries under the service's retry budget — the SAME budget object
 * its HTTP calls draw on (ServiceRuntime.budget) — then meshlet's balancer over the service's one
 * endpoint set (so EWMA, in-flight counts and ejections are shared with HTTP), and the attempt
 * as a real grpc-js call. Streams (server, client, bidi) get deadline, breaker and balancer:
 * a stream is never replayed, and a concurrency slot or a rate token held for a stream's
 * whole life is not what those limits mean.
 *
 * Not here (yet): hedging, fault injection, routes and subsets (gRPC calls balance over the
 * whole service). The breaker and limits are this client's, made from the service's policy;
 * their state is not part of mesh.state() (ServiceRuntime's layers keep state per wrap).
 *
 * Built per ServiceRuntime: a config push makes a new runtime, the next call builds a new
 * stack from it, and the old stack's layers close once its calls are done.
 */
import type { LayerEnv } from '../../core/layer-env.ts';
import type { Classifier } from '../../core/outcome.ts';
import type { Layer, MeshResponse, Service } from '../../core/service.ts';
import { balancerLayer } from '../../balance/balancer-layer.ts';
import type { ServiceView } from '../../mesh/mesh.ts';
import type { ServiceRuntime } from '../../mesh/service-runtime.ts';
import { breakerLayer } from '../../resilience/breaker.ts';
import { concurrencyLayer } from '../../resilience/concurrency-limit.ts';
import { deadlineLayer } from '../../resilience/deadline.ts';
import { rateLimitLayer } from '../../resilience/rate-limit.ts';
import { retryLayer } from '../../resilience/retry.ts';
import { shareAcrossTargets } from '../../stack/shared-layer.ts';
import { readOtelRegistry } from '../../telemetry/otel-state.ts';
import { GrpcAttemptService } from './attempt-transport.ts';
import { GrpcResponse } from './grpc-request.ts';
import { classifyGrpc, outcomeOfGrpcError } from './status.ts';

export const grpcClassifier: Classifier<MeshResponse> = {
  classify: (response, error) => (response instanceof GrpcResponse ? classifyGrpc(response.status.code, true) : outcomeOfGrpcError(error)),
};

export interface GrpcStacks {
  readonly runtime: ServiceRuntime;
  readonly unary: Service;
  readonly stream: Service;
  readonly layers: readonly Layer[];
}

function wrapAll(layers: readonly Layer[], bottom: Service): Service {
  let service = bottom;
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.wrap(service);
  return service;
}

export function buildGrpcStacks(view: ServiceView): GrpcStacks {
  const { runtime, clock, events } = view;
  // As the HTTP stacks do when built: notice an OpenTelemetry SDK registered since.
  readOtelRegistry();
  const policy = runtime.policy;
  const env: LayerEnv = { service: policy.name, clock, events, classifier: grpcClassifier };
  // The one breaker judges unary calls and streams alike: a layer keeps its state per wrap.
  const breaker = shareAcrossTargets(breakerLayer(policy.breaker, env));
  const balanced = balancerLayer(view.endpoints).wrap(new GrpcAttemptService(clock, policy.perTryTimeout, policy.retry === false ? 0 : policy.retry.maxRetryAfter));
  const unaryLayers = [
    deadlineLayer(env),
    rateLimitLayer(policy.rateLimit, env),
    concurrencyLayer(policy.concurrency, env),
    breaker,
    retryLayer(policy.retry, env, runtime.budget),
  ];
  return {
    runtime,
    unary: wrapAll(unaryLayers, balanced),
    stream: wrapAll([deadlineLayer(env), breaker], balanced),
    layers: unaryLayers,
  };
}

/** Closes a replaced stack's layers once the runtime it was built from has no call in flight. */
export function retireGrpcStacks(stacks: GrpcStacks): void {
  void stacks.runtime.drained().then(() => Promise.all(stacks.layers.map((layer) => layer.close?.())));
}
