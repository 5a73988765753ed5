/**
 * The client stack, declared once, in request order, outermost first.
 *
 * Ordering rule: a layer sits above every layer whose effects it must see, and below every
 * layer whose decisions it must not undo. Each line says which.
 *
 * The layers above the retry layer run once per logical call; the layers below it run once
 * per attempt (retries and hedges make several attempts).
 *
 * A layer whose feature is not configured is absent: its `wrap` returns the inner service
 * itself, so it costs nothing per call (DESIGN §2). NOTE: three layers are the exception and
 * always wrap, because each carries something every call needs even with its own option off:
 * - deadline: with `timeout: false` the call may still serve an inbound request, whose
 *   deadline and cancellation it must be clipped to and linked with;
 * - attempt: with `perTryTimeout: false` (and even `timeout: false`) every attempt still
 *   carries the time it has left (`x-meshlet-timeout-ms`) and, on retries and hedges, its
 *   number (`x-meshlet-attempt`) to the next hop, and it is what undici gets as the
 *   attempt's signal (the caller's abort, the deadline);
 * - balancer: a call always needs an endpoint.
 * test/stack/client-stack.test.ts pins both the rule and the exception.
 *
 * Routing (DESIGN §2 step 2) comes first in a call, above the deadline, and lives outside
 * these layers, in front of them: a route may bring its own timeout, perTryTimeout and retry,
 * so the route must be known before the deadline is computed and before the layers that
 * honour them are chosen. A routed service therefore has one stack per route target, each built
 * from these same layers over its merged policy when the config is applied (never per call:
 * stack/route-target-stacks.ts), and the mesh picks the stack with the service's
 * routing/route-table.ts before it starts the call. The service-wide layers (rate limit,
 * concurrency limit, breaker) and the retry budget are the service's, made once and shared by
 * its targets' stacks; each target's balancer balances over its subset's view of the service's
 * one endpoint set (routing/subset-endpoints.ts). An unrouted service has no route table and
 * its calls take no routing step at all.
 */
import type { Layer, Service } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { ServiceWideLayers, StackDeps } from './stack-deps.ts';
import { deadlineLayer } from '../resilience/deadline.ts';
import { rateLimitLayer } from '../resilience/rate-limit.ts';
import { concurrencyLayer } from '../resilience/concurrency-limit.ts';
import { breakerLayer } from '../resilience/breaker.ts';
import { retryLayer } from '../resilience/retry.ts';
import { hedgeLayer } from '../resilience/hedge.ts';
import { faultLayer } from '../resilience/fault.ts';
import { balancerLayer } from '../balance/balancer-layer.ts';
import { attemptLayer } from '../resilience/attempt.ts';
import { httpTransport } from '../transport/http/transport.ts';
import { httpClassifier } from '../transport/http/classifier.ts';
import { observableStack } from '../telemetry/telemetry-stack.ts';

export type { ServiceWideLayers, StackDeps };

/**
 * The layers of one service's stack, outermost first. Each gets its own policy slice and the
 * shared objects it needs; the environment adds what belongs to the protocol this file
 * assembles (the HTTP classifier).
 */
export function clientLayers(deps: StackDeps): Layer[] {
  const { policy, budget } = deps;
  const env = layerEnv(deps);
  // A route target's stack takes the service's own admission and breaker layers (shared by
  // every target of the service: stack/route-target-stacks.ts); an unrouted stack makes them.
  const serviceWide = deps.serviceWide ?? serviceWideLayers(deps);
  return [
    // Outermost per-call layer: the deadline must bound everything below it, queueing for a
    // concurrency slot and retry backoff included, and it clips to the inbound deadline.
    deadlineLayer(env),
    // Admission before any work: a call refused for rate is never sent and never counted by
    // the breaker (shedding is not the dependency's failure).
    serviceWide.rateLimit,
    // Concurrency after the rate limit, so a rate-limited call never holds a slot.
    serviceWide.concurrency,
    // Breaker above retries: it judges logical calls (after retries did their best), so a
    // retried-and-recovered call does not trip it, and while open no attempt is made at all.
    serviceWide.breaker,
    // Retries above hedging and the balancer: each retry is a fresh pick, and it shares its
    // budget with hedges. Below it, everything runs once per attempt.
    retryLayer(policy.retry, env, budget),
    // Hedging inside one try: a speculative second attempt races the first. Without the retry
    // layer, it is the one that tells the budget of each call.
    hedgeLayer(policy.hedge, env, budget, policy.retry === false),
    // Faults above the balancer: an injected abort is retried like a real one, but it is not
    // held against a healthy endpoint by outlier ejection or its load metric.
    faultLayer(policy.fault, env),
    // Per-try timeout and the headers each attempt carries (deadline, attempt number). Above
    // the balancer: an attempt refused for a passed deadline is never charged to an endpoint.
    attemptLayer(policy.perTryTimeout, env),
    // Last: the balancer picks the endpoint, hands the attempt to the transport and accounts
    // its latency and outcome (EWMA, in-flight, outlier ejection) when the transport reports
    // the end, per-try timeouts included.
    balancerLayer(deps.endpoints),
  ];
}

/** What every layer of a service's stacks is given: the service, the mesh's clock and events, the protocol's classifier. */
export function layerEnv(deps: Pick<StackDeps, 'policy' | 'clock' | 'events'>): LayerEnv {
  return { service: deps.policy.name, clock: deps.clock, events: deps.events, classifier: httpClassifier };
}

/** The layers whose state belongs to the service, not to one route (DESIGN §2): rate limit, concurrency limit, breaker. */
export function serviceWideLayers(deps: Pick<StackDeps, 'policy' | 'clock' | 'events'>): ServiceWideLayers {
  const env = layerEnv(deps);
  return {
    rateLimit: rateLimitLayer(deps.policy.rateLimit, env),
    concurrency: concurrencyLayer(deps.policy.concurrency, env),
    breaker: breakerLayer(deps.policy.breaker, env),
  };
}

/**
 * Builds the service a client calls: every layer wrapped around the HTTP transport. With the
 * stack's environment (`deps`: what the mesh builds from), telemetry joins it as the
 * outermost layer, logical span and call metrics above the deadline so they time the whole
 * call, and as the last one before the transport, the attempt span below the balancer, where
 * the endpoint is known (telemetry/telemetry-stack.ts: both pass calls through untouched while
 * nobody observes). Without it (layer tests), the bare chain.
 */
export function buildClientStack(layers: readonly Layer[], deps?: Pick<StackDeps, 'policy' | 'clock' | 'events'>): Service {
  if (deps !== undefined) return observableStack(layers, layerEnv(deps), httpTransport);
  let service: Service = httpTransport;
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.wrap(service);
  return service;
}
