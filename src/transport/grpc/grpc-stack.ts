/**
 * The gRPC client stack, in request order, from meshlet's own layers (the ordering rule and
 * each layer's reason are in src/stack/client-stack.ts; only the differences are said here).
 *
 * Unary calls get the whole stack: deadline (clipped to the inbound request), rate limit,
 * concurrency limit, breaker, retries under the service's retry budget — the SAME budget object
 * its HTTP calls draw on (ServiceRuntime.budget) — hedging (the service's `hedge` policy, same
 * budget; only methods marked idempotent race, and a loser is cancelled on the wire), then
 * meshlet's balancer over the service's one
 * endpoint set (so EWMA, in-flight counts and ejections are shared with HTTP), and the attempt
 * as a real grpc-js call. Streams (server, client, bidi) get deadline, breaker and balancer:
 * a stream is never replayed, and a concurrency slot or a rate token held for a stream's
 * whole life is not what those limits mean.
 *
 * The rate limit, concurrency limit and breaker are the service's own (ServiceRuntime's
 * serviceWide, stack/shared-layer.ts): one state for its HTTP and gRPC calls, shown once in
 * mesh.state(), closed by the runtime. They judge a gRPC call with the HTTP classifier's eyes,
 * which is the gRPC verdict too: an answer (OK, NOT_FOUND…) comes up as a GrpcResponse, status
 * 200, and every failure as a rejection (status.ts).
 *
 * Fault injection sits above the balancer as on HTTP (grpc-fault.ts: unary calls get delays and
 * aborts, streams delays only). Not here: routes and subsets (routing-refusal.ts: refused, or reported).
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
import { deadlineLayer } from '../../resilience/deadline.ts';
import { retryLayer } from '../../resilience/retry.ts';
import { hedgeLayer } from '../../resilience/hedge.ts';
import { meshIdOf } from '../../telemetry/mesh-id.ts';
import { readOtelRegistry } from '../../telemetry/otel-state.ts';
import { GrpcAttemptService } from './attempt-transport.ts';
import { grpcFaultLayers } from './grpc-fault.ts';
import { GrpcResponse } from './grpc-request.ts';
import { classifyGrpc, outcomeOfGrpcError } from './status.ts';

export const grpcClassifier: Classifier<MeshResponse> = {
  classify: (response, error) => (response instanceof GrpcResponse ? classifyGrpc(response.status.code, true) : outcomeOfGrpcError(error)),
};

export interface GrpcStacks {
  readonly runtime: ServiceRuntime;
  /** The mesh's id on the diagnostics channels (telemetry/mesh-id.ts), looked up once per stack. */
  readonly mesh: number;
  readonly unary: Service;
  readonly stream: Service;
  readonly layers: readonly Layer[];
  /** The attempts at the bottom: their time limits' queue is retired with the stack. */
  readonly attempts: GrpcAttemptService;
  /** Whether a unary / a streaming call follows its caller's cancel through a signal: only when a layer may hold it (buildGrpcStacks). */
  readonly unaryCancel: boolean;
  readonly streamCancel: boolean;
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
  const { rateLimit, concurrency, breaker } = runtime.serviceWide;
  const attempts = new GrpcAttemptService(clock, policy.perTryTimeout, policy.retry === false ? 0 : policy.retry.maxRetryAfter);
  const balanced = balancerLayer(view.endpoints).wrap(attempts);
  const deadline = deadlineLayer(env);
  const retry = retryLayer(policy.retry, env, runtime.budget);
  // The HTTP stack's hedge layer, under the same budget: only calls marked idempotent race.
  const hedge = hedgeLayer(policy.hedge, env, runtime.budget, policy.retry === false);
  // Faults above the balancer as on HTTP; streams get the delay only (grpc-fault.ts). None configured: no layer.
  // The service's own fault layer (its HTTP stack's) for unary calls: one set of counts in mesh.state(). Not a routed
  // service's (a push routed it after the client was made: its layers are its route targets', from their policies).
  const shared = runtime.routes === undefined ? runtime.layers.find((layer) => layer.name === 'fault') : undefined;
  const faults = grpcFaultLayers(policy.fault, env, shared);
  const unaryBalanced = faults === undefined ? balanced : faults.unary.wrap(balanced);
  const streamBalanced = faults?.stream === undefined ? balanced : faults.stream.wrap(balanced);
  return {
    runtime,
    mesh: meshIdOf(events),
    unary: wrapAll([deadline, rateLimit, concurrency, breaker, retry, hedge], unaryBalanced),
    stream: wrapAll([deadline, breaker], streamBalanced),
    // This stack's own layers; the shared ones are the runtime's to close.
    layers: [deadline, retry],
    attempts,
    // A layer that may hold a call before its attempt must see the caller's cancel, or the cancelled call holds its place:
    // a hedge race, an injected delay, a concurrency queue, a global rate limit's Redis round trip (streams: the delay).
    unaryCancel: policy.hedge !== false || faults?.stream !== undefined || policy.concurrency !== false || (policy.rateLimit !== false && policy.rateLimit.scope === 'global'),
    streamCancel: faults?.stream !== undefined,
  };
}

/** Closes a replaced stack's layers once the runtime it was built from has no call in flight. */
export function retireGrpcStacks(stacks: GrpcStacks): void {
  void stacks.runtime.drained().then(() => {
    stacks.attempts.retire();
    return Promise.all(stacks.layers.map((layer) => layer.close?.()));
  });
}
