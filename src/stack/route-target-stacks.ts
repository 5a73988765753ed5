/**
 * A routed service's stacks, one per route target, built when the config is applied (DESIGN
 * §2; the routing step itself is described in client-stack.ts's header). Each is the declared
 * client stack (clientLayers) over the service policy merged with its route's overrides
 * (timeout, perTryTimeout, retry tries and conditions), balancing over its target's view of the
 * endpoints (routing/subset-endpoints.ts). What is the service's is made once and shared by
 * every target's stack: the rate limit, concurrency limit and breaker (stack/shared-layer.ts),
 * the retry budget, and the endpoint sets (load statistics, ejections). Targets with the same
 * overrides, subset and failover share one stack. From a target's resolution (a Consul
 * service-resolver) come its DefaultSubset, its Failover (after the route's own), its
 * RequestTimeout (under the route's own timeout) and its LoadBalancer.
 */
import type { Clock } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { Layer, Service } from '../core/service.ts';
import type { EndpointSource } from '../balance/endpoint-source.ts';
import type { EndpointSet } from '../balance/endpoint-set.ts';
import { DEFAULT_RETRY } from '../config/defaults.ts';
import type { ServicePolicy } from '../config/policy.ts';
import type { RetryBudget } from '../resilience/retry-budget.ts';
import type { RouteDefinition, RouteTarget, RoutingModel, TargetRef } from '../routing/route-types.ts';
import { type RequestRewrite, type ResponseRewrite, requestRewriteFor, responseRewriteFor } from '../routing/request-rewrite.ts';
import { RouteTable } from '../routing/route-table.ts';
import { Router } from '../routing/router.ts';
import { compileSubsets, type Subset } from '../routing/subset.ts';
import { type ChainEntry, SubsetEndpoints } from '../routing/subset-endpoints.ts';
import { buildClientStack, clientLayers, type ServiceWideLayers, serviceWideLayers } from './client-stack.ts';
import { shareServiceWide } from './shared-layer.ts';
import { stackForRoute } from '../telemetry/telemetry-stack.ts';

/** What a call on one target runs on: the stack, the merged policy its deadline comes from, and what the route changes about it. */
export interface TargetStack {
  readonly policy: ServicePolicy;
  readonly stack: Service;
  /** The request as the target gets it (path rewrite, header changes); absent: the caller's as it is. */
  readonly rewrite?: RequestRewrite | undefined;
  /** The response header changes; absent: none. */
  readonly respond?: ResponseRewrite | undefined;
}

export interface RouteStackDeps {
  readonly policy: ServicePolicy;
  readonly model: RoutingModel;
  readonly clock: Clock;
  readonly events: MeshEventEmitter;
  /** This service's endpoints (a config change may replace its set). */
  readonly endpoints: EndpointSource;
  /** Another service's endpoints as they are now, for targets and failovers naming it. */
  readonly sourceOf: (service: string) => EndpointSource | undefined;
  readonly budget: RetryBudget;
}

export class RouteTargetStacks {
  readonly table: RouteTable<TargetStack>;
  /** Every layer once (the shared ones once, not per target): for state, stopAdmitting and close. */
  readonly layers: readonly Layer[];
  /** The shared layers, whose state is the service's. */
  readonly serviceWide: readonly Layer[];
  /** The same, by role: what the service's other stacks (a gRPC client's) enter too. */
  readonly wide: ServiceWideLayers;

