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
 */
import type { Layer, Service } from '../core/service.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import type { StackDeps } from './stack-deps.ts';
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

export type { StackDeps };

/**
 * The layers of one service's stack, outermost first. Each gets its own policy slice and the
 * shared objects it needs; the environment adds what belongs to the protocol this file
 * assembles (the HTTP classifier).
 */
export function clientLayers(deps: StackDeps): Layer[] {
  const { policy, budget } = deps;
  const env: LayerEnv = { service: policy.name, clock: deps.clock, events: deps.events, classifier: httpClassifier };
  return [
    // Outermost per-call layer: the deadline must bound everything below it, queueing for a
    // concurrency slot and retry backoff included, and it clips to the inbound deadline.
    deadlineLayer(env),
    // Admission before any work: a call refused for rate is never sent and never counted by
    // the breaker (shedding is not the dependency's failure).
    rateLimitLayer(policy.rateLimit, env),
    // Concurrency after the rate limit, so a rate-limited call never holds a slot.
    concurrencyLayer(policy.concurrency, env),
    // Breaker above retries: it judges logical calls (after retries did their best), so a
    // retried-and-recovered call does not trip it, and while open no attempt is made at all.
    breakerLayer(policy.breaker, env),
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

/** Builds the service a client calls: every layer wrapped around the HTTP transport. */
export function buildClientStack(layers: readonly Layer[]): Service {
  let service: Service = httpTransport;
  for (let i = layers.length - 1; i >= 0; i--) service = layers[i]!.wrap(service);
  return service;
}