  /** Throws MESH_CONFIG_INVALID when a subset cannot be compiled (validation has checked them already). */
  constructor(deps: RouteStackDeps) {
    const { policy, model } = deps;
    const serviceWide = shareServiceWide(serviceWideLayers(deps));
    this.serviceWide = [serviceWide.rateLimit, serviceWide.concurrency, serviceWide.breaker];
    this.wide = serviceWide;
    const shared = new Set<Layer>(this.serviceWide);
    const layers: Layer[] = [...this.serviceWide];
    const subsets = new Map<string, ReadonlyMap<string, Subset>>();
    for (const [service, resolution] of Object.entries(model.resolutions)) subsets.set(service, compileSubsets(resolution.subsets, `services.${service}.subsets`));
    // A target without a subset takes its service's default subset (a Consul resolver's DefaultSubset).
    const subsetOf = (ref: TargetRef): string | undefined => ref.subset ?? model.resolutions[ref.service]?.defaultSubset;
    const entryOf = (ref: TargetRef): ChainEntry => {
      const source = ref.service === policy.name ? deps.endpoints : undefined;
      const subset = subsetOf(ref);
      return {
        label: subset === undefined ? ref.service : `${ref.service}/${subset}`,
        set: (): EndpointSet | undefined => (source ?? deps.sourceOf(ref.service))?.current as EndpointSet | undefined,
        subset: subset === undefined ? undefined : subsets.get(ref.service)?.get(subset),
      };
    };
    // The route's own failover first, then the target's resolution's: its subset's list, else `*`.
    const failoverOf = (target: TargetRef, route: RouteDefinition): readonly TargetRef[] => {
      const resolved = model.resolutions[target.service]?.failover ?? {};
      const own = resolved[subsetOf(target) ?? ''] ?? resolved['*'] ?? [];
      return [...(route.failover ?? []), ...own];
    };
    const byKey = new Map<string, { stack: TargetStack; view: SubsetEndpoints }>();
    const serve = (target: RouteTarget, route: RouteDefinition) => {
      const failover = failoverOf(target, route);
      const resolution = model.resolutions[target.service];
      const targetPolicy = mergedPolicy(policy, route, resolution?.requestTimeout);
      const key = JSON.stringify([target.service, target.subset ?? null, failover, targetPolicy === policy ? null : [targetPolicy.timeout, targetPolicy.perTryTimeout, targetPolicy.retry]]);
      let built = byKey.get(key);
      if (built === undefined) {
        const view = new SubsetEndpoints(policy.name, [target, ...failover].map(entryOf), resolution?.balancer ?? policy.balancer, deps.clock, deps.events);
        const targetLayers = clientLayers({ policy: targetPolicy, clock: deps.clock, events: deps.events, endpoints: { current: view }, budget: deps.budget, serviceWide });
        for (const layer of targetLayers) if (!shared.has(layer)) layers.push(layer);
        built = { stack: { policy: targetPolicy, stack: buildClientStack(targetLayers, { policy: targetPolicy, clock: deps.clock, events: deps.events }) }, view };
        byKey.set(key, built);
      }
      const { stack, view } = built;
      const rewrite = requestRewriteFor(route, target);
      const respond = responseRewriteFor(route, target);
      // Telemetry names the route a call took and its target's subset (target stacks are shared by routes).
      const named = stackForRoute(stack.stack, route.name, subsetOf(target));
      const served: TargetStack = rewrite === undefined && respond === undefined && named === stack.stack ? stack : { ...stack, stack: named, rewrite, respond };
      return { served, servedBy: () => view.servedBy, failoverPicks: () => view.failoverPicks };
    };
    const table = new RouteTable(new Router(model), (target, index) => serve(target, model.routes[index]!));
    this.table = table;
    this.layers = layers;
  }
}

/**
 * The service policy with a route's overrides: its timeout (else its target resolution's
 * request timeout, a Consul resolver's RequestTimeout), perTryTimeout, and retry tries and conditions.
 */
export function mergedPolicy(policy: ServicePolicy, route: RouteDefinition, requestTimeout?: number): ServicePolicy {
  const timeout = route.timeout ?? requestTimeout;
  if (timeout === undefined && route.perTryTimeout === undefined && route.retry === undefined) return policy;
  const retry = route.retry === undefined ? policy.retry : { ...(policy.retry === false ? DEFAULT_RETRY : policy.retry), attempts: route.retry.attempts, on: route.retry.on };
  return Object.freeze({
    ...policy,
    timeout: timeout ?? policy.timeout,
    perTryTimeout: route.perTryTimeout ?? policy.perTryTimeout,
    retry,
  });
}
